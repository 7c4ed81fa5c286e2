"""The in-memory state store: the default, and the reference for the contract.

A worker holds a million open expectations for hours, so an entry is one
immutable tuple and a dedup mark a bare float: no mutable container per entry
for every full garbage collection to walk again, and no object more than
needed. An entry is ``(time, *value)`` when the value is a tuple of two or more
(the operators' states: one tuple, not a pair holding a tuple), else ``(time,
value)``: a two-tuple always holds a bare value (``_entry``/``_value``).

Each ``space`` (an operator's prefix) has dicts of its own, keyed without the
prefix: the key is then the string the event carried, which its snapshot holds
anyway. All its keys live one TTL, so an entry's time is when it was written,
the ``now`` handed in, which is the event's own timestamp object that the state
holds too, and its TTL queue holds those times (``DeadlineQueue.pop_lapsed``):
no float per entry. A dedup mark likewise is the time it was made. A key of the
plain methods that starts with a space's prefix is that space's (``_route``), so
both ways reach the same entries. Every other key (facts, indexes) has its
expiry for time.

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
from engine.store import R, Space, StateStore, Updater

_FOREVER = float("inf")
_due_of = itemgetter(1)
_CANCELLED_ONE = (None, None, 1)  # a lane timer cancelled: its one entry is still queued

#: a timer: its lane (armed once, there), or (due or None, payload, entries queued)
_Timer = DeadlineQueue[str] | tuple[float | None, Any, int]
#: a timer queue: its keys, payload, delay (the queue holds times that much earlier)
_Lane = tuple["_Keys", Any, float, DeadlineQueue[str]]


def _entry(expires: float, value: Any) -> tuple[Any, ...]:
    """What the store holds for a value: a tuple of two or more folded behind its time."""
    if type(value) is tuple and len(value) > 1:
        return (expires,) + value  # noqa: RUF005  # a concatenation: (e, *v) builds a list
    return (expires, value)


def _value(entry: tuple[Any, ...]) -> Any:
    """The value of an ``_entry``."""
    return entry[1] if len(entry) == 2 else entry[1:]


class _Keys:
    """What the keys of one prefix share: their entries by key, and their timers."""

    store: StateStore
    prefix: str
    data: dict[str, tuple[Any, ...]]
    lanes: list[_Lane]  # the store's (MemoryStore._lanes)
    timers: dict[str, _Timer]
    timer_queues: dict[float, dict[Any, DeadlineQueue[str]]]  # by delay, then payload
    _dead: int

    def _init_timers(self, lanes: list[_Lane]) -> None:
        self.lanes = lanes
        self.timers = {}
        self._dead = 0  # timers disarmed but with entries still queued (not counted)
        # one queue per payload (the rule that armed it) and delay: each rule's deadlines
        # are one length after its events, so they arrive in due order and stay on a lane
        self.timer_queues = {}

    def get(self, key: str) -> Any:
        entry = self.data.get(key)
        return None if entry is None else _value(entry)

    def delete(self, key: str) -> None:
        self.data.pop(key, None)

    def schedule(self, key: str, due: float, payload: Any) -> None:
        self.schedule_after(key, due, 0.0, payload)

    def schedule_after(self, key: str, since: float, delay: float, payload: Any) -> None:
        """The timer queued by ``since`` on a lane of ``delay``: no float of its own."""
        owner = payload if type(payload) is str else None
        lanes = self.timer_queues.get(delay)
        if lanes is None:
            lanes = self.timer_queues[delay] = {}
        queue = lanes.get(owner)
        if queue is None:
            queue = lanes[owner] = DeadlineQueue()
            self.lanes.append((self, owner, delay, queue))
        due = since + delay if delay else since
        timers = self.timers
        current = timers.get(key)
        if current is None:
            timers[key] = queue if owner is not None else (due, payload, 1)
        elif type(current) is tuple:
            if current[0] is None:
                self._dead -= 1
            timers[key] = (due, payload, current[2] + 1)
        else:  # its lane's entry is stale now
            timers[key] = (due, payload, 2)
        queue.add(since, key)
        store = self.store
        if due < store.due_hint:
            store.due_hint = due

    def cancel(self, key: str) -> None:
        timers = self.timers
        current = timers.get(key)
        if current is None:
            return
        if type(current) is not tuple:
            timers[key] = _CANCELLED_ONE
        elif current[0] is not None:
            timers[key] = (None, None, current[2])
        else:
            return
        self._dead += 1

    def pop_lane(self, owner: Any, delay: float, queue: DeadlineQueue[str], now: float,
                 out: list[tuple[str, float, Any]]) -> None:
        """Add the timers of ``owner``'s lane of ``delay`` due at ``now`` to ``out`` (ids
        with the prefix)."""
        timers, prefix, dead = self.timers, self.prefix, self._dead
        ready = queue.pop_lapsed(now, delay) if delay else queue.pop_due(now)
        for since, key in ready:
            due = since + delay if delay else since
            current = timers.get(key)
            if current is queue:  # armed once, here
                del timers[key]
                out.append((prefix + key, due, owner))
            elif current is _CANCELLED_ONE:  # the usual fate of a deadline
                del timers[key]
                dead -= 1
            elif current is not None:
                dead += self._claim(key, due, current, out)
        self._dead = dead

    def _claim(self, key: str, due: float, current: _Timer,
               out: list[tuple[str, float, Any]]) -> int:
        """One queued entry of a timer armed more than once: it fires if it is the live
        one (claimed here, so an id armed twice for the same time fires once). Returns
        the change in the count of dead timers."""
        live, payload, pending = current  # type: ignore[misc]  # not a lane: a tuple
        change = 0
        if live == due:
            out.append((self.prefix + key, due, payload))
            live = None
            change = 1
        if pending > 1:
            self.timers[key] = (live, payload, pending - 1)
            return change
        del self.timers[key]  # its last entry: it was live, so has fired, or dead
        return change - 1

    def armed(self) -> int:
        return len(self.timers) - self._dead


class _Root(_Keys):
    """Every key of no space: each entry ``(expires at, *value)``, queued by that time."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.prefix = ""
        # key -> (expires at, value or *value): one lookup reads both, and an
        # immutable tuple of plain values drops out of the garbage collector's walks
        self.data = {}
        # one queue per TTL length: each then sees its deadlines mostly in order
        self._ttls: dict[float, DeadlineQueue[str]] = {}
        self._init_timers(store._lanes)

    def put(self, key: str, value: Any, ttl: float | None, now: float) -> None:
        if ttl is None:
            self.data[key] = _entry(_FOREVER, value)
        else:
            expires = now + ttl
            self.data[key] = _entry(expires, value)
            self._arm(key, ttl, expires)

    def _arm(self, key: str, ttl: float, expires: float) -> None:
        queue = self._ttls.get(ttl)
        if queue is None:
            queue = self._ttls[ttl] = DeadlineQueue()
        queue.add(expires, key)

    def update(self, key: str, fn: Updater[R], ttl: float | None, now: float,
               arg: Any = None) -> R:
        data = self.data
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
            queue = self._ttls.get(ttl)  # _arm inline: update is the hot path
            if queue is None:
                queue = self._ttls[ttl] = DeadlineQueue()
            queue.add(expires, key)
        data[key] = ((expires,) + new  # noqa: RUF005  # (e, *v) builds a list first
                     if type(new) is tuple and len(new) > 1 else (expires, new))
        return result

    def expire(self, now: float) -> int:
        data = self.data
        dropped = 0
        for queue in self._ttls.values():
            for due, key in queue.pop_due(now):
                # the queue may hold an older deadline of a key refreshed since
                entry = data.get(key)
                if entry is not None and entry[0] == due:
                    del data[key]
                    dropped += 1
        return dropped


