"""Building ``Event`` objects at log speed.

Validating every field through pydantic costs more than parsing the line, so
log parsers build events here from values that are already in the envelope's
canonical form (time in UTC, MAC lower-case); ``tests/logs`` re-validates the
events of the whole corpus to prove the shortcut yields the same models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.events import Event, log_event_id

_FIELDS: tuple[str, ...] = tuple(Event.model_fields)
_TEMPLATE: dict[str, Any] = dict.fromkeys(_FIELDS)
_ALL_SET: frozenset[str] = frozenset(_FIELDS)

SEVERITIES: dict[str, str] = {
    "DEBUG": "debug", "debug": "debug",
    "INFO": "info", "info": "info", "AUDIT": "info", "NOTICE": "info", "notice": "info",
    "WARNING": "warning", "warning": "warning", "WARN": "warning", "warn": "warning",
    "ERROR": "error", "error": "error", "TRACE": "error", "err": "error",
    "CRITICAL": "critical", "critical": "critical", "crit": "critical",
    "alert": "critical", "emerg": "critical", "emergency": "critical",
}


def make_event(
    origin: str,
    position: int | str,
    type_: str,
    time: datetime,
    raw: str,
    data: dict[str, Any],
    **envelope: Any,
) -> Event:
    """An Event without re-validation; ``time`` must be UTC-aware, ``mac`` lower-case."""
    values = _TEMPLATE.copy()
    values.update(envelope)
    values["id"] = log_event_id(origin, position)
    values["type"] = type_
    values["time"] = time
    values["origin"] = origin
    values["raw"] = raw
    values["data"] = data
    values["facts"] = []
    event = _new(Event)
    _set(event, "__dict__", values)
    _set(event, "__pydantic_fields_set__", set(_ALL_SET))
    _set(event, "__pydantic_extra__", None)
    _set(event, "__pydantic_private__", None)
    return event


_new = Event.__new__
_set = object.__setattr__
