"""Compact, JSON-able copies of events kept in state (windows, expectations).

An open expectation may live for hours among a million others, so it keeps
the event's fields, not the model object, and no ``raw`` body. Every operator
keeps the event's timestamp beside its snapshot, so the snapshot leaves the
time out and ``restore`` takes it back from there. It is turned back into an
Event only when a rule fires, and it holds only the fields that rule can read
then (``engine.reads``).

With a ``Keep`` (the usual case) a snapshot is a tuple: the kept names joined
in one string, then their values in that order, the very string objects of the
event (the id a dedup mark also holds costs nothing more), and the kept ``data``
last as JSON text (a dict would be a mutable container per entry for every
garbage collection to walk). The names string is one object per rule, so the
tuple is self-describing for the price of a reference, and a store that
serializes it (Redis: a JSON list) restores it even after the rule changed.
Without a Keep (a rule that may read anything) it is the JSON text of the set
fields.
"""

from __future__ import annotations

from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson

from engine.events import Event
from engine.reads import Keep

_FIELDS = tuple(name for name in Event.model_fields
                if name not in ("time", "raw", "facts", "data"))

#: a snapshot: the JSON text of the set fields, or ``(names, *values)`` (a list once
#: a store has serialized it)
Snapshot = str | tuple[Any, ...] | list[Any]

_last: tuple[Event | None, Keep | None, Snapshot] = (None, None, "")


class _Plan:
    """How to snapshot for one Keep, worked out once (a Keep lives as long as its rule)."""

    __slots__ = ("data", "get", "keep", "names", "names_data")

    def __init__(self, keep: Keep) -> None:
        self.keep = keep
        envelope = keep.envelope
        getter = itemgetter(*envelope)
        # itemgetter of one name hands back the bare value: always a tuple here
        self.get = getter if len(envelope) > 1 else (lambda values: (getter(values),))
        self.names = ",".join(envelope)
        self.names_data = self.names + ",data"
        self.data = keep.data


_plans: dict[int, _Plan] = {}  # id(keep) -> plan (checked against the keep itself)
_names: dict[str, tuple[str, ...]] = {}  # names string -> the names, for restore


def _plan(keep: Keep) -> _Plan:
    plan = _plans.get(id(keep))
    if plan is None or plan.keep is not keep:
        plan = _plans[id(keep)] = _Plan(keep)
    return plan


def snapshot(event: Event, keep: Keep | None = None) -> Snapshot:
    """The event's fields, only those in ``keep`` (``engine.reads``: what the rule can
    read of it) when given. The last one is reused, as several rules keeping the same
    event ask for it in turn."""
    global _last
    last_event, last_keep, last_snap = _last
    if event is last_event and keep is last_keep:
        return last_snap
    values = event.__dict__
    snap: Snapshot
    if keep is None:
        snap = _json_snapshot(values)
    else:
        plan = _plans.get(id(keep))  # _plan inline: a call per snapshot
        if plan is None or plan.keep is not keep:
            plan = _plan(keep)
        kept = plan.get(values)
        data = values["data"]
        wanted = plan.data
        if data and wanted is not None:
            data = {k: data[k] for k in wanted if k in data}
        if data:
            snap = (plan.names_data, *kept, orjson.dumps(data, default=str).decode())
        else:
            snap = (plan.names,) + kept  # noqa: RUF005  # a concatenation: (n, *k) builds a list
    _last = (event, keep, snap)
    return snap


def _json_snapshot(values: dict[str, Any]) -> str:
    """Every set field, as JSON text (a rule that may read anything of the event)."""
    fields = {}
    for name in _FIELDS:  # a loop: a comprehension is a function call per snapshot
        value = values[name]
        if value is not None:
            fields[name] = value
    if values["data"]:
        fields["data"] = values["data"]
    return orjson.dumps(fields, default=str).decode()


def restore(snap: Snapshot, ts: float) -> Event:
    """The event of ``snapshot``; ``ts`` is its ``time.timestamp()``, kept beside it."""
    data: dict[str, Any]
    if isinstance(snap, str):
        data = orjson.loads(snap)
    else:
        names = _names.get(snap[0])
        if names is None:
            names = _names[snap[0]] = tuple(snap[0].split(","))
        data = dict(zip(names, snap[1:], strict=True))
        if names[-1] == "data":
            data["data"] = orjson.loads(data["data"])
    data["time"] = datetime.fromtimestamp(ts, UTC)
    return Event.model_validate(data)
