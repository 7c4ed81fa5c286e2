"""The in-memory state store: the default, and the reference for the contract.

A worker holds a million open expectations for hours, so an entry is one
immutable tuple and a dedup mark is a bare float: no mutable container per
entry for every full garbage collection to walk again, and no object more than
needed. An entry is ``(expires, *value)`` when the value is a tuple of two or
more (the operators' states: one tuple, not a pair holding a tuple), else
``(expires, value)``: a two-tuple is always the latter (``_entry``/``_value``).

A timer armed once with a rule id for payload (the usual one: an expectation's
deadline) is its id mapped to the queue it sits on, which is that payload's
lane: no tuple per timer. Any other arming (again, or with another payload)
turns it into ``(due, payload, pending)``, ``pending`` counting its queued
entries so that stale ones are recognized until the last is popped; a
cancelled or fired timer with entries still queued is ``(None, None, pending)``.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from engine.deadlines import DeadlineQueue
from engine.store import R, StateStore, Updater

_FOREVER = float("inf")
_due_of = itemgetter(1)
_CANCELLED_ONE = (None, None, 1)  # a lane timer cancelled: its one entry is still queued

#: a timer: its lane (armed once, there), or (due or None, payload, entries queued)
_Timer = DeadlineQueue[str] | tuple[float | None, Any, int]


def _entry(expires: float, value: Any) -> tuple[Any, ...]:
    """What ``_data`` holds for a value: a tuple of two or more folded behind its expiry."""
    if type(value) is tuple and len(value) > 1:
        return (expires,) + value  # noqa: RUF005  # a concatenation: (e, *v) builds a list
    return (expires, value)


def _value(entry: tuple[Any, ...]) -> Any:
    """The value of an ``_entry``."""
    return entry[1] if len(entry) == 2 else entry[1:]


class MemoryStore(StateStore):
    """Dicts and deadline queues; single-threaded, so every op is atomic."""

    def __init__(self) -> None:
        # key -> (expires at, value or *value): one lookup reads both, and an
        # immutable tuple of plain values drops out of the garbage collector's walks
        self._data: dict[str, tuple[Any, ...]] = {}
        self._marks: dict[str, float] = {}  # add_once marks -> when they lapse
        # one queue per TTL length: each then sees its deadlines mostly in order
        self._ttls: dict[float, DeadlineQueue[str]] = {}
        # a set's one member is kept bare: a set object costs 216 bytes and an allocation
        self._sets: dict[str, str | set[str]] = {}
        self._timers: dict[str, _Timer] = {}
        self._dead = 0  # timers disarmed but with entries still queued (not counted)
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
        return None if entry is None else _value(entry)

    def put(self, key: str, value: Any, ttl: float | None, now: float) -> None:
        if ttl is None:
            self._data[key] = _entry(_FOREVER, value)
        else:
            expires = now + ttl
            self._data[key] = _entry(expires, value)
            self._arm(key, ttl, expires)

    def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def update(self, key: str, fn: Updater[R], ttl: float | None, now: float,
               arg: Any = None) -> R:
        data = self._data
        entry = data.get(key)
        # _value and _entry inline: a call each would cost more than the rest of update
        if entry is None or entry[0] <= now:
            old = None
        else:
            old = entry[1] if len(entry) == 2 else entry[1:]
        new, result = fn(old, arg)
        if new is None:
            if entry is not None:
                del data[key]
            return result
        if ttl is None:
            expires = _FOREVER
        elif entry is not None and entry[0] >= now + ttl:
            expires = entry[0]  # the TTL already reaches as far: no re-arming
        else:
            expires = now + ttl
            self._arm(key, ttl, expires)
        data[key] = ((expires,) + new  # noqa: RUF005  # (e, *v) builds a list first
                     if type(new) is tuple and len(new) > 1 else (expires, new))
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
        owner = payload if type(payload) is str else None
        queue = self._timer_queues.get(owner)
        if queue is None:
            queue = self._timer_queues[owner] = DeadlineQueue()
        timers = self._timers
        current = timers.get(timer_id)
        if current is None:
            timers[timer_id] = queue if owner is not None else (due, payload, 1)
        elif type(current) is tuple:
            if current[0] is None:
                self._dead -= 1
            timers[timer_id] = (due, payload, current[2] + 1)
        else:  # its lane's entry is stale now
            timers[timer_id] = (due, payload, 2)
        queue.add(due, timer_id)
        if due < self.due_hint:
            self.due_hint = due

    def cancel(self, timer_id: str) -> None:
        timers = self._timers
        current = timers.get(timer_id)
        if current is None:
            return
        if type(current) is not tuple:
            timers[timer_id] = _CANCELLED_ONE
        elif current[0] is not None:
            timers[timer_id] = (None, None, current[2])
        else:
            return
        self._dead += 1

    def pop_due(self, now: float) -> list[tuple[str, float, Any]]:
        if self.due_hint > now:
            return []
        timers = self._timers
        out: list[tuple[str, float, Any]] = []
        earliest, sources, dead = _FOREVER, 0, self._dead
        for owner, queue in self._timer_queues.items():
            if queue.next_due <= now:
                sources += 1
                for due, timer_id in queue.pop_due(now):
                    current = timers.get(timer_id)
                    if current is queue:  # armed once, here
                        del timers[timer_id]
                        out.append((timer_id, due, owner))
                    elif current is _CANCELLED_ONE:  # the usual fate of a deadline
                        del timers[timer_id]
                        dead -= 1
                    elif current is not None:
                        dead += self._claim(timer_id, due, current, out)
            if queue.next_due < earliest:
                earliest = queue.next_due
        self.due_hint = earliest
        self._dead = dead
        if sources > 1:
            out.sort(key=_due_of)  # stable: ties keep the queues' order
        return out

    def _claim(self, timer_id: str, due: float, current: _Timer,
               out: list[tuple[str, float, Any]]) -> int:
        """One queued entry of a timer armed more than once: it fires if it is the live
        one (claimed here, so an id armed twice for the same time fires once). Returns
        the change in the count of dead timers."""
        live, payload, pending = current  # type: ignore[misc]  # not a lane: a tuple
        change = 0
        if live == due:
            out.append((timer_id, due, payload))
            live = None
            change = 1
        if pending > 1:
            self._timers[timer_id] = (live, payload, pending - 1)
            return change
        del self._timers[timer_id]  # its last entry: it was live, so has fired, or dead
        return change - 1

    def next_due(self) -> float | None:
        return None if self.due_hint == _FOREVER else self.due_hint

    def expire(self, now: float) -> int:
        data, marks = self._data, self._marks
        dropped = 0
        for queue in self._ttls.values():
            for due, key in queue.pop_due(now):
                # the queue may hold an older deadline of a key refreshed since
                entry = data.get(key)
                if entry is not None and entry[0] == due:
                    del data[key]
                    dropped += 1
                if marks.get(key) == due:
                    del marks[key]
                    dropped += 1
        return dropped

    def size(self) -> dict[str, int]:
        return {"keys": len(self._data) + len(self._marks), "sets": len(self._sets),
                "timers": len(self._timers) - self._dead}
