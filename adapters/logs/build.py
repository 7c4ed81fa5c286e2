"""Building ``Event`` objects at log speed.

Validating every field through pydantic costs more than parsing the line, so
log parsers build events here from values they typed themselves, through
``engine.events.trusted_event`` (which applies the validators' UTC time and
lower-case MAC by hand); ``tests/logs`` re-validates the events of the whole
corpus to prove the shortcut yields the same models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.events import EVENT_FIELDS, Event, trusted_event

SEVERITIES: dict[str, str] = {
    "DEBUG": "debug", "debug": "debug",
    "INFO": "info", "info": "info", "AUDIT": "info", "NOTICE": "info", "notice": "info",
    "WARNING": "warning", "warning": "warning", "WARN": "warning", "warn": "warning",
    "ERROR": "error", "error": "error", "TRACE": "error", "err": "error",
    "CRITICAL": "critical", "critical": "critical", "crit": "critical",
    "alert": "critical", "emerg": "critical", "emergency": "critical",
}


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
        self._base: dict[str, Any] = dict.fromkeys(EVENT_FIELDS)  # taken as is by trusted_event
        self._base["origin"] = origin
        self._base["service"] = service

    def make(
        self, position: int | str, type_: str, time: datetime, raw: str, data: dict[str, Any],
        host: str | None, severity: str | None, ids: IdTuple = NO_IDS,
        instance_id: str | None = None, envelope: dict[str, Any] | None = None,
    ) -> Event:
        """An Event without re-validation (``trusted_event``): values of the field types.

        ``envelope`` may set any other envelope field (a name that is none raises TypeError).
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
            values.update(envelope)
            if len(values) != len(self._base):  # a name that is no field was added
                raise TypeError(f"not envelope fields: {sorted(set(envelope) - set(self._base))}")
        values["data"] = data
        values["raw"] = raw
        values["facts"] = []
        return trusted_event(values, True)  # every field, in field order
