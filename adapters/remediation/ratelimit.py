"""Sliding-window rate limits per hook and per target, on the firing's event time.

Event time keeps a replay's dry-run faithful to what live would have done; the
clock never goes backwards (a late or forged timestamp counts as "now"), so an
old event cannot slip past a limit.
"""

from __future__ import annotations

import threading
from collections import deque

from adapters.remediation.config import RateLimit


class RateLimiter:
    """``admit(keys, now)`` takes one slot in every window, or none if any is full."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._windows: dict[str, tuple[RateLimit, deque[float]]] = {}
        self._now = float("-inf")
        self._lock = threading.Lock()
        self.max_keys = max_keys

    def admit(self, limits: list[tuple[str, RateLimit]], now: float) -> str | None:
        """None when admitted, else the key whose limit is reached."""
        with self._lock:
            self._now = now = max(now, self._now)
            for key, limit in limits:
                if key not in self._windows:
                    continue
                window = self._windows[key][1]
                while window and window[0] <= now - limit.per:
                    window.popleft()
                if len(window) >= limit.count:
                    return key
            for key, limit in limits:
                self._windows.setdefault(key, (limit, deque()))[1].append(now)
            if len(self._windows) > self.max_keys:  # forget windows whose slots all expired
                self._windows = {k: (lim, w) for k, (lim, w) in self._windows.items()
                                 if w and w[-1] > now - lim.per}
            return None
