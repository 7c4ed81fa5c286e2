"""Dotted paths (``mac``, ``data.switch``, ``port.device_id``) compiled to getters.

A path is resolved once at rule load into a small function, so matching an
event costs an attribute or dict lookup per step, never string parsing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any

from engine.events import Event

Getter = Callable[[Any], Any]
_ENVELOPE = frozenset(Event.model_fields)
# a tuple of types, built once: `A | B` in isinstance() builds a union object per call
_SEQUENCES = (list, tuple)


def step(obj: Any, part: str) -> Any:
    """One step down a path through events, mappings and lists."""
    if obj is None:
        return None
    if isinstance(obj, Event):
        return obj.field(part)
    if isinstance(obj, Mapping):
        return obj.get(part)
    if isinstance(obj, _SEQUENCES) and part.lstrip("-").isdigit():
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


def event_path_parts(path: str) -> tuple[str, ...]:
    """The steps of an event path as ``event_getter`` reads them (``event.`` in front
    dropped); ``ValueError`` for an empty step. ``validate`` checks paths through it too."""
    parts = tuple(path.split("."))
    if parts[0] == "event" and len(parts) > 1:
        parts = parts[1:]
    if any(not p for p in parts):
        raise ValueError(f"bad path {path!r}")
    return parts


def event_getter(path: str) -> Getter:
    """A getter on an event's fields (``Event.__dict__``); ``event.`` in front is ignored.

    Matchers run on every event a rule sees, so they read the field mapping
    pydantic keeps every field in, a plain dict lookup: an attribute of the
    model goes through pydantic's ``__getattr__`` hook, several times the cost.
    Envelope fields are one ``itemgetter``; ``data.x`` is one lookup more.
    """
    parts = event_path_parts(path)
    head, rest = parts[0], parts[1:]
    first: Getter
    if head in _ENVELOPE and not (head == "data" and rest):
        first = itemgetter(head)
    else:
        if head == "data":
            head, rest = rest[0], rest[1:]
        key = head  # a key of data (``data.x``, or a name that is no envelope field)

        def first(values: Mapping[str, Any]) -> Any:
            return values["data"].get(key)
    if not rest:
        return first
    tail = _walk(rest)
    return lambda values: tail(first(values))


def context_getter(path: str) -> Getter:
    """A getter on a firing context (``event``, join names, ``key``...)."""
    parts = tuple(path.split("."))
    if any(not p for p in parts):
        raise ValueError(f"bad path {path!r}")
    return _walk(parts)


def fact_getter(path: str) -> Getter:
    """A getter on an inventory fact (a plain mapping)."""
    return context_getter(path)
