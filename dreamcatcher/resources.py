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
    """The files of one bundled day, in name order (replay merges them by time)."""
    if day not in DEMO_DAYS:
        raise ValueError(f"no demo day {day!r}; known: {', '.join(DEMO_DAYS)}")
    return sorted(p for p in package_folder(DEMO_DATA, day).iterdir() if p.suffix == ".jsonl")
