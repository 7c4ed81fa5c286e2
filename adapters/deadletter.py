"""Where input that cannot be decoded or normalized goes, with the reason.

Bad input must never crash a worker and never vanish: it is written here (a
JSON-lines file) and counted, so an operator can look at it and replay it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import orjson


class DeadLetters:
    """Append-only JSON-lines dead-letter file (or stream), thread-safe, counted."""

    def __init__(self, target: Path | TextIO | None) -> None:
        self._target = target
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.kept: list[dict[str, Any]] = []  # when no target is given (tests, embedded)
        #: told ``(origin, reason)`` of each rejection (the live worker's metrics)
        self.on_put: Callable[[str, str], None] | None = None

    def put(self, origin: str, raw: Any, reason: str) -> None:
        """Keep one rejected input with where it came from and why."""
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", errors="replace")
        record = {
            "time": datetime.now(UTC).isoformat(),
            "origin": origin,
            "reason": reason,
            "raw": raw,
        }
        line = orjson.dumps(record, default=str).decode() + "\n"
        with self._lock:
            self.counts[origin] += 1
            if self._target is None:
                self.kept.append(record)
            elif isinstance(self._target, Path):
                with self._target.open("a", encoding="utf-8") as fh:
                    fh.write(line)
            else:
                self._target.write(line)
                self._target.flush()
        if self.on_put is not None:
            self.on_put(origin, reason)

    @property
    def total(self) -> int:
        return sum(self.counts.values())
