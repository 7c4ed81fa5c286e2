"""The stateful operators: single, count, sequence and expect (absence).

Each keeps its per-key state in the StateStore through ``update`` (atomic per
key) with a TTL, so the same code runs on memory and on a shared store. They
return ``Evidence``: the events behind a firing and when it fired.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from typing import Any

from engine.events import Event
from engine.paths import event_getter
from engine.reads import Keep
from engine.snapshots import Snapshot, restore, snapshot
from engine.store import StateStore


@dataclass
class Evidence:
    """What made a rule fire: its events (oldest first), key values and time."""

    events: list[Event]
    key: tuple[Any, ...]
    time: float
    extra: dict[str, Any] = field(default_factory=dict)


#: what a route calls per matching event: (event, ts, key, key string) -> evidence
Handler = Callable[[Event, float, tuple[Any, ...], str], Sequence[Evidence]]
_NONE: tuple[Evidence, ...] = ()
_time_then_step = itemgetter(1, 0)


def _restore_all(times: Sequence[float], snaps: Sequence[Snapshot]) -> list[Event]:
    return [restore(s, ts) for ts, s in zip(times, snaps, strict=True)]


class Operator:
    """Base: operators are told about matching events and about their timers."""

    kind = "single"
    #: what the rule reads of the events it keeps (``engine.reads``), set by the compiler
    keep: Keep | None = None

    def __init__(self, rule_id: str, store: StateStore, lateness: float) -> None:
        self.rule_id = rule_id
        self.store = store
        self.lateness = lateness
        self._key_prefix = f"{self.kind}:{rule_id}:"

    def on_event(self, role: str, event: Event, ts: float, key: tuple[Any, ...],
                 key_str: str) -> Sequence[Evidence]:
        return [Evidence([event], key, ts)]

    def handler(self, role: str) -> Handler:
        """``on_event`` with its role bound, looked up once per route, not per event."""
        return partial(self.on_event, role)

    def on_timer(self, state_key: str, now: float) -> list[Evidence]:
        return []

    def describe(self, key_str: str) -> dict[str, Any]:
        """The key's state in plain figures (``engine.trace``: for people, not the hot path)."""
        return {}


class CountOp(Operator):
    """At least N matching events within a window, per key; fires once per N.

    With ``distinct`` (an event path) it counts distinct values of that path: an event
    whose value is already in the window replaces the older one (the latest stays the
    evidence), so eight log lines of one failed instance are one instance.
    """

    kind = "count"

    def __init__(self, rule_id: str, store: StateStore, lateness: float,
                 at_least: int, within: float, distinct: str | None = None) -> None:
        super().__init__(rule_id, store, lateness)
        self.at_least = at_least
        self.within = within
        self.horizon = within + lateness
        self._distinct = event_getter(distinct) if distinct is not None else None
        #: the rule's keys, named by the key string alone (``StateStore.space``)
        self.space = store.space(self._key_prefix, self.horizon)

    def on_event(self, role: str, event: Event, ts: float, key: tuple[Any, ...],
                 key_str: str) -> Sequence[Evidence]:
        if self._distinct is not None:
            value = self._distinct(event.__dict__)
            if value is None:
                return _NONE
            entry = (ts, snapshot(event, self.keep), str(value))
            found = self.space.update(key_str, self._add_distinct, ts, entry)
            if found is None:
                return _NONE
            used: tuple[Any, ...] = tuple(x for e in found for x in e[:2])
        else:
            pairs: tuple[Any, ...] | None = self.space.update(
                key_str, self._add, ts, (ts, snapshot(event, self.keep)))
            if pairs is None:
                return _NONE
            used = pairs
        events = _restore_all(used[0::2], used[1::2])
        return [Evidence(events, key, max(used[0::2]), {"count": len(events)})]

    def describe(self, key_str: str) -> dict[str, Any]:
        state = self.space.get(key_str) or ()
        if self._distinct is not None:
            times, values = [e[0] for e in state], [e[2] for e in state]
        else:
            times, values = list(state[0::2]), []
        out: dict[str, Any] = {"held": len(times), "at_least": self.at_least,
                               "within": self.within, "times": times}
        if self._distinct is not None:
            out["distinct"] = values
        return out

    def _add_distinct(self, old: Any, new: tuple[float, Snapshot, str]) -> tuple[Any, Any]:
        """State: ((ts, snapshot, value), ...) in time order, one entry per value."""
        ts, _snap, value = new
        entries = [tuple(e) for e in old or ()]
        same = next((i for i, e in enumerate(entries) if e[2] == value), None)
        if same is not None:
            if entries[same][0] > ts:
                return (tuple(entries) or None), None  # an older line of a value we have
            del entries[same]
        times = [e[0] for e in entries]
        at = bisect.bisect_right(times, ts)
        entries.insert(at, new)
        times.insert(at, ts)
        cut = bisect.bisect_left(times, times[-1] - self.horizon)
        entries, times, at = entries[cut:], times[cut:], at - cut
        if at < 0:
            return (tuple(entries) or None), None
        start = _window(times, at, self.at_least, self.within)
        if start is None:
            return tuple(entries), None
        used = entries[start: start + self.at_least]
        rest = entries[:start] + entries[start + self.at_least:]
        return (tuple(rest) or None), used

    def _add(self, old: Any, new: tuple[float, Snapshot]) -> tuple[Any, tuple[Any, ...] | None]:
        """State: (ts, snapshot, ts, snapshot, ...) in time order, a flat tuple."""
        ts, snap = new
        n, within = self.at_least, self.within
        pairs: tuple[Any, ...] = old or ()
        times = list(pairs[0::2])
        at = bisect.bisect_right(times, ts)
        times.insert(at, ts)
        pairs = (*pairs[: 2 * at], ts, snap, *pairs[2 * at:])
        cut = bisect.bisect_left(times, times[-1] - self.horizon)
        if cut:
            pairs, times, at = pairs[2 * cut:], times[cut:], at - cut
        if at < 0:
            return (pairs or None), None  # too late to count
        start = _window(times, at, n, within)
        if start is None:
            return pairs, None
        used = pairs[2 * start: 2 * (start + n)]
        rest = pairs[: 2 * start] + pairs[2 * (start + n):]
        return (rest or None), used


