"""Inventory facts (instances, ports, volumes, services, hosts) kept in the store.

Facts arrive as ``FactUpdate``s carried by events (or from a snapshot seed)
and are merged field by field. Only the fields rules join on are indexed, so
a join is one set lookup however many instances the cloud runs.

Facts are bounded: a delete (``*.delete.end``, a pull that no longer lists the
resource) drops a fact at once, and one not heard of for ``max_age`` of event
time expires. Each fact carries the event time it was last seen (hidden from
readers) and one store timer per fact, armed when the fact is first stored and
looked at when due: a fact seen since is re-armed, else dropped with its index
entries. A store TTL on the fact key could not do this (the index sets would
outlive it), and re-arming a timer per sighting would queue one deadline per
event. A fact stored at an unknown time (a dump loaded before any event) has no
stamp and is kept until an event or a pull mentions it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import Any, get_args

from engine.events import FactKind, FactUpdate
from engine.store import StateStore

# a tuple of types, built once: `A | B` in isinstance() builds a union object per call
_COLLECTIONS = (list, tuple, set)


_update_fields = itemgetter("kind", "id", "fields", "delete")

#: the payload of the facts' expiry timers: no rule id starts with "@", so the
#: engine hands these to ``Inventory.on_timer`` (and the memory store keeps them
#: on a lane of their own, in due order)
EXPIRY_TIMERS = "@inventory"
#: where a fact keeps the event time it was last seen; stripped from what readers get
SEEN = "\x00seen"
_FACT_PREFIX = "fact:"


def _count_key(kind: str) -> str:
    return f"inventory:count:{kind}"


def _bump(count: Any, delta: int) -> tuple[int | None, None]:
    total = (count or 0) + delta
    return (total if total > 0 else None), None


def _public(fact: dict[str, Any]) -> dict[str, Any]:
    if SEEN not in fact:
        return fact
    return {k: v for k, v in fact.items() if k != SEEN}


def _fact_key(kind: str, fact_id: str) -> str:
    return f"{_FACT_PREFIX}{kind}:{fact_id}"


def _index_key(kind: str, field: str, value: Any) -> str:
    return f"idx:{kind}:{field}:{value}"


def _indexable(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, _COLLECTIONS):
        return [str(v) for v in value if v is not None and v != ""]
    return [str(value)]


class Inventory:
    """Facts by kind and id, with secondary indexes on declared fields."""

    def __init__(self, store: StateStore, indexed: Iterable[tuple[str, str]] = (),
                 max_age: float | None = None) -> None:
        self.store = store
        #: event time a fact may go unmentioned before it expires (None: never)
        self.max_age = max_age
        self._indexed: dict[str, set[str]] = {}
        for kind, field in indexed:
            self.index(kind, field)
        #: per kind, the fields kept (None: all); None for the whole map: keep everything
        self._kept: dict[str, tuple[str, ...] | None] | None = None

    def keep_only(self, fields: dict[str, frozenset[str] | None]) -> None:
        """Keep only these fields of each kind (``engine.reads.fact_fields``: what the
        loaded rules can read), and no fact of a kind absent from ``fields``."""
        self._kept = {kind: None if names is None else tuple(sorted(names))
                      for kind, names in fields.items()}

    def index(self, kind: str, field: str) -> None:
        """Keep an index on ``kind.field`` (facts stored before are not back-filled)."""
        if field != "id":
            self._indexed.setdefault(kind, set()).add(field)

    def apply(self, update: FactUpdate, now: float) -> None:
        # the model's field dict, read once: each attribute costs a hook call
        kind, fact_id, changes, delete = _update_fields(update.__dict__)
        if self._kept is not None:
            if kind not in self._kept:
                return  # no loaded rule joins this kind
            wanted = self._kept[kind]
            if wanted is not None:
                kept = {}
                for name in wanted:  # a loop over the few wanted, not a comprehension
                    if name in changes:
                        kept[name] = changes[name]
                changes = kept
        key = _fact_key(kind, fact_id)
        store = self.store
        old: dict[str, Any] | None = store.get(key)
        fields = self._indexed.get(kind, ())
        if delete:
            if old is not None:
                self._drop(kind, fact_id, old)
                if self.max_age is not None:
                    store.cancel(key)
            return
        new = {**old, **changes, "id": fact_id} if old else {**changes, "id": fact_id}
        if old is None:
            store.update(_count_key(kind), _bump, None, now, 1)
        if self.max_age is not None and now > 0:  # 0: a seed with no time (kept until seen)
            seen = old.get(SEEN) if old else None
            if seen is None:  # first stamp: arm the expiry, once per fact
                store.schedule(key, now + self.max_age, EXPIRY_TIMERS)
            if seen is None or now > seen:
                new[SEEN] = now
        for field in fields:
            old_value, new_value = (old.get(field) if old else None), new.get(field)
            if old_value == new_value:
                continue  # most updates leave the indexed fields alone
            before, after = _indexable(old_value), _indexable(new_value)
            for value in before:
                if value not in after:
                    store.set_remove(_index_key(kind, field, value), fact_id)
            for value in after:
                if value not in before:
                    store.set_add(_index_key(kind, field, value), fact_id)
        store.put(key, new, None, now)

    def _drop(self, kind: str, fact_id: str, old: dict[str, Any]) -> None:
        store = self.store
        for field in self._indexed.get(kind, ()):
            for value in _indexable(old.get(field)):
                store.set_remove(_index_key(kind, field, value), fact_id)
        store.delete(_fact_key(kind, fact_id))
        store.update(_count_key(kind), _bump, None, 0.0, -1)

    def on_timer(self, key: str, at: float) -> bool:
        """A fact's expiry timer, due at ``at``: drop the fact if it was not seen
        within ``max_age`` before, else re-arm for then. True if it was dropped."""
        old: dict[str, Any] | None = self.store.get(key)
        if old is None or self.max_age is None:
            return False  # deleted since (its timer is cancelled, but a race may leave one)
        seen = old.get(SEEN)
        if seen is None:
            return False
        if seen + self.max_age > at:
            self.store.schedule(key, seen + self.max_age, EXPIRY_TIMERS)
            return False
        kind, _, fact_id = key.removeprefix(_FACT_PREFIX).partition(":")
        self._drop(kind, fact_id, old)
        return True

    def counts(self) -> dict[str, int]:
        """Facts held, by kind (``facts_<kind>``), as the store counts them for every
        worker sharing it; for the ``store_entries`` metric."""
        return {f"facts_{kind}": int(self.store.get(_count_key(kind)) or 0)
                for kind in get_args(FactKind)}

    def get(self, kind: str, fact_id: str) -> dict[str, Any] | None:
        fact: dict[str, Any] | None = self.store.get(_fact_key(kind, fact_id))
        return None if fact is None else _public(fact)

    def find(self, kind: str, criteria: dict[str, Any]) -> list[dict[str, Any]]:
        """Facts whose fields equal every criterion; sorted by id (deterministic)."""
        if not criteria or any(v is None or v == "" for v in criteria.values()):
            return []
        if "id" in criteria:
            fact = self.get(kind, str(criteria["id"]))
            candidates = [fact] if fact is not None else []
        else:
            field, value = next(iter(criteria.items()))
            if field not in self._indexed.get(kind, ()):
                raise KeyError(f"{kind}.{field} is not indexed")
            ids = self.store.set_members(_index_key(kind, field, value))
            candidates = [f for f in (self.get(kind, i) for i in ids) if f is not None]
        return [f for f in candidates if all(_matches(f.get(k), v) for k, v in criteria.items())]


def _matches(have: Any, want: Any) -> bool:
    if isinstance(have, _COLLECTIONS):
        return str(want) in {str(h) for h in have}
    return have == want or (have is not None and str(have) == str(want))
