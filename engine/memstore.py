"""The in-memory state store: the default, and the reference for the contract.

Values, expiry times and dedup marks sit in flat dicts, with no wrapper
object per entry: a worker holds a million open expectations for hours, and
every container kept per entry costs memory and makes each full garbage
collection walk it again.
"""

from __future__ import annotations

from typing import Any

from engine.deadlines import DeadlineQueue
from engine.store import R, StateStore, Updater

_NEVER = float("-inf")


class MemoryStore(StateStore):
    """Dicts and deadline queues; single-threaded, so every op is atomic."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._expires: dict[str, float] = {}  # only keys that have a TTL
        self._marks: dict[str, float] = {}  # add_once marks -> when they lapse
        self._ttl: DeadlineQueue[str] = DeadlineQueue()
        self._sets: dict[str, set[str]] = {}
        self._timers: dict[str, tuple[float, Any]] = {}
        self._timer_queue: DeadlineQueue[str] = DeadlineQueue()

    def add_once(self, key: str, ttl: float, now: float) -> bool:
        marks = self._marks
        lapses = marks.get(key)
        if lapses is not None and lapses > now:
            return False
        lapses = now + ttl
        marks[key] = lapses
        self._ttl.add(lapses, key)
        return True

    def get(self, key: str) -> Any:
        return self._values.get(key)

    def put(self, key: str, value: Any, ttl: float | None, now: float) -> None:
        self._values[key] = value
        if ttl is None:
            self._expires.pop(key, None)
        else:
            expires = now + ttl
            self._expires[key] = expires
            self._ttl.add(expires, key)

    def delete(self, key: str) -> None:
        self._values.pop(key, None)
        self._expires.pop(key, None)

    def update(self, key: str, fn: Updater[R], ttl: float | None, now: float) -> R:
        values = self._values
        old = values.get(key)
        if old is not None:
            expires = self._expires.get(key)
            if expires is not None and expires <= now:
                old = None
        new, result = fn(old)
        if new is None:
            if key in values:
                del values[key]
                self._expires.pop(key, None)
            return result
        values[key] = new
        if ttl is None:
            self._expires.pop(key, None)
        else:
            expires = now + ttl
            if self._expires.get(key, _NEVER) < expires:  # a TTL only ever moves later here
                self._expires[key] = expires
                self._ttl.add(expires, key)
        return result

    def set_add(self, key: str, member: str) -> None:
        self._sets.setdefault(key, set()).add(member)

    def set_remove(self, key: str, member: str) -> None:
        members = self._sets.get(key)
        if members is not None:
            members.discard(member)
            if not members:
                del self._sets[key]

    def set_members(self, key: str) -> list[str]:
        return sorted(self._sets.get(key, ()))

    def schedule(self, timer_id: str, due: float, payload: Any) -> None:
        self._timers[timer_id] = (due, payload)
        self._timer_queue.add(due, timer_id)

    def cancel(self, timer_id: str) -> None:
        self._timers.pop(timer_id, None)

    def pop_due(self, now: float) -> list[tuple[str, float, Any]]:
        if self._timer_queue.next_due > now:
            return []
        timers = self._timers

        def armed_at(timer_id: str, due: float) -> bool:
            current = timers.get(timer_id)
            return current is not None and current[0] == due

        out = []
        for timer_id in self._timer_queue.pop_due(now, armed_at):
            due, payload = timers.pop(timer_id)
            out.append((timer_id, due, payload))
        return out

    def next_due(self) -> float | None:
        return self._timer_queue.peek()

    def expire(self, now: float) -> int:
        values, expires, marks = self._values, self._expires, self._marks

        def drop_if_lapsed(key: str, due: float) -> bool:
            # the queue may hold an older deadline of a key refreshed since
            dropped = False
            if expires.get(key) == due:
                del expires[key]
                values.pop(key, None)
                dropped = True
            if marks.get(key) == due:
                del marks[key]
                dropped = True
            return dropped

        return len(self._ttl.pop_due(now, drop_if_lapsed))

    def size(self) -> dict[str, int]:
        return {"keys": len(self._values) + len(self._marks), "sets": len(self._sets),
                "timers": len(self._timers)}