def _window(times: list[float], at: int, n: int, within: float) -> int | None:
    """The first index of ``n`` consecutive times spanning ``within`` that include ``at``."""
    for start in range(max(0, at - n + 1), min(at, len(times) - n) + 1):
        if times[start + n - 1] - times[start] <= within:
            return start
    return None


class SequenceOp(Operator):
    """Steps in time order within a window, correlated by key."""

    kind = "sequence"

    def __init__(self, rule_id: str, store: StateStore, lateness: float,
                 steps: int, within: float) -> None:
        super().__init__(rule_id, store, lateness)
        self.steps = steps
        self.within = within
        self.horizon = within + lateness
        self.space = store.space(self._key_prefix, self.horizon)  # as CountOp's

    def handler(self, role: str) -> Handler:
        return partial(self._on_step, _step_index(role))

    def on_event(self, role: str, event: Event, ts: float, key: tuple[Any, ...],
                 key_str: str) -> Sequence[Evidence]:
        return self._on_step(_step_index(role), event, ts, key, key_str)

    def _on_step(self, step_index: int, event: Event, ts: float, key: tuple[Any, ...],
                 key_str: str) -> Sequence[Evidence]:
        entry = (step_index, ts, event.__dict__["id"], snapshot(event, self.keep))
        chain = self.space.update(key_str, self._add, ts, entry)
        if chain is None:
            return _NONE
        return [Evidence(_restore_all([e[1] for e in chain], [e[3] for e in chain]), key,
                         chain[-1][1])]

    def describe(self, key_str: str) -> dict[str, Any]:
        state = self.space.get(key_str) or ()
        return {"steps": [[e[0], e[1], e[2]] for e in state], "of": self.steps,
                "within": self.within}

    def _add(self, old: Any, entry: tuple[int, float, str, Snapshot]
             ) -> tuple[Any, list[Any] | None]:
        """State: ((step, ts, event id, snapshot), ...) sorted by time, then step."""
        steps = self.steps
        if old is None and steps > 1:
            return (entry,), None  # the usual start
        entries = sorted((*(old or ()), entry), key=_time_then_step)
        oldest = entries[-1][1] - self.horizon
        entries = [e for e in entries if e[1] >= oldest]
        if len(entries) < steps:
            return tuple(entries), None  # too few to make a chain
        chain = _find_chain(entries, steps, self.within)
        if chain is None:
            return tuple(entries), None
        rest = tuple(e for i, e in enumerate(entries) if i not in chain)
        return (rest or None), [entries[i] for i in chain]


def _step_index(role: str) -> int:
    """``step:2`` -> 2."""
    return int(role.partition(":")[2])


def _find_chain(entries: list[Any], steps: int, within: float) -> list[int] | None:
    """Indexes of the earliest complete chain step0 <= step1 <= ... within the window."""
    for start, first in enumerate(entries):
        if first[0] != 0:
            continue
        chain, used_ids, last = [start], {first[2]}, first[1]
        for wanted in range(1, steps):
            for i, entry in enumerate(entries):
                if (entry[0] == wanted and entry[1] >= last and entry[2] not in used_ids
                        and entry[1] - first[1] <= within):
                    chain.append(i)
                    used_ids.add(entry[2])
                    last = entry[1]
                    break
            else:
                break
        if len(chain) == steps:
            return chain
    return None


