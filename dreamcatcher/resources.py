"""The data this program ships: the rule pack and the demo days (package data)."""

from __future__ import annotations

from pathlib import Path

from adapters.packagedata import package_folder

RULE_PACK = "dreamcatcher.rulepack"
DEMO_DATA = "dreamcatcher.demodata"
DEMO_DAYS = ("bad-day", "quiet-day")


def shipped_rules() -> Path:
    """The folder of the shipped rule pack (each rule with its ``.test.yaml``)."""
    return package_folder(RULE_PACK)


def demo_day(day: str) -> list[Path]:
    """Every file of one bundled day, in name order (replay merges them by time): the
    notifications, the raw log files and the host facts, as replay of the folder reads
    them (a subfolder, such as the host-facts recording waiting for its reader, is not
    an input; ``dreamcatcher.demodata.sources`` says how each file reaches a live worker)."""
    if day not in DEMO_DAYS:
        raise ValueError(f"no demo day {day!r}; known: {', '.join(DEMO_DAYS)}")
    folder = package_folder(DEMO_DATA, day)
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
