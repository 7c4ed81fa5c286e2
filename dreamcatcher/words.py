"""Counts in words, shared by the progress line and the summary ("1 alert", "2 alerts")."""

from __future__ import annotations

_IRREGULAR = {"entry": "entries", "delivery": "deliveries"}


def plural(n: int, word: str) -> str:
    """``1 alert``, ``2 alerts``, ``1,394 events``, ``1 failed delivery``."""
    if n == 1:
        return f"{n:,} {word}"
    head, _, last = word.rpartition(" ")
    many = _IRREGULAR.get(last, last + "s")
    return f"{n:,} {head + ' ' if head else ''}{many}"