class ExpectOp(Operator):
    """A ``first`` must be followed by a ``then`` with the same key within a window.

    Each ``then`` consumes the oldest open ``first`` it can; every ``first``
    left open fires at its deadline (the timer), even if no event comes. A
    ``then`` that arrives before its ``first`` (out of order, within the
    lateness tolerance) is held briefly so the late ``first`` still matches.

    One state key per correlation key holds both, ``(held, opened at,
    snapshot, opened at, snapshot, ...)``: ``held`` is the times of thens
    waiting for a late first (usually none), the pairs are the open firsts,
    oldest first. So every event is one atomic update of one key.
    """

    kind = "expect"

    def __init__(self, rule_id: str, store: StateStore, lateness: float, within: float,
                 once: bool = False) -> None:
        super().__init__(rule_id, store, lateness)
        self.within = within
        self.once = once
        # state must outlive its deadline timer, which reads it at the deadline itself
        self.ttl = within + lateness + 60.0
        self.space = store.space(self._key_prefix, self.ttl)  # as CountOp's
        self.hold = 2 * lateness  # how long a then waits for a first that is late

    def on_event(self, role: str, event: Event, ts: float, key: tuple[Any, ...],
                 key_str: str) -> Sequence[Evidence]:
        return self.handler(role)(event, ts, key, key_str)

    def handler(self, role: str) -> Handler:
        return self._on_then if role == "then" else self._on_first

    def _on_then(self, event: Event, ts: float, key: tuple[Any, ...],
                 key_str: str) -> Sequence[Evidence]:
        space = self.space
        if space.update(key_str, self._consume, ts, ts) is None:
            space.cancel(key_str)  # nothing left open: the deadline has nothing to do
        return _NONE

    def _consume(self, old: Any, ts: float) -> tuple[Any, bool | None]:
        """True: consumed a first; None: consumed the last one; False: none open."""
        hold = self.hold
        if old is None:
            return (((ts,),) if hold else None), False
        within = self.within
        for i in range(1, len(old), 2):
            opened = old[i]
            if opened <= ts <= opened + within:
                rest = (*old[:i], *old[i + 2:])
                if len(rest) > 1:
                    return rest, True
                return (rest if rest[0] else None), None
            if opened > ts:
                break
        if not hold:
            return old, False
        return ((*_held_since(old[0], ts - hold), ts), *old[1:]), False

    def _on_first(self, event: Event, ts: float, key: tuple[Any, ...],
                  key_str: str) -> Sequence[Evidence]:
        space = self.space
        first = (ts, snapshot(event, self.keep))
        if space.update(key_str, self._open_first, ts, first):
            space.schedule_after(key_str, ts, self.within, self.rule_id)
        return _NONE

    def _open_first(self, old: Any, first: tuple[float, Snapshot]) -> tuple[Any, bool]:
        """True when this first is now the oldest open one (its deadline is next)."""
        if old is None:
            return ((), *first), True
        ts = first[0]
        held = old[0]
        if held:
            held = _held_since(held, ts - self.hold)
            for i, then_ts in enumerate(held):
                if ts <= then_ts <= ts + self.within:  # a then came before this late first
                    rest = (held[:i] + held[i + 1:], *old[1:])
                    return (rest if len(rest) > 1 or rest[0] else None), False
        pairs = old[1:]
        if self.once and pairs and pairs[0] <= ts:
            return old, False  # folded into the open expectation
        at = bisect.bisect_right(pairs[0::2], ts)
        return (held, *pairs[: 2 * at], *first, *pairs[2 * at:]), at == 0

    def describe(self, key_str: str) -> dict[str, Any]:
        state = self.space.get(key_str)
        return {"open": list(state[1::2]) if state else [],
                "held": list(state[0]) if state else [], "within": self.within,
                "once": self.once}

    def on_timer(self, state_key: str, now: float) -> list[Evidence]:
        key_str = state_key[len(self._key_prefix):]  # the timer's id: the space's prefix + key
        expired, next_open = self.space.update(key_str, self._expire, now, now)
        if next_open is not None:
            self.space.schedule_after(key_str, next_open, self.within, self.rule_id)
        out = []
        within = self.within
        for i in range(0, len(expired), 2):
            event = restore(expired[i + 1], expired[i])
            out.append(Evidence([event], (), expired[i] + within, {"deadline": True}))
        return out

    def _expire(self, old: Any, now: float) -> tuple[Any, tuple[Sequence[Any], float | None]]:
        if old is None:
            return None, ((), None)
        within = self.within
        pairs = old[1:]
        cut = 0
        while cut < len(pairs) and pairs[cut] + within <= now:
            cut += 2
        rest = pairs[cut:]
        held = _held_since(old[0], now - self.hold)
        next_open = rest[0] if rest else None  # the oldest left open: its deadline is next
        return ((held, *rest) if rest or held else None), (pairs[:cut], next_open)


def _held_since(held: Sequence[float], since: float) -> tuple[float, ...]:
    """The held thens still waiting at ``since`` (older ones can match no late first)."""
    return tuple(t for t in held if t > since) if held else ()


__all__ = ["CountOp", "Evidence", "ExpectOp", "Operator", "SequenceOp"]
