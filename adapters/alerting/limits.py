"""Field limits, enforced in one place for every sink and the remediation hooks.

A rule's templates render tenant text (instance names, console output) into
titles, texts, labels and action arguments, and a count window can carry
thousands of event ids, so any of them can be a megabyte. Each sink holds a
``FieldLimits`` and passes what it sends through it: ``bound`` for a JSON
document (webhook, JSON lines, an Alertmanager body), ``text`` for one field
escaped for a dialect (terminal, chat, Alertmanager). What is cut ends with a
marker saying how much was dropped (``escape.MARKER``), and ``cut`` counts the
fields cut, for the router's per-sink stats.
"""

from __future__ import annotations

import threading
from typing import Any

from adapters.alerting.escape import Dialect, escape, escape_limited, truncate

#: the documented default for a field (docs/actions.md, docs/limits.md)
MAX_FIELD = 16384
#: list items kept (event ids of a count window, fact ids of a "many" join)
MAX_ITEMS = 1000
ITEMS_MARKER = "… [truncated {n} items]"


class FieldLimits:
    """Per-field limits of one sink (or of the hooks), and how many fields it cut."""

    def __init__(self, max_field: int = MAX_FIELD, max_items: int = MAX_ITEMS) -> None:
        if max_field < 64 or max_items < 1:
            raise ValueError(f"field limits too small: max_field {max_field} (>= 64), "
                             f"max_items {max_items} (>= 1)")
        self.max_field = max_field
        self.max_items = max_items
        self.cut = 0
        self._lock = threading.Lock()  # sinks run on their own threads; hooks on the caller's

    def _count(self, n: int = 1) -> None:
        with self._lock:
            self.cut += n

    def bound(self, value: Any) -> Any:
        """A copy of a JSON-able ``value`` with every string (keys too) at most
        ``max_field`` characters and every list at most ``max_items`` items (the
        last one a marker saying how many were dropped)."""
        cut = [0]
        out = self._bound(value, cut)
        if cut[0]:
            self._count(cut[0])
        return out

    def _bound(self, value: Any, cut: list[int]) -> Any:
        if isinstance(value, str):
            if len(value) <= self.max_field:
                return value
            cut[0] += 1
            return truncate(value, self.max_field)
        if isinstance(value, dict):
            return {self._bound(k, cut) if isinstance(k, str) else k: self._bound(v, cut)
                    for k, v in value.items()}
        if isinstance(value, list | tuple):
            items = [self._bound(v, cut) for v in value[:self.max_items]]
            if len(value) > self.max_items:
                cut[0] += 1
                items[-1] = ITEMS_MARKER.format(n=len(value) - self.max_items + 1)
            return items
        return value

    def text(self, text: str, dialect: Dialect, limit: int | None = None, *,
             single_line: bool = False) -> str:
        """``text`` escaped for ``dialect`` within ``limit`` (default ``max_field``)
        characters, never more than ``max_field``; a cut is counted."""
        cap = self.max_field if limit is None else min(limit, self.max_field)
        full = escape(text, dialect, single_line=single_line)
        if len(full) <= cap:
            return full
        self._count()
        return escape_limited(text, dialect, cap, single_line=single_line)

    def oversized(self, value: Any, path: str = "") -> str | None:
        """The path of the first string or list in ``value`` over the limits, or None:
        for arguments that must be refused rather than cut (a hook's)."""
        if isinstance(value, str):
            return (path or "value") if len(value) > self.max_field else None
        if isinstance(value, dict):
            for k, v in value.items():
                found = self.oversized(v, f"{path}.{k}" if path else str(k))
                if found is not None:
                    return found
            return None
        if isinstance(value, list | tuple):
            if len(value) > self.max_items:
                return path or "value"
            for i, v in enumerate(value):
                found = self.oversized(v, f"{path}[{i}]")
                if found is not None:
                    return found
        return None
