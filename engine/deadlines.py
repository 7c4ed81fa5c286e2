"""A deadline queue with O(1) insertion, for TTLs and timers alike.

Items go into one-second buckets; a small heap orders the non-empty buckets.
A heap over every item would cost O(log n) per insertion, which shows at a
million open expectations; the bucket heap stays tiny.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


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
        slot = math.floor(due)
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
        heap = self._heap
        out: list[tuple[float, int, T]] = []
        seq = 0
        while heap and heap[0] <= now:
            slot = heapq.heappop(heap)
            bucket = self._buckets.pop(slot)
            keep: list[tuple[float, T]] = []
            for due, item in bucket:
                if due <= now:
                    if still_due is None or still_due(item, due):
                        out.append((due, seq, item))
                        seq += 1
                else:
                    keep.append((due, item))
            if keep:
                self._buckets[slot] = keep
                heapq.heappush(heap, slot)
                break
        self.next_due = min(due for due, _ in self._buckets[heap[0]]) if heap else math.inf
        out.sort(key=lambda entry: (entry[0], entry[1]))
        return [item for _, _, item in out]

    def has_due(self, now: float) -> bool:
        """Cheap test before ``pop_due``: is anything due at or before ``now``?"""
        return self.next_due <= now

    def peek(self) -> float | None:
        """The earliest due time queued (possibly of an item no longer wanted)."""
        return None if self.next_due == math.inf else self.next_due

    def __len__(self) -> int:
        return sum(len(b) for b in self._buckets.values())
