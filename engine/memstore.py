"""The in-memory state store: the default, and the reference for the contract."""

from __future__ import annotations

from typing import Any

from engine.deadlines import DeadlineQueue
from engine.store import R, StateStore, Updater

_FOREVER = float("inf")


class MemoryStore(StateStore):
    """Dicts and deadline queues; single-threaded, so every op is atomic."""

    def __init__(self) -> None:
        # key -> [value, expires_at]; a list so a refresh needs no new object
        self._data: dict[str, list[Any]] = {}
        self._ttl: DeadlineQueue[str] = DeadlineQueue()
        self._sets: dict[str, set[str]] = {}
        self._timers: dict[str, tuple[float, Any]] = {}
        self._timer_queue: DeadlineQueue[str] = DeadlineQueue()

    def _arm_ttl(self, key: str, ttl: float | None, now: float) -> float:
        if ttl is None:
            return _FOREVER
        expires = now + ttl
        self._ttl.add(expires, key)
        return expires

    def add_once(self, key: str, ttl: float, now: float) -> bool:
        entry = self._data.get(key)
        if entry is not None and entry[1] > now:
            return False
        self._data[key] = [True, self._arm_ttl(key, ttl, now)]
        return True

    def get(self, key: str) -> Any:
        entry = self._data.get(key)
        return None if entry is None else entry[0]

    def put(self, key: str, value: Any, ttl: float | None, now: float) -> None:
        self._data[key] = [value, self._arm_ttl(key, ttl, now)]

    def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def update(self, key: str, fn: Updater[R], ttl: float | None, now: float) -> R:
        entry = self._data.get(key)
        old = None if entry is None or entry[1] <= now else entry[0]
        new, result = fn(old)
        if new is None:
            if entry is not None:
                del self._data[key]
        elif entry is not None and ttl is not None and entry[1] >= now + ttl:
            entry[0] = new  # TTL already reaches as far: skip re-arming
        else:
            self._data[key] = [new, self._arm_ttl(key, ttl, now)]
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
        if not self._timer_queue.has_due(now):
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
        data = self._data

        def expired(key: str, due: float) -> bool:
            entry = data.get(key)
            return entry is not None and entry[1] == due

        dropped = self._ttl.pop_due(now, expired)
        for key in dropped:
            del data[key]
        return len(dropped)

    def size(self) -> dict[str, int]:
        return {"keys": len(self._data), "sets": len(self._sets), "timers": len(self._timers)}
