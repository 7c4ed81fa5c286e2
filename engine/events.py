"""The event envelope every source normalizes into.

One shape for notifications and log lines alike, so a rule can correlate a
cinder-api log line with a nova notification by the same field names.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.eventtime import EARLIEST, LATEST, check_event_time, outside

FactKind = Literal["instance", "port", "volume", "service", "host", "image", "network"]

#: Envelope fields a rule may correlate on (beside ``data.*``).
ENVELOPE_FIELDS: tuple[str, ...] = (
    "id", "type", "time", "service", "host", "request_id", "global_request_id",
    "project_id", "user_id", "severity", "instance_id", "volume_id", "port_id",
    "mac", "image_id", "image_base_hash", "origin",
)

#: Fields that name what an event is about (where, whose, which), envelope or ``data``:
#: a firing carries those its rule reads as labels, so receivers can group and silence
#: by them (``engine.reads.identity_fields``).
IDENTITY_FIELDS: tuple[str, ...] = (
    "host", "switch", "interface", "project_id", "user_id", "instance_id", "volume_id",
    "port_id", "mac", "image_id", "image_base_hash", "request_id",
)


class FactUpdate(BaseModel):
    """An inventory change carried by an event (upsert of fields, or delete).

    The normalizer that knows what a notification means attaches these; the
    engine applies them in event order, so inventory is replayable too.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FactKind
    id: str
    fields: dict[str, Any] = Field(default_factory=dict)
    delete: bool = False


class Event(BaseModel):
    """A normalized happening: one notification or one log line.

    ``id`` is the notification's message_id, or for a log line its origin and
    position, so two identical lines are still two events while a redelivered
    message keeps its identity.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    type: str
    time: datetime
    service: str | None = None
    host: str | None = None
    request_id: str | None = None
    global_request_id: str | None = None
    project_id: str | None = None
    user_id: str | None = None
    severity: str | None = None
    instance_id: str | None = None
    volume_id: str | None = None
    port_id: str | None = None
    mac: str | None = None
    image_id: str | None = None
    image_base_hash: str | None = None
    origin: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    raw: Any = None
    facts: list[FactUpdate] = Field(default_factory=list)

    @field_validator("time")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        """Event time is always UTC, a naive time taken as UTC, and in the sane range
        (``engine.eventtime``)."""
        if value.tzinfo is None:
            return check_event_time(value.replace(tzinfo=UTC))
        try:
            return check_event_time(value.astimezone(UTC))
        except OverflowError:  # 9999-12-31T23:00-05:00 is past datetime.max in UTC
            raise outside(value) from None

    @field_validator("mac")
    @classmethod
    def _lower_mac(cls, value: str | None) -> str | None:
        """MACs compare lower-case, whatever the switch or dnsmasq printed."""
        return value.lower() if value else value

    def field(self, name: str) -> Any:
        """An envelope field, or else the key of ``data`` with that name."""
        if name in self.__class__.model_fields:
            return getattr(self, name)
        return self.data.get(name)

    def context(self) -> dict[str, Any]:
        """A flat mapping for templates: ``data`` keys first, envelope on top."""
        ctx = dict(self.data)
        for name in ENVELOPE_FIELDS:
            value = getattr(self, name)
            if value is not None or name not in ctx:
                ctx[name] = value
        ctx["data"] = self.data
        return ctx


@functools.lru_cache(maxsize=4096)
def image_base_hash(image_id: str) -> str:
    """nova's image cache names a base file ``sha1(image id)`` (hex).

    Remembered per id: a site boots from a few hundred images, and every instance
    notification asks again (a hit costs a fraction of a sha1).
    """
    return hashlib.sha1(image_id.encode("utf-8")).hexdigest()


def log_event_id(origin: str, position: int | str) -> str:
    """Identity of a log line: where it came from and where in that stream."""
    return f"{origin}#{position}"


# --- building from trusted values ------------------------------------------------
# The bus and the log parsers build an Event per message from values that are already
# of the field types (compiled mappings, our own parsers); pydantic's validation cost
# more than the rest of their work. These two functions build the same models as
# validation does, applying the validators above by hand; tests/engine/test_trusted.py
# compares them with ``Event(...)`` on every corpus message and on generated values.

def _slot_setter(name: str) -> Callable[[Any, Any], None]:
    """The setter of BaseModel's slot ``name``: one C call, past pydantic's __setattr__
    and past ``object.__setattr__``'s lookup of the name."""
    for klass in Event.__mro__:
        if name in vars(klass):
            setter: Callable[[Any, Any], None] = vars(klass)[name].__set__
            return setter
    raise LookupError(name)


