"""Compact, JSON-able copies of events kept in state (windows, expectations).

An open expectation may live for hours among a million others, so it keeps a
short JSON string of the event's set fields, not the model object, and no
``raw`` body. Every operator keeps the event's timestamp beside its snapshot,
so the snapshot leaves the time out and ``restore`` takes it back from there.
It is turned back into an Event only when a rule fires, and it holds only the
fields that rule can read then (``engine.reads``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from engine.events import Event
from engine.reads import Keep

_FIELDS = tuple(name for name in Event.model_fields
                if name not in ("time", "raw", "facts", "data"))


_last: tuple[Event | None, Keep | None, str] = (None, None, "")


def snapshot(event: Event, keep: Keep | None = None) -> str:
    """The event's set fields as JSON, only those in ``keep`` (``engine.reads``: what
    the rule can read of it) when given. The last one is reused, as several rules
    keeping the same event ask for it in turn."""
    global _last
    last_event, last_keep, last_snap = _last
    if event is last_event and keep is last_keep:
        return last_snap
    values = event.__dict__
    fields = {}
    names = _FIELDS if keep is None else keep.envelope
    for name in names:  # a loop: a comprehension is a function call per snapshot
        value = values[name]
        if value is not None:
            fields[name] = value
    data = values["data"]
    if data:
        wanted = None if keep is None else keep.data
        if wanted is None:
            fields["data"] = data
        else:
            kept = {k: data[k] for k in wanted if k in data}
            if kept:
                fields["data"] = kept
    snap = orjson.dumps(fields, default=str).decode()
    _last = (event, keep, snap)
    return snap


def restore(snap: str, ts: float) -> Event:
    """The event of ``snapshot``; ``ts`` is its ``time.timestamp()``, kept beside it."""
    data: dict[str, Any] = orjson.loads(snap)
    data["time"] = datetime.fromtimestamp(ts, UTC)
    return Event.model_validate(data)
