"""The bundled demo days, installed as package data ``dreamcatcher.demodata``.

``dreamcatcher demo`` replays ``bad-day/`` or ``quiet-day/``
(``dreamcatcher.resources.demo_day``); ``generate.py`` rebuilds them.
"""
