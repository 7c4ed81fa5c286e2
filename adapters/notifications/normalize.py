"""Apply the mappings to one decoded notification: the generic engine, no per-type code.

Everything type-specific lives in ``mappings/*.yaml``; this module only walks
the compiled mapping, checks the types the envelope needs and builds the
``Event`` (with its inventory ``FactUpdate`` list).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, get_args

from adapters.notifications.codegen import (
    CompiledMappings,
    Plan,
    as_text,
    compiled_mappings,
    fact_update,
)
from adapters.notifications.decode import content_id, message_view
from adapters.notifications.errors import NormalizationError
from adapters.notifications.mapping import Mapping, MappingSet, load_mappings
from engine.events import EVENT_FIELDS, Event, FactKind, FactUpdate, trusted_event
from engine.eventtime import EventTimeError

#: Envelope fields a mapping may fill (``id``/``type`` come from the message itself).
MAPPABLE_FIELDS = frozenset(
    {"service", "host", "request_id", "global_request_id", "project_id", "user_id",
     "severity", "instance_id", "volume_id", "port_id", "mac", "image_id",
     "image_base_hash", "origin", "time"}
)

_default: MappingSet | None = None
#: an Event's fields in field order, all None: copied and filled for each event
_EVENT_TEMPLATE: dict[str, Any] = dict.fromkeys(EVENT_FIELDS)
_N_FIELDS = len(_EVENT_TEMPLATE)
#: the envelope's values are all exact ``str`` when their types are a subset of this
_TEXT_ONLY = frozenset({str})


def default_mappings() -> MappingSet:
    """The shipped mappings, compiled once per process."""
    global _default
    if _default is None:
        _default = load_mappings()
        _check_fields(_default)
    return _default


def _check_fields(mappings: MappingSet) -> None:
    named = [(name, "common") for name, _ in (*mappings.common_fields, *mappings.derived_fields)]
    for mapping in mappings.mappings:
        named += [(name, f"{mapping.source}: {mapping.name}") for name, _ in mapping.fields]
    for name, where in named:
        if name not in MAPPABLE_FIELDS:
            raise NormalizationError(f"{where}: {name!r} is not an event envelope field")
    kinds = get_args(FactKind)
    for mapping in mappings.mappings:
        for spec in mapping.facts:
            if spec.kind not in kinds:  # trusted_fact does not check: check the kind here
                raise NormalizationError(
                    f"{mapping.source}: {mapping.name}: fact kind {spec.kind!r} is not one of "
                    f"{', '.join(kinds)}")


def _envelope_text(envelope: dict[str, Any]) -> None:
    """Every envelope value as text (numbers and booleans printed), else the error."""
    for name, value in envelope.items():
        if value.__class__ is not str:
            envelope[name] = as_text(name, value)


def normalize(
    message: dict[str, Any],
    *,
    fallback_id: str | None = None,
    fallback_time: datetime | None = None,
    mappings: MappingSet | None = None,
    wanted: Iterable[str] | None = None,
) -> Event | None:
    """One decoded notification (any of the three shapes) → ``Event``, or None if ignored.

    ``id`` is the message_id; without one, ``fallback_id``, else a sha1 of the
    canonical body (bare test samples). ``time`` is the notification timestamp,
    else a payload time, else ``fallback_time``. ``wanted``: the field names
    something reads (``engine.reads.fields_read``); only those (and what the facts
    need) are extracted; None extracts all. Raises ``NormalizationError``.
    """
    compiled = compiled_mappings(mappings or default_mappings(), wanted)
    return _normalize(message, fallback_id, fallback_time, compiled)


def normalizer(wanted: Iterable[str] | None = None, mappings: MappingSet | None = None,
               ) -> Callable[[dict[str, Any], str | None], Event | None]:
    """``normalize`` bound to one ``wanted`` set, every plan generated now (not on the first
    message of each type): ``(message, fallback_id) -> Event | None``, as the live
    consumer calls it."""
    compiled = compiled_mappings(mappings or default_mappings(), wanted)
    for mapping in compiled.mappings.mappings:
        if not mapping.ignore:
            compiled.plan(mapping)

    def run(message: dict[str, Any], fallback_id: str | None) -> Event | None:
        return _normalize(message, fallback_id, None, compiled)

    return run


class _PlainPlans(CompiledMappings):
    """``CompiledMappings`` whose plans walk the mapping field by field (``normalize_plain``)."""

    def plan(self, mapping: Mapping) -> Plan:
        mset = self.mappings

        def fill(root: dict[str, Any], envelope: dict[str, Any], data: dict[str, Any]) -> None:
            mset.common_fields.fill(root, envelope, True)
            mapping.fields.fill(root, envelope, True)
            mapping.data.fill(root, data, False)
            mset.derived_fields.fill(root, envelope, True)

        def facts(root: dict[str, Any], event_type: str) -> list[FactUpdate]:
            found: list[FactUpdate] = []
            for spec in mapping.facts:
                fact_id = spec.id(root)
                if fact_id is None or fact_id == "":
                    continue
                fields: dict[str, Any] = {}
                spec.fields.fill(root, fields, False)
                found.append(fact_update(spec, fact_id, fields, event_type))
            return found

        return Plan(fill, facts)


def normalize_plain(
    message: dict[str, Any],
    *,
    fallback_id: str | None = None,
    fallback_time: datetime | None = None,
    mappings: MappingSet | None = None,
) -> Event | None:
    """``normalize`` walking each mapping field by field (``FieldPlan.fill``), every field.

    The reference the generated plans are tested against; nothing else calls it.
    """
    plans = _PlainPlans(mappings or default_mappings(), None)
    return _normalize(message, fallback_id, fallback_time, plans)


def _normalize(message: dict[str, Any], fallback_id: str | None,
               fallback_time: datetime | None, compiled: CompiledMappings) -> Event | None:
    if not isinstance(message, dict):
        raise NormalizationError(f"message is a {type(message).__name__}, not an object")
    root = message_view(message)
    event_type = root["event_type"]
    if not isinstance(event_type, str) or not event_type:
        raise NormalizationError("no event_type")
    payload = root["payload"]
    if payload is not None and not isinstance(payload, dict):
        raise NormalizationError(f"payload is a {type(payload).__name__}, not an object")
    publisher_id = root["publisher_id"]
    key = (event_type, publisher_id if isinstance(publisher_id, str) else None)
    route = compiled.routes.get(key) or compiled.route(*key)
    if route is None:
        raise NormalizationError(f"no mapping for event type {event_type!r}")
    mapping, plan = route
    if plan is None:  # the mapping ignores these
        return None

    envelope: dict[str, Any] = {}
    data: dict[str, Any] = {}
    root["event"] = envelope
    root["data"] = data
    # an empty string is "not known" for the envelope (boot-from-volume image_uuid "")
    plan.fill(root, envelope, data)

    time = envelope.pop("time", None) or fallback_time
    if not isinstance(time, datetime):
        raise NormalizationError(f"{event_type}: no usable timestamp in message or payload")
    if mapping.service:
        envelope["service"] = mapping.service
    # all text nearly always: one pass in C (`map(type, ...)`) says so, no loop here
    if not _TEXT_ONLY.issuperset(map(type, envelope.values())):
        _envelope_text(envelope)
    mac = envelope.get("mac")
    if mac:
        envelope["mac"] = mac.lower()

    facts = plan.facts(root, event_type)  # after the envelope is finished: facts read it so
    message_id = root["message_id"]
    # every field, in field order, filled in: trusted_event takes it as the event's own
    # (MAPPABLE_FIELDS, checked at load, are all Event fields; id/type/time set here)
    fields = _EVENT_TEMPLATE.copy()
    fields.update(envelope)
    fields["id"] = (message_id if message_id.__class__ is str else str(message_id)) \
        if message_id else (fallback_id or content_id(message))
    fields["type"] = event_type
    fields["time"] = time
    fields["data"] = data
    fields["raw"] = message
    fields["facts"] = facts
    try:
        # time to UTC there, and in the sane range; a name no Event has (a caller's own
        # MappingSet, not checked at load) left to trusted_event's TypeError, as before
        return trusted_event(fields, len(fields) == _N_FIELDS)
    except EventTimeError as exc:
        raise NormalizationError(f"{event_type}: {exc.reason}") from None