_set_dict = _slot_setter("__dict__")
_set_fields_set = _slot_setter("__pydantic_fields_set__")
_set_extra = _slot_setter("__pydantic_extra__")
_set_private = _slot_setter("__pydantic_private__")
_new_event = Event.__new__
_new_fact = FactUpdate.__new__

#: Every field, in field order (validation's ``__dict__`` order, hence model_dump's).
EVENT_FIELDS: tuple[str, ...] = tuple(Event.model_fields)
_N_FIELDS = len(EVENT_FIELDS)
#: Every default is None but ``data`` and ``facts`` (fresh ones per event).
_NONE_DEFAULTS: dict[str, Any] = dict.fromkeys(EVENT_FIELDS)
#: Shared by the events given every field: pydantic only ever ``add``s a field name to
#: a model's fields-set (on assignment), which changes nothing in a full one.
_ALL_SET: set[str] = set(EVENT_FIELDS)
_FACT_ALL_SET: set[str] = set(FactUpdate.model_fields)  # frozen: never added to
_REQUIRED = tuple(name for name, info in Event.model_fields.items() if info.is_required())


def trusted_event(values: dict[str, Any], complete: bool = False) -> Event:
    """``Event(**values)`` without validation, for values already of the field types.

    What the validators do is done here: ``time`` (a datetime) to UTC, naive taken as
    UTC, and out of the sane range an ``EventTimeError``; ``mac`` lower-case. A missing
    field gets its default and, as with ``Event(**values)``, is not in
    ``model_fields_set``. An unknown name or a missing (or None) ``id``/``type``/``time``
    raises TypeError. ``values`` is handed over (its
    ``data``/``facts`` kept, not copied as pydantic does). ``complete``: the caller's word
    that ``values`` holds every field, in field order, and no other name (a copy of
    ``dict.fromkeys(EVENT_FIELDS)`` filled in): it becomes the event's own ``__dict__``,
    with no check per event (the log parsers' case).
    """
    if complete:
        fields = values
        fields_set = _ALL_SET
    else:
        fields = {**_NONE_DEFAULTS, **values}  # field order, whatever the order given
        if len(fields) != _N_FIELDS:
            raise TypeError(f"not Event fields: {sorted(set(values) - _ALL_SET)}")
        if fields["data"] is None:  # a None given is no dict either: validation refuses it
            fields["data"] = {}
        if fields["facts"] is None:
            fields["facts"] = []
        if fields["time"] is None or fields["id"] is None or fields["type"] is None:
            raise TypeError(f"Event fields missing: {[n for n in _REQUIRED if fields[n] is None]}")
        fields_set = set(values)
    time = fields["time"]
    zone = time.tzinfo
    if zone is not UTC:
        try:
            fields["time"] = time = (time.replace(tzinfo=UTC) if zone is None
                                     else time.astimezone(UTC))
        except OverflowError:
            raise outside(time) from None
    if not EARLIEST <= time < LATEST:
        raise outside(time)
    mac = fields["mac"]
    if mac:
        fields["mac"] = mac.lower()
    event = _new_event(Event)
    _set_dict(event, fields)
    _set_fields_set(event, fields_set)
    _set_extra(event, None)
    _set_private(event, None)
    return event


def trusted_fact(kind: str, fact_id: str, fields: dict[str, Any], delete: bool) -> FactUpdate:
    """``FactUpdate(kind=.., id=.., fields=.., delete=..)`` without validation.

    ``kind`` must be a ``FactKind`` (the caller checked it once, e.g. at mapping load);
    ``fields`` is handed over, not copied.
    """
    fact = _new_fact(FactUpdate)
    _set_dict(fact, {"kind": kind, "id": fact_id, "fields": fields, "delete": delete})
    _set_fields_set(fact, _FACT_ALL_SET)
    _set_extra(fact, None)
    _set_private(fact, None)
    return fact
