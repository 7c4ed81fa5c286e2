"""What the notification mappings emit: their entry in the rule catalogue.

A mapping's ``known_types`` are the event types; their envelope fields are
the names of the common fields, the mapping's ``fields`` and the derived ones
(plus ``service`` when it sets one), their ``data`` keys the names of its
``data`` block. Ignored mappings emit nothing: a rule on an ignored type
could never fire.
"""

from __future__ import annotations

from adapters.notifications.mapping import MappingSet
from engine.catalogue import Catalogue, EventSpec, event_spec

#: ``time`` is every event's, not a field a mapping may leave out.
_ALWAYS_SET = ("time",)


def mappings_catalogue(mappings: MappingSet) -> Catalogue:
    """Event types with their fields, and the inventory fact fields each kind gets."""
    common = [name for name, _ in (*mappings.common_fields, *mappings.derived_fields)]
    events: dict[str, EventSpec] = {}
    facts: dict[str, frozenset[str]] = {}
    for mapping in mappings.mappings:
        if mapping.ignore:
            continue
        envelope = {*common, *(name for name, _ in mapping.fields)} - set(_ALWAYS_SET)
        if mapping.service:
            envelope.add("service")
        spec = event_spec(envelope, (name for name, _ in mapping.data))
        for name in mapping.known_types:
            events[name] = events[name] | spec if name in events else spec
        for fact in mapping.facts:
            names = frozenset(name for name, _ in fact.fields)
            facts[fact.kind] = facts.get(fact.kind, frozenset()) | names
    return Catalogue(events, facts)
