"""A deadline queue with O(1) insertion, for TTLs and timers alike.

Most items arrive in due order (a TTL of the same length armed as event time
moves on), so they go on a lane: two deques, appended and popped at the ends,
no object per item. An item earlier than the lane's last goes into one-second
buckets, with a small heap ordering the non-empty buckets. A heap over every
item would cost O(log n) per insertion, which shows at a million open
expectations; the bucket heap stays tiny.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import deque
from collections.abc import Hashable
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

    __slots__ = ("_buckets", "_heap", "_lane_dues", "_lane_items", "next_due")

    def __init__(self) -> None:
        self._lane_dues: deque[float] = deque()
        self._lane_items: deque[T] = deque()
        self._buckets: dict[int, list[tuple[float, T]]] = {}
        self._heap: list[int] = []
        #: the exact earliest due time (inf when empty): "nothing due" is one compare
        self.next_due = math.inf

    def add(self, due: float, item: T) -> None:
        if due < self.next_due:
            self.next_due = due
        dues = self._lane_dues
        if not dues or due >= dues[-1]:
            dues.append(due)
            self._lane_items.append(item)
            return
        slot = _floor(due)
        bucket = self._buckets.get(slot)
        if bucket is None:
            self._buckets[slot] = [(due, item)]
            heapq.heappush(self._heap, slot)
        else:
            bucket.append((due, item))

    def pop_due(self, now: float) -> list[tuple[float, T]]:
        """``(due, item)`` of the items due at or before ``now``, in due order (ties
        in a fixed order). The owner checks each inline: no call per item."""
        if self.next_due > now:
            return []
        ready: list[tuple[float, T]] = []
        dues, items = self._lane_dues, self._lane_items
        while dues and dues[0] <= now:
            ready.append((dues.popleft(), items.popleft()))
        heap, buckets = self._heap, self._buckets
        from_buckets = False
        while heap and heap[0] <= now:
            from_buckets = True
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
        if from_buckets:
            ready.sort(key=_due)  # lane and buckets interleave
        if heap:
            self.next_due = self._earliest()
        else:  # the usual case: the lane alone
            self.next_due = dues[0] if dues else math.inf
        return ready

    def pop_lapsed(self, now: float, ttl: float) -> list[tuple[float, T]]:
        """``(made, item)`` of the items queued by the time they were made whose
        ``made + ttl <= now``, in order: a queue of one TTL length holds the times the
        owner holds anyway, not a new float per item. The bound handed to ``pop_due``
        is a few ulps past ``now - ttl`` (its rounding may differ from ``made + ttl``'s);
        what that brings early goes back."""
        if self.next_due + ttl > now:  # the earliest made has not lapsed: none has
            return []
        bound = now - ttl + 4 * math.ulp(abs(now) + abs(ttl))
        ready = self.pop_due(bound)
        if ready and ready[-1][0] + ttl > now:
            early = [(made, item) for made, item in ready if made + ttl > now]
            ready = [(made, item) for made, item in ready if made + ttl <= now]
            for made, item in early:
                self.add(made, item)
        return ready

    def _earliest(self) -> float:
        earliest = self._lane_dues[0] if self._lane_dues else math.inf
        if self._heap:
            head = self._buckets[self._heap[0]]
            head.sort(key=_due)
            earliest = min(earliest, head[0][0])
        return earliest

    def peek(self) -> float | None:
        """The earliest due time queued (possibly of an item no longer wanted)."""
        return None if self.next_due == math.inf else self.next_due

    def __len__(self) -> int:
        return len(self._lane_dues) + sum(len(b) for b in self._buckets.values())
