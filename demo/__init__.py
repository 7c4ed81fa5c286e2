"""The bundled demo days, installed as package data ``dreamcatcher.demodata``.

``dreamcatcher demo`` replays ``bad-day/`` or ``quiet-day/``
(``dreamcatcher.resources.demo_day``); ``generate.py`` rebuilds them; ``sources.py``
says how each file reaches a live worker and merges a day's inputs by time
(``demo_timeline``).
"""
