"""What events and facts can exist: the catalogue a rule is checked against.

Producers (log parsers, notification mappings, inventory snapshots) declare
what they emit next to the code that emits it; the app layer gathers those
declarations into one ``Catalogue``. The engine only reads it, so a rule
naming a type or field nothing emits is refused before it silently never
fires or renders holes.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from engine.events import ENVELOPE_FIELDS

#: Envelope fields every event has, whatever produced it.
ALWAYS: frozenset[str] = frozenset({"id", "type", "time", "data"})
_ENVELOPE = frozenset(ENVELOPE_FIELDS)


def is_glob(pattern: str) -> bool:
    """Whether an event pattern is a glob (fnmatch's special characters): the one test
    the compiler, the catalogue and the notification mappings share."""
    return any(c in pattern for c in "*?[")


@dataclass(frozen=True)
class EventSpec:
    """One event type: the envelope fields it may set and the ``data`` keys it may carry."""

    envelope: frozenset[str] = frozenset()
    data: frozenset[str] = frozenset()

    @property
    def fields(self) -> frozenset[str]:
        """Every name a path may start with for this type (``data`` keys and envelope)."""
        return ALWAYS | self.envelope | self.data

    def __or__(self, other: EventSpec) -> EventSpec:
        return EventSpec(self.envelope | other.envelope, self.data | other.data)


def event_spec(envelope: Iterable[str] = (), data: Iterable[str] = ()) -> EventSpec:
    """An ``EventSpec``; raises ``ValueError`` for an envelope name the Event has not."""
    env = frozenset(envelope)
    unknown = env - _ENVELOPE
    if unknown:
        raise ValueError(f"not envelope fields: {sorted(unknown)}")
    return EventSpec(env, frozenset(data))


def split_fields(names: Iterable[str]) -> EventSpec:
    """Names as a rule declares them: envelope field names go to the envelope, others to data."""
    items = list(names)
    return EventSpec(frozenset(n for n in items if n in _ENVELOPE),
                     frozenset(n for n in items if n not in _ENVELOPE))


@dataclass(frozen=True)
class Catalogue:
    """Event types with their fields, and fact kinds with their fields (``id`` implied)."""

    events: Mapping[str, EventSpec] = field(default_factory=dict)
    facts: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def matching(self, pattern: str) -> list[str]:
        """The known types a rule pattern (a type or a glob) stands for, sorted."""
        if not is_glob(pattern):
            return [pattern] if pattern in self.events else []
        return sorted(t for t in self.events if fnmatch.fnmatchcase(t, pattern))

    def fact_fields(self, kind: str) -> frozenset[str]:
        return frozenset({"id"}) | self.facts.get(kind, frozenset())

    def merged(self, other: Catalogue) -> Catalogue:
        """Both catalogues; a type or kind in both gets the union of their fields."""
        events = dict(self.events)
        for name, spec in other.events.items():
            events[name] = events[name] | spec if name in events else spec
        facts = dict(self.facts)
        for kind, names in other.facts.items():
            facts[kind] = facts.get(kind, frozenset()) | names
        return Catalogue(events, facts)


def combine(catalogues: Iterable[Catalogue]) -> Catalogue:
    out = Catalogue()
    for catalogue in catalogues:
        out = out.merged(catalogue)
    return out