class _Space(_Keys, Space):
    """The keys of one space, all of one TTL length: each entry ``(written at, *value)``,
    the time the ``now`` handed in (the event's own timestamp object, which its state
    holds too), queued by that time; it lapses ``ttl`` later."""

    def __init__(self, store: MemoryStore, prefix: str, ttl: float) -> None:
        Space.__init__(self, store, prefix, ttl)
        self.data = {}
        self._queue: DeadlineQueue[str] = DeadlineQueue()
        self._init_timers(store._lanes)

    def put(self, key: str, value: Any, now: float) -> None:
        self.data[key] = _entry(now, value)
        self._queue.add(now, key)

    def update(self, key: str, fn: Updater[R], now: float, arg: Any = None) -> R:
        data = self.data
        entry = data.get(key)
        # _value and _entry inline: a call each would cost more than the rest of update
        if entry is None or entry[0] + self.ttl <= now:
            old = None
        else:
            old = entry[1] if len(entry) == 2 else entry[1:]
        new, result = fn(old, arg)
        if new is None:
            if entry is not None:
                del data[key]
            return result
        if entry is not None and entry[0] >= now:
            made = entry[0]  # written later already (this is a late event): lives as long
        else:
            made = now
            self._queue.add(now, key)
        data[key] = ((made,) + new  # noqa: RUF005  # (m, *v) builds a list first
                     if type(new) is tuple and len(new) > 1 else (made, new))
        return result

    def expire(self, now: float) -> int:
        data = self.data
        dropped = 0
        for made, key in self._queue.pop_lapsed(now, self.ttl):
            # the queue may hold an older write of a key written again since
            entry = data.get(key)
            if entry is not None and entry[0] == made:
                del data[key]
                dropped += 1
        return dropped


