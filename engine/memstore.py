"""The in-memory state store: the default, and the reference for the contract.

A worker holds a million open expectations for hours, so an entry is an
immutable (value, expiry) pair and a dedup mark is a bare float: no mutable
container per entry for every full garbage collection to walk again.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from engine.deadlines import DeadlineQueue
from engine.store import R, StateStore, Updater

_FOREVER = float("inf")
_due_of = itemgetter(1)


class MemoryStore(StateStore):
    """Dicts and deadline queues; single-threaded, so every op is atomic."""

    def __init__(self) -> None:
        # key -> (value, expires at): one lookup reads both, and an immutable
        # pair of plain values drops out of the garbage collector's walks
        self._data: dict[str, tuple[Any, float]] = {}
        self._marks: dict[str, float] = {}  # add_once marks -> when they lapse
        # one queue per TTL length: each then sees its deadlines mostly in order
        self._ttls: dict[float, DeadlineQueue[str]] = {}
        # a set's one member is kept bare: a set object costs 216 bytes and an allocation
        self._sets: dict[str, str | set[str]] = {}
        self._timers: dict[str, tuple[float, Any]] = {}
        # one queue per payload (the rule that armed it): each rule's deadlines are
        # one length after its events, so they arrive in due order and stay on a lane
        self._timer_queues: dict[Any, DeadlineQueue[str]] = {}
        self.due_hint = _FOREVER  # the earliest due in those queues, kept in step

    def add_once(self, key: str, ttl: float, now: float) -> bool:
        marks = self._marks
        lapses = marks.get(key)
        if lapses is not None and lapses > now:
            return False
        lapses = now + ttl
        marks[key] = lapses
        self._arm(key, ttl, lapses)
        return True

    def _arm(self, key: str, ttl: float, expires: float) -> None:
        queue = self._ttls.get(ttl)
        if queue is None:
            queue = self._ttls[ttl] = DeadlineQueue()
        queue.add(expires, key)

    def get(self, key: str) -> Any:
        entry = self._data.get(key)
        return None if entry is None else entry[0]

    def put(self, key: str, value: Any, ttl: float | None, now: float) -> None:
        if ttl is None:
            self._data[key] = (value, _FOREVER)
        else:
            expires = now + ttl
            self._data[key] = (value, expires)
            self._arm(key, ttl, expires)

    def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def update(self, key: str, fn: Updater[R], ttl: float | None, now: float,
               arg: Any = None) -> R:
        data = self._data
        entry = data.get(key)
        new, result = fn(None if entry is None or entry[1] <= now else entry[0], arg)
        if new is None:
            if entry is not None:
                del data[key]
        elif ttl is None:
            data[key] = (new, _FOREVER)
        elif entry is not None and entry[1] >= now + ttl:
            data[key] = (new, entry[1])  # the TTL already reaches as far: no re-arming
        else:
            expires = now + ttl
            data[key] = (new, expires)
            self._arm(key, ttl, expires)
        return result

    def set_add(self, key: str, member: str) -> None:
        sets = self._sets
        members = sets.get(key)
        if members is None:
            sets[key] = member  # most indexed values (a MAC, a volume) have one member
        elif isinstance(members, str):
            if members != member:
                sets[key] = {members, member}
        else:
            members.add(member)

    def set_remove(self, key: str, member: str) -> None:
        sets = self._sets
        members = sets.get(key)
        if members is None:
            return
        if isinstance(members, str):
            if members == member:
                del sets[key]
            return
        members.discard(member)
        if len(members) == 1:
            sets[key] = next(iter(members))
        elif not members:
            del sets[key]

    def set_members(self, key: str) -> list[str]:
        members = self._sets.get(key)
        if members is None:
            return []
        return [members] if isinstance(members, str) else sorted(members)

    def schedule(self, timer_id: str, due: float, payload: Any) -> None:
        self._timers[timer_id] = (due, payload)
        owner = payload if isinstance(payload, str) else None
        queue = self._timer_queues.get(owner)
        if queue is None:
            queue = self._timer_queues[owner] = DeadlineQueue()
        queue.add(due, timer_id)
        if due < self.due_hint:
            self.due_hint = due

    def cancel(self, timer_id: str) -> None:
        self._timers.pop(timer_id, None)

    def pop_due(self, now: float) -> list[tuple[str, float, Any]]:
        if self.due_hint > now:
            return []
        timers = self._timers
        out: list[tuple[str, float, Any]] = []
        earliest, sources = _FOREVER, 0
        for queue in self._timer_queues.values():
            if queue.next_due <= now:
                sources += 1
                for due, timer_id in queue.pop_due(now):
                    # claimed here, so an id armed twice for the same time fires once
                    current = timers.get(timer_id)
                    if current is not None and current[0] == due:  # not cancelled nor moved
                        del timers[timer_id]
                        out.append((timer_id, due, current[1]))
            if queue.next_due < earliest:
                earliest = queue.next_due
        self.due_hint = earliest
        if sources > 1:
            out.sort(key=_due_of)  # stable: ties keep the queues' order
        return out

    def next_due(self) -> float | None:
        return None if self.due_hint == _FOREVER else self.due_hint

    def expire(self, now: float) -> int:
        data, marks = self._data, self._marks
        dropped = 0
        for queue in self._ttls.values():
            for due, key in queue.pop_due(now):
                # the queue may hold an older deadline of a key refreshed since
                entry = data.get(key)
                if entry is not None and entry[1] == due:
                    del data[key]
                    dropped += 1
                if marks.get(key) == due:
                    del marks[key]
                    dropped += 1
        return dropped

    def size(self) -> dict[str, int]:
        return {"keys": len(self._data) + len(self._marks), "sets": len(self._sets),
                "timers": len(self._timers)}
