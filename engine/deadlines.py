"""A deadline queue with O(1) insertion, for TTLs and timers alike.

Items go into one-second buckets; a small heap orders the non-empty buckets.
A heap over every item would cost O(log n) per insertion, which shows at a
million open expectations; the bucket heap stays tiny.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Callable, Hashable
from operator import itemgetter
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)
_due = itemgetter(0)
_floor = math.floor


class DeadlineQueue(Generic[T]):
    """Items with a due time; ``pop_due`` hands back those whose time has come.

    The queue does not know whether an item is still wanted: the owner checks
    that (an entry refreshed with a later TTL, a cancelled timer) when popped.
    """

    __slots__ = ("_buckets", "_heap", "next_due")

    def __init__(self) -> None:
        self._buckets: dict[int, list[tuple[float, T]]] = {}
        self._heap: list[int] = []
        #: the exact earliest due time (inf when empty): "nothing due" is one compare
        self.next_due = math.inf

    def add(self, due: float, item: T) -> None:
        if due < self.next_due:
            self.next_due = due
        slot = _floor(due)
        bucket = self._buckets.get(slot)
        if bucket is None:
            self._buckets[slot] = [(due, item)]
            heapq.heappush(self._heap, slot)
        else:
            bucket.append((due, item))

    def pop_due(self, now: float, still_due: Callable[[T, float], bool] | None = None) -> list[T]:
        """Items due at or before ``now``, in due order (ties in insertion order)."""
        if self.next_due > now:
            return []
        heap, buckets = self._heap, self._buckets
        ready: list[tuple[float, T]] = []
        while heap and heap[0] <= now:
            bucket = buckets[heap[0]]
            bucket.sort(key=_due)  # stable, and nearly sorted after the first time
            if bucket[-1][0] <= now:
                ready.extend(bucket)
                del buckets[heapq.heappop(heap)]
            else:
                cut = bisect.bisect_right(bucket, now, key=_due)
                ready.extend(bucket[:cut])
                del bucket[:cut]
                break
        if heap:
            head = buckets[heap[0]]
            head.sort(key=_due)
            self.next_due = head[0][0]
        else:
            self.next_due = math.inf
        if still_due is None:
            return [item for _, item in ready]
        return [item for due, item in ready if still_due(item, due)]

    def has_due(self, now: float) -> bool:
        """Cheap test before ``pop_due``: is anything due at or before ``now``?"""
        return self.next_due <= now

    def peek(self) -> float | None:
        """The earliest due time queued (possibly of an item no longer wanted)."""
        return None if self.next_due == math.inf else self.next_due

    def __len__(self) -> int:
        return sum(len(b) for b in self._buckets.values())
