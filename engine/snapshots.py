"""Compact, JSON-able copies of events kept in state (windows, expectations).

An open expectation may live for hours among a million others, so it keeps a
short JSON string of the event's set fields, not the model object, and no
``raw`` body. It is turned back into an Event only when a rule fires.
"""

from __future__ import annotations

from typing import Any

import orjson

from engine.events import Event

_SKIP = frozenset({"raw", "facts"})


def snapshot(event: Event) -> str:
    fields = {
        name: value
        for name, value in event.__dict__.items()
        if value is not None and value != {} and name not in _SKIP
    }
    return orjson.dumps(fields, default=str).decode()


def restore(snap: str) -> Event:
    data: dict[str, Any] = orjson.loads(snap)
    return Event.model_validate(data)


def snapshot_id(snap: str) -> str:
    """The event id inside a snapshot, without a full restore."""
    value = orjson.loads(snap)["id"]
    return str(value)
