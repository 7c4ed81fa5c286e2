"""Building ``Event`` objects at log speed.

Validating every field through pydantic costs more than parsing the line, so
log parsers build events here from values that are already in the envelope's
canonical form (time in UTC, MAC lower-case); ``tests/logs`` re-validates the
events of the whole corpus to prove the shortcut yields the same models.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from engine.events import Event

#: Every field is set, so every event shares one fields-set: pydantic only ever adds
#: a field name to it on assignment, which for a name already there changes nothing.
_ALL_SET: set[str] = set(Event.model_fields)

SEVERITIES: dict[str, str] = {
    "DEBUG": "debug", "debug": "debug",
    "INFO": "info", "info": "info", "AUDIT": "info", "NOTICE": "info", "notice": "info",
    "WARNING": "warning", "warning": "warning", "WARN": "warning", "warn": "warning",
    "ERROR": "error", "error": "error", "TRACE": "error", "err": "error",
    "CRITICAL": "critical", "critical": "critical", "crit": "critical",
    "alert": "critical", "emerg": "critical", "emergency": "critical",
}


def _slot_setter(name: str) -> Callable[[Event, Any], None]:
    """The setter of the descriptor behind ``name`` (a slot of pydantic's model).

    Calling it directly skips ``object.__setattr__``'s lookup of the name: four of
    these per event were a sixth of building one.
    """
    for klass in Event.__mro__:
        if name in vars(klass):
            setter: Callable[[Event, Any], None] = vars(klass)[name].__set__
            return setter
    raise LookupError(name)


_new = Event.__new__
_set_dict = _slot_setter("__dict__")
_set_fields_set = _slot_setter("__pydantic_fields_set__")
_set_extra = _slot_setter("__pydantic_extra__")
_set_private = _slot_setter("__pydantic_private__")

_FIELD_NAMES: frozenset[str] = frozenset(Event.model_fields)

#: (request_id, global_request_id, user_id, project_id), as ``adapters.logs.oslo`` splits
#: a context; a stream without request contexts passes ``NO_IDS``.
IdTuple = tuple[str | None, str | None, str | None, str | None]
NO_IDS: IdTuple = (None, None, None, None)


class StreamEvents:
    """Events of one stream, where origin and service never change.

    Origin and service are filled in once; per line the envelope is a copy of that
    template and a few stores, taken positionally (keyword arguments cost a dict of
    their own per call). Every parser builds its events here, so one test of this
    class against the validated model covers them all.
    """

    __slots__ = ("_base", "_prefix")

    def __init__(self, origin: str, service: str) -> None:
        self._prefix = f"{origin}#"  # log_event_id() is prefix + position
        self._base: dict[str, Any] = dict.fromkeys(Event.model_fields)  # field order
        self._base["origin"] = origin
        self._base["service"] = service

    def make(
        self, position: int | str, type_: str, time: datetime, raw: str, data: dict[str, Any],
        host: str | None, severity: str | None, ids: IdTuple = NO_IDS,
        instance_id: str | None = None, envelope: dict[str, Any] | None = None,
    ) -> Event:
        """An Event without re-validation: ``time`` must be UTC-aware, ``mac`` lower-case.

        ``envelope`` may set any other envelope field (a name that is none raises).
        """
        values = self._base.copy()
        values["id"] = f"{self._prefix}{position}"
        values["type"] = type_
        values["time"] = time
        values["host"] = host
        values["severity"] = severity
        values["request_id"], values["global_request_id"], values["user_id"], \
            values["project_id"] = ids
        values["instance_id"] = instance_id
        if envelope:
            if not _FIELD_NAMES.issuperset(envelope):
                raise TypeError(f"not envelope fields: {sorted(set(envelope) - _FIELD_NAMES)}")
            values.update(envelope)
        values["data"] = data
        values["raw"] = raw
        values["facts"] = []
        event = _new(Event)
        _set_dict(event, values)
        _set_fields_set(event, _ALL_SET)
        _set_extra(event, None)
        _set_private(event, None)
        return event
