"""Sliding-window rate limits per hook and per target, on the firing's event time.

Event time keeps a replay's dry-run faithful to what live would have done; the
clock never goes backwards (a late or forged timestamp counts as "now"), so an
old event cannot slip past a limit.

Cost: O(1) amortized per firing, memory bounded by the windows still able to
refuse something. The clock only moves forward, so among windows of the same
length the one touched longest ago lapses first: each length keeps its windows
in an ordered dict by last slot taken, and each call drops the lapsed ones from
its front. (A sweep of every window past a size cap, as before, cost 220 ms a
firing once 100,000 targets were live, and dropped nothing while they were.)
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque

from adapters.remediation.config import RateLimit

_Window = tuple[RateLimit, deque[float]]


class RateLimiter:
    """``admit(keys, now)`` takes one slot in every window, or none if any is full."""

    def __init__(self) -> None:
        self._windows: dict[str, _Window] = {}
        #: per window length, the keys by the time of their last slot (oldest first)
        self._by_length: dict[float, OrderedDict[str, None]] = {}
        self._now = float("-inf")
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Windows held: those with a slot younger than their length."""
        return len(self._windows)

    def admit(self, limits: list[tuple[str, RateLimit]], now: float) -> str | None:
        """None when admitted, else the key whose limit is reached."""
        with self._lock:
            self._now = now = max(now, self._now)
            self._forget_lapsed(now)
            windows = self._windows
            for key, limit in limits:
                entry = windows.get(key)
                if entry is None:
                    if limit.count <= 0:  # "0/1h": never (not "once, then never")
                        return key
                    continue
                window = entry[1]
                while window and window[0] <= now - limit.per:
                    window.popleft()
                if len(window) >= limit.count:
                    return key
            for key, limit in limits:
                entry = windows.get(key)
                if entry is None:
                    entry = windows[key] = (limit, deque())
                entry[1].append(now)
                order = self._by_length.get(entry[0].per)
                if order is None:
                    order = self._by_length[entry[0].per] = OrderedDict()
                order[key] = None
                order.move_to_end(key)
            return None

    def _forget_lapsed(self, now: float) -> None:
        """Drop the windows whose every slot is older than their length: they refuse
        nothing any more (each is dropped once, so this is O(1) amortized)."""
        windows = self._windows
        for per, order in self._by_length.items():
            while order:
                key = next(iter(order))
                slots = windows[key][1]  # emptied by a check that then refused: lapsed
                if slots and slots[-1] > now - per:
                    break
                del order[key]
                del windows[key]
