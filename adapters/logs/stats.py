"""Counting what no parser understood, so the operator sees gaps without errors.

An unknown line is never an error: it is counted per origin and a bounded
sample is kept for ``dreamcatcher listen --unparsed`` style inspection.
"""

from __future__ import annotations

import threading
from collections import Counter, deque

#: The reason a log line over the stream's ``max_line`` was cut (and still parsed).
LINE_CUT = "line cut"


class UnparsedStats:
    """Per-origin counters of unparsed and deliberately ignored lines, with a sample."""

    def __init__(self, sample_size: int = 100) -> None:
        self.unparsed: Counter[str] = Counter()
        self.ignored: Counter[str] = Counter()
        self.parsed: Counter[str] = Counter()
        #: (origin, reason) of input cut or refused at a bound (``LINE_CUT``, syslog's)
        self.limited: Counter[tuple[str, str]] = Counter()
        self.samples: deque[tuple[str, str]] = deque(maxlen=sample_size)
        self._lock = threading.Lock()

    def miss(self, origin: str, line: str) -> None:
        """A line no parser knows: count it and keep it in the rolling sample."""
        with self._lock:
            self.unparsed[origin] += 1
            self.samples.append((origin, line))

    def ignore(self, origin: str) -> None:
        """A line known to carry nothing (traceback frame, banner): count only."""
        with self._lock:
            self.ignored[origin] += 1

    def limit(self, origin: str, reason: str) -> None:
        """Input cut or refused at a bound (a short fixed ``reason``: a metric label)."""
        with self._lock:
            self.limited[(origin, reason)] += 1

    def limits(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self.limited)

    def hit(self, origin: str, n: int = 1) -> None:
        with self._lock:
            self.parsed[origin] += n

    def sample(self, origin: str | None = None) -> list[str]:
        """The kept unparsed lines, optionally for one origin only."""
        with self._lock:
            return [line for o, line in self.samples if origin is None or o == origin]

    @property
    def total_unparsed(self) -> int:
        return sum(self.unparsed.values())

    def as_dict(self) -> dict[str, dict[str, int]]:
        with self._lock:
            origins = set(self.unparsed) | set(self.ignored) | set(self.parsed)
            return {
                o: {
                    "parsed": self.parsed[o],
                    "ignored": self.ignored[o],
                    "unparsed": self.unparsed[o],
                }
                for o in sorted(origins)
            }
