"""Compact, JSON-able copies of events kept in state (windows, expectations).

An open expectation may live for hours among a million others, so it keeps a
short JSON string of the event's set fields, not the model object, and no
``raw`` body. Every operator keeps the event's timestamp beside its snapshot,
so the snapshot leaves the time out and ``restore`` takes it back from there.
It is turned back into an Event only when a rule fires.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from engine.events import Event

_FIELDS = tuple(name for name in Event.model_fields
                if name not in ("time", "raw", "facts", "data"))


_last: tuple[Event | None, str] = (None, "")


def snapshot(event: Event) -> str:
    """The event's set fields as JSON; the last one is reused, as several rules
    keeping the same event ask for it in turn."""
    global _last
    last_event, last_snap = _last
    if event is last_event:
        return last_snap
    values = event.__dict__
    fields = {}
    for name in _FIELDS:  # a loop: a comprehension is a function call per snapshot
        value = values[name]
        if value is not None:
            fields[name] = value
    data = values["data"]
    if data:
        fields["data"] = data
    snap = orjson.dumps(fields, default=str).decode()
    _last = (event, snap)
    return snap


def restore(snap: str, ts: float) -> Event:
    """The event of ``snapshot``; ``ts`` is its ``time.timestamp()``, kept beside it."""
    data: dict[str, Any] = orjson.loads(snap)
    data["time"] = datetime.fromtimestamp(ts, UTC)
    return Event.model_validate(data)
