"""Dotted paths (``mac``, ``data.switch``, ``port.device_id``) compiled to getters.

A path is resolved once at rule load into a small function, so matching an
event costs an attribute or dict lookup per step, never string parsing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import Any

from engine.events import Event

Getter = Callable[[Any], Any]
_ENVELOPE = frozenset(Event.model_fields)


def step(obj: Any, part: str) -> Any:
    """One step down a path through events, mappings and lists."""
    if obj is None:
        return None
    if isinstance(obj, Event):
        return obj.field(part)
    if isinstance(obj, Mapping):
        return obj.get(part)
    if isinstance(obj, list | tuple) and part.lstrip("-").isdigit():
        index = int(part)
        return obj[index] if -len(obj) <= index < len(obj) else None
    return None


def _walk(parts: tuple[str, ...]) -> Getter:
    def get(obj: Any) -> Any:
        for part in parts:
            obj = step(obj, part)
            if obj is None:
                return None
        return obj

    return get


def event_getter(path: str) -> Getter:
    """A getter on an Event; ``event.`` in front is allowed and ignored.

    Envelope fields are read with ``attrgetter`` and ``data.x`` with one dict
    lookup: these run for every event a rule sees.
    """
    parts = tuple(path.split("."))
    if parts[0] == "event" and len(parts) > 1:
        parts = parts[1:]
    if any(not p for p in parts):
        raise ValueError(f"bad path {path!r}")
    head, rest = parts[0], parts[1:]
    first: Getter
    if head == "data" and rest:
        key, rest = rest[0], rest[1:]

        def first(ev: Event) -> Any:
            return ev.data.get(key)
    elif head in _ENVELOPE:
        first = attrgetter(head)
    else:
        def first(ev: Event) -> Any:  # not an envelope field: a key of data
            return ev.data.get(head)
    if not rest:
        return first
    tail = _walk(rest)
    return lambda ev: tail(first(ev))


def context_getter(path: str) -> Getter:
    """A getter on a firing context (``event``, join names, ``key``...)."""
    parts = tuple(path.split("."))
    if any(not p for p in parts):
        raise ValueError(f"bad path {path!r}")
    return _walk(parts)


def fact_getter(path: str) -> Getter:
    """A getter on an inventory fact (a plain mapping)."""
    return context_getter(path)
