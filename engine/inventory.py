"""Inventory facts (instances, ports, volumes, services, hosts) kept in the store.

Facts arrive as ``FactUpdate``s carried by events (or from a snapshot seed)
and are merged field by field. Only the fields rules join on are indexed, so
a join is one set lookup however many instances the cloud runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import Any

from engine.events import FactUpdate
from engine.store import StateStore

# a tuple of types, built once: `A | B` in isinstance() builds a union object per call
_COLLECTIONS = (list, tuple, set)


_update_fields = itemgetter("kind", "id", "fields", "delete")


def _fact_key(kind: str, fact_id: str) -> str:
    return f"fact:{kind}:{fact_id}"


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

    def __init__(self, store: StateStore, indexed: Iterable[tuple[str, str]] = ()) -> None:
        self.store = store
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
                for field in fields:
                    for value in _indexable(old.get(field)):
                        store.set_remove(_index_key(kind, field, value), fact_id)
                store.delete(key)
            return
        new = {**old, **changes, "id": fact_id} if old else {**changes, "id": fact_id}
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

    def get(self, kind: str, fact_id: str) -> dict[str, Any] | None:
        fact: dict[str, Any] | None = self.store.get(_fact_key(kind, fact_id))
        return fact

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
