"""The small, named value transforms a mapping may apply (no code in YAML).

Like Ceilometer's event-definition plugins: a mapping names a transform, and
only the functions registered here can run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from engine.events import image_base_hash

Transform = Callable[[Any], Any]

_SEVERITY = {"warn": "warning", "warning": "warning", "info": "info", "error": "error",
             "critical": "critical", "debug": "debug", "audit": "info", "sample": "info"}


def _empty(value: Any) -> bool:
    return value is None or value == ""


def last_path_segment(value: Any) -> Any:
    """``http://glance/images/<id>`` → ``<id>``; a URL ending in ``/`` has none."""
    if not isinstance(value, str):
        return None
    tail = value.rsplit("/", 1)[-1]
    return tail or None


def host_only(value: Any) -> Any:
    """cinder's ``host@backend#pool`` → ``host`` (the machine a rule names)."""
    if not isinstance(value, str):
        return value
    return value.split("@", 1)[0].split("#", 1)[0] or None


#: oslo's ``str(utcnow())``: ``2018-05-29 20:12:38.640725``, naive, the bus's every timestamp
_OSLO_LEN = 26
_OSLO_DOT = 19


def parse_time(value: Any) -> datetime | None:
    """oslo (``2018-05-29 20:12:38.640725``) and payload styles (``...Z``, ``+00:00``) → UTC.

    Unparseable (the corpus has ``23:59:99Z``) → None, so the next candidate is tried.
    An oslo timestamp (microseconds, so no room for an offset) is parsed once, as UTC
    (``_oslo_utc``); anything else takes ``parse_time_plain``.
    """
    if value.__class__ is str and len(value) == _OSLO_LEN and value[_OSLO_DOT] == ".":
        parsed = _oslo_utc(value)
        if parsed is not None:
            return parsed
    return parse_time_plain(value)


def _oslo_utc(value: str) -> datetime | None:
    """``value`` (oslo's form) parsed with ``+00:00`` appended: what ``parse_time_plain``
    gives for it, in one parse instead of two; None if that does not parse."""
    try:
        return datetime.fromisoformat(value + "+00:00")
    except ValueError:
        return None


def parse_time_plain(value: Any) -> datetime | None:
    """``parse_time`` for any value: the reference ``_oslo_utc`` is tested against."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            return _naive_utc(value, parsed)
    else:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 9999 at -05:00: the Event refuses it, saying why
        return parsed


def _naive_utc(text: str, parsed: datetime) -> datetime:
    """``parsed`` (from ``text``, no offset) as UTC: parsed again with ``+00:00``, which
    costs a fraction of ``replace(tzinfo=...)``; a date alone takes the long way."""
    try:
        return datetime.fromisoformat(text + "+00:00")
    except ValueError:
        return parsed.replace(tzinfo=UTC)


def severity(value: Any) -> Any:
    """oslo priority (``INFO``, ``WARN``...) → info / warning / error / critical."""
    if not isinstance(value, str):
        return None
    lowered = value.lower()
    return _SEVERITY.get(lowered, lowered)


_SERVICES = {
    "compute": "nova", "scheduler": "nova", "api": "nova", "conductor": "nova",
    "volume": "cinder", "snapshot": "cinder", "capacity": "cinder", "backup": "cinder",
    "network": "neutron", "neutron": "neutron", "image": "glance", "glance": "glance",
}


def service_name(value: Any) -> Any:
    """Publisher prefix → service: ``compute`` / ``nova-compute`` → nova, ``volume`` → cinder."""
    if not isinstance(value, str) or not value:
        return None
    if value.startswith("nova-"):
        return "nova"
    if value.startswith("cinder-"):
        return "cinder"
    return _SERVICES.get(value, value)


def to_int(value: Any) -> Any:
    """cinder sizes come as numbers or strings (``"40"``)."""
    if isinstance(value, bool) or value is None:
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def to_list(value: Any) -> Any:
    if value is None or isinstance(value, list):
        return value
    return [value]


TRANSFORMS: dict[str, Transform] = {
    "last_path_segment": last_path_segment,
    "host_only": host_only,
    "time": parse_time,
    "severity": severity,
    "lower": lambda v: v.lower() if isinstance(v, str) else v,
    "str": lambda v: None if v is None else str(v),
    "int": to_int,
    "bool": lambda v: None if v is None else bool(v),
    "not": lambda v: None if v is None else not v,
    "is_empty": _empty,
    "nonempty": lambda v: None if _empty(v) or v == [] or v == {} else v,
    "list": to_list,
    "service_name": service_name,
    "image_base_hash": lambda v: image_base_hash(v) if isinstance(v, str) and v else None,
}
