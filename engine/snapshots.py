"""Compact, JSON-able copies of events kept in state (windows, expectations).

An open expectation may live for hours among a million others, so it keeps a
short JSON string of the event's set fields, not the model object, and no
``raw`` body. It is turned back into an Event only when a rule fires.
"""

from __future__ import annotations

from typing import Any

import orjson

from engine.events import Event

_FIELDS = tuple(name for name in Event.model_fields if name not in ("raw", "facts", "data"))


def snapshot(event: Event) -> str:
    values = event.__dict__
    fields = {name: values[name] for name in _FIELDS if values[name] is not None}
    if event.data:
        fields["data"] = event.data
    return orjson.dumps(fields, default=str).decode()


def restore(snap: str) -> Event:
    data: dict[str, Any] = orjson.loads(snap)
    return Event.model_validate(data)


def snapshot_id(snap: str) -> str:
    """The event id inside a snapshot, without a full restore."""
    value = orjson.loads(snap)["id"]
    return str(value)