class _Marks:
    """The ``add_once`` marks of one TTL length: each mark -> when it was made, which is
    the ``now`` handed in, the event's own timestamp object that its state holds too
    (no float per mark), and a queue of marks by that time (lapsing ``ttl`` later)."""

    __slots__ = ("made", "queue", "ttl")

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.made: dict[str, float] = {}
        self.queue: DeadlineQueue[str] = DeadlineQueue()

    def expire(self, now: float) -> int:
        """Drop the marks lapsed at ``now`` (made + ttl <= now, as ``add_once`` sees it)."""
        made = self.made
        dropped = 0
        for since, key in self.queue.pop_lapsed(now, self.ttl):
            if made.get(key) == since:  # not marked again since
                del made[key]
                dropped += 1
        return dropped


class MemoryStore(StateStore):
    """Dicts and deadline queues; single-threaded, so every op is atomic."""

    def __init__(self) -> None:
        #: every timer queue: (its keys, payload, delay, the queue), in the order made
        self._lanes: list[_Lane] = []
        self._keys = _Root(self)  # every key of no space
        self._spaces: dict[str, _Space] = {}  # by prefix
        self._heads: tuple[str, ...] = ()  # the spaces' kinds ("expect:"), for _route
        self._marks: dict[float, _Marks] = {}  # by TTL length (the engine uses one)
        # a set's one member is kept bare: a set object costs 216 bytes and an allocation
        self._sets: dict[str, str | set[str]] = {}
        self.due_hint = _FOREVER  # the earliest due in the timer queues, kept in step

    def space(self, prefix: str, ttl: float) -> Space:
        """A space's keys are written when made, so asked again with another ``ttl`` (a
        rule reloaded) every key of it lives the new one from its last write."""
        space = self._spaces.get(prefix)
        if space is None:
            if not prefix or prefix.count(":") != 2 or not prefix.endswith(":"):
                return Space(self, prefix, ttl)  # only "<kind>:<name>:" has dicts of its own
            space = self._spaces[prefix] = _Space(self, prefix, ttl)
            kind = prefix[:prefix.index(":") + 1]
            if kind not in self._heads:
                self._heads = (*self._heads, kind)
        space.ttl = ttl
        return space

    def _route(self, key: str) -> tuple[_Space | None, str]:
        """The space a plain key is in (by its ``<kind>:<name>:`` head), and its key there.
        The callers first test ``key.startswith(self._heads)``: one call, and no other for
        the keys of no space (facts, indexes)."""
        second = key.find(":", key.find(":") + 1)
        if second > 0:
            space = self._spaces.get(key[:second + 1])
            if space is not None:
                return space, key[second + 1:]
        return None, key

    @staticmethod
    def _space_ttl(space: _Space, key: str, ttl: float | None) -> None:
        if ttl != space.ttl:
            raise ValueError(f"{space.prefix}{key}: the keys under {space.prefix!r} live "
                             f"{space.ttl} s (StateStore.space), not {ttl}")

    def add_once(self, key: str, ttl: float, now: float) -> bool:
        every = self._marks
        marks = every.get(ttl)
        if marks is not None and len(every) == 1:  # the usual: marks of one length
            since = marks.made.get(key)
            if since is not None and since + ttl > now:
                return False
        else:  # marks of other lengths: any of them may hold the key
            for other in every.values():
                since = other.made.get(key)
                if since is not None and since + other.ttl > now:
                    return False
            if marks is None:
                marks = every[ttl] = _Marks(ttl)
        marks.made[key] = now
        marks.queue.add(now, key)
        return True

    def get(self, key: str) -> Any:
        if key.startswith(self._heads):
            space, rest = self._route(key)
            if space is not None:
                return space.get(rest)
        return self._keys.get(key)

    def put(self, key: str, value: Any, ttl: float | None, now: float) -> None:
        if key.startswith(self._heads):
            space, rest = self._route(key)
            if space is not None:
                self._space_ttl(space, rest, ttl)
                space.put(rest, value, now)
                return
        self._keys.put(key, value, ttl, now)

    def delete(self, key: str) -> None:
        if key.startswith(self._heads):
            space, rest = self._route(key)
            if space is not None:
                space.delete(rest)
                return
        self._keys.delete(key)

    def update(self, key: str, fn: Updater[R], ttl: float | None, now: float,
               arg: Any = None) -> R:
        if key.startswith(self._heads):
            space, rest = self._route(key)
            if space is not None:
                self._space_ttl(space, rest, ttl)
                return space.update(rest, fn, now, arg)
        return self._keys.update(key, fn, ttl, now, arg)

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
        if timer_id.startswith(self._heads):
            space, rest = self._route(timer_id)
            if space is not None:
                space.schedule(rest, due, payload)
                return
        self._keys.schedule(timer_id, due, payload)

    def cancel(self, timer_id: str) -> None:
        if timer_id.startswith(self._heads):
            space, rest = self._route(timer_id)
            if space is not None:
                space.cancel(rest)
                return
        self._keys.cancel(timer_id)

    def pop_due(self, now: float) -> list[tuple[str, float, Any]]:
        if self.due_hint > now:
            return []
        out: list[tuple[str, float, Any]] = []
        earliest, sources = _FOREVER, 0
        for keys, owner, delay, queue in self._lanes:
            first = queue.next_due + delay
            if first <= now:
                sources += 1
                keys.pop_lane(owner, delay, queue, now, out)
                first = queue.next_due + delay
            if first < earliest:
                earliest = first
        self.due_hint = earliest
        if sources > 1:
            out.sort(key=_due_of)  # stable: ties keep the queues' order
        return out

    def next_due(self) -> float | None:
        return None if self.due_hint == _FOREVER else self.due_hint

    def expire(self, now: float) -> int:
        dropped = self._keys.expire(now)
        for keys in self._spaces.values():
            dropped += keys.expire(now)
        for marks in self._marks.values():
            dropped += marks.expire(now)
        return dropped

    def size(self) -> dict[str, int]:
        every: tuple[_Keys, ...] = (self._keys, *self._spaces.values())
        return {"keys": sum(len(k.data) for k in every)
                + sum(len(m.made) for m in self._marks.values()),
                "sets": len(self._sets), "timers": sum(k.armed() for k in every)}
