"""The shipped rule pack, installed as package data ``dreamcatcher.rulepack``.

Only the YAML here is read (``dreamcatcher.resources.shipped_rules``); this file
makes the folder a package so ``importlib.resources`` finds it in a wheel.
"""
