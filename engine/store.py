"""The state store contract: every operation is atomic per key and bounded by TTL.

The engine keeps windows, open expectations, dedup marks, inventory facts and
timers here and nowhere else, so a Redis store can share them between workers.
Values are plain JSON-able data (dicts, lists, str, numbers, bool, None) and
are never mutated after they are handed to the store.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

R = TypeVar("R")

#: ``update`` callbacks get the current value (or None) and the caller's
#: ``arg``, and return the new value (None deletes the key) and a result handed
#: back to the caller. They must be pure: a shared store may call one again
#: after a conflicting write. What varies per call travels in ``arg``, so an
#: operator hands over one bound method rather than a closure built per event.
Updater = Callable[[Any, Any], tuple[Any, R]]


class StoreUnavailable(RuntimeError):
    """The store could not be reached; what was asked may or may not have been done.

    A transaction's ``commit`` may be called again after this (it is applied
    at most once); anything else is retried by redoing the batch.
    """


class StoreConflict(RuntimeError):
    """``commit`` found that another writer changed what the transaction read or claimed."""


class Space:
    """The keys under one prefix (an operator's: ``expect:<rule>:``), named by what follows,
    each living ``ttl`` after the write that set it (or longer, if it already did).

    ``space.get(k)`` is ``store.get(prefix + k)``, ``space.update(k, fn, now)`` is
    ``store.update(prefix + k, fn, ttl, now)``, and likewise ``schedule`` and
    ``cancel``: the same entries, either way. This default joins the two and asks
    the store, so a store need not know of spaces; the memory store keeps each
    space's keys in dicts of their own, without the prefix, so an open
    expectation's key is the very string its event carried (its snapshot holds
    that string too) rather than a longer copy, and with the one TTL known it
    keeps when each key was written, the event's own timestamp, not a new expiry.
    """

    __slots__ = ("prefix", "store", "ttl")

    def __init__(self, store: StateStore, prefix: str, ttl: float) -> None:
        self.store = store
        self.prefix = prefix
        self.ttl = ttl

    def get(self, key: str) -> Any:
        return self.store.get(self.prefix + key)

    def update(self, key: str, fn: Updater[R], now: float, arg: Any = None) -> R:
        return self.store.update(self.prefix + key, fn, self.ttl, now, arg)

    def schedule(self, key: str, due: float, payload: Any) -> None:
        """The timer's id is ``prefix + key`` (what ``pop_due`` hands back)."""
        self.store.schedule(self.prefix + key, due, payload)

    def schedule_after(self, key: str, since: float, delay: float, payload: Any) -> None:
        """``schedule(key, since + delay, payload)``: a timer one length after a time
        the caller holds (an expectation's deadline, after its first), which a store
        may keep instead of the due time."""
        self.store.schedule(self.prefix + key, since + delay, payload)

    def cancel(self, key: str) -> None:
        self.store.cancel(self.prefix + key)


class StateStore(ABC):
    """Key/value state with TTLs, sets for indexes, and once-only timers.

    ``now`` is always event time (seconds since the epoch), never the wall
    clock, so a replay expires and fires exactly like the live run did.
    """

    #: A time before which ``pop_due`` certainly returns nothing, so the engine
    #: need not ask on every event. -inf, the default, means "always ask": a
    #: shared store cannot know what other workers armed.
    due_hint: float = -math.inf

    # -- transactions -----------------------------------------------------------
    # A store that is shared or outlives the process stages a batch's writes
    # between ``begin`` and ``commit`` and applies them in one atomic step: the
    # live worker commits after the batch's firings are in its outbox and before
    # it acknowledges the input, so a claimed timer and a dedup mark become
    # final only with their outcome, and a crash anywhere redoes the batch or
    # finds it done. The defaults suit a store that dies with its process.

    def begin(self) -> None:
        """Start staging writes (reads see them)."""
        return

    def commit(self) -> None:
        """Apply what was staged, atomically and at most once (may raise
        ``StoreUnavailable``, then may be called again, or ``StoreConflict``)."""
        return

    def abort(self) -> None:
        """Forget what was staged; the store is as it was at ``begin``."""
        return

    def space(self, prefix: str, ttl: float) -> Space:
        """The keys under ``prefix`` (one operator's state), addressed without it, each
        living ``ttl``. Their keys are written with that TTL only. Asked again (a rule
        reloaded), the same keys, written with the new ``ttl`` from then on."""
        return Space(self, prefix, ttl)

    @abstractmethod
    def add_once(self, key: str, ttl: float, now: float) -> bool:
        """Mark ``key``; True the first time, False while the mark lives.

        Marks are a namespace of their own: a mark and a value under the same
        key are unrelated (the engine marks bare event ids).
        """

    @abstractmethod
    def get(self, key: str) -> Any:
        """The value of ``key`` or None (until ``expire`` drops it; ``update`` checks the TTL)."""

    @abstractmethod
    def put(self, key: str, value: Any, ttl: float | None, now: float) -> None:
        """Set ``key``; ``ttl=None`` keeps it until deleted (inventory facts)."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key`` if present."""

    @abstractmethod
    def update(self, key: str, fn: Updater[R], ttl: float | None, now: float,
               arg: Any = None) -> R:
        """Atomic read-modify-write of one key with ``fn(old, arg)``; returns its result."""

    @abstractmethod
    def set_add(self, key: str, member: str) -> None:
        """Add to a set (inventory indexes; no TTL, removed with the fact)."""

    @abstractmethod
    def set_remove(self, key: str, member: str) -> None:
        """Remove from a set; an empty set disappears."""

    @abstractmethod
    def set_members(self, key: str) -> list[str]:
        """The members, sorted, so joins are deterministic."""

    @abstractmethod
    def schedule(self, timer_id: str, due: float, payload: Any) -> None:
        """Arm a timer; arming the same id again moves it."""

    @abstractmethod
    def cancel(self, timer_id: str) -> None:
        """Disarm a timer if armed."""

    @abstractmethod
    def pop_due(self, now: float) -> list[tuple[str, float, Any]]:
        """Claim every timer due at ``now`` as (id, due, payload), in due order, once each.

        Timers due at the same instant come in a fixed order the store chooses.
        """

    @abstractmethod
    def next_due(self) -> float | None:
        """When the earliest armed timer is due, for a live loop's sleep."""

    @abstractmethod
    def expire(self, now: float) -> int:
        """Drop entries whose TTL has passed; returns how many were dropped."""

    @abstractmethod
    def size(self) -> dict[str, int]:
        """Counts per kind of entry: ``keys``, ``sets``, ``timers``."""
