"""What the engine did with the events of some rules, step by step (``explain``).

A ``Tracer`` handed to ``Engine`` is told, for the rules it ``wants``, about each
event an operator took (with the operator's state for that key before and after),
each firing or near-firing (with what every join found), and each redelivered event
the engine dropped. It is a plain collector: the engine calls it, it keeps records,
nothing here does I/O. Without a tracer the engine runs the code it always ran:
the traced handlers are built into a type's plan only when a tracer is set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.events import Event

if TYPE_CHECKING:
    from engine.firing import Firing
    from engine.operators import Evidence


@dataclass(frozen=True)
class StepTrace:
    """An operator took ``event`` (its condition held and its key was complete)."""

    rule: str
    role: str
    event: Event
    key: tuple[Any, ...]
    before: dict[str, Any]  # ``Operator.describe`` of the key's state, before the event
    after: dict[str, Any]  # and after it
    evidence: int  # how many firings the step produced (before joins)
    late: bool  # older than the watermark when it came


@dataclass(frozen=True)
class JoinTrace:
    """What one ``join`` of a rule found for a firing."""

    name: str
    kind: str
    criteria: dict[str, Any]
    found: int
    optional: bool


@dataclass(frozen=True)
class FiringTrace:
    """Evidence a rule produced: ``firing`` is None when a required join found nothing."""

    rule: str
    evidence: Evidence
    firing: Firing | None
    joins: tuple[JoinTrace, ...]
    timer: bool  # fired by the clock (a deadline), not by an event
    resolves: bool = False


@dataclass(frozen=True)
class DuplicateTrace:
    """An event dropped as a redelivery (its id was already seen)."""

    event: Event


Record = StepTrace | FiringTrace | DuplicateTrace


@dataclass
class Tracer:
    """Collects the records of the rules in ``rules`` (None: every rule), in engine order."""

    rules: frozenset[str] | None = None
    records: list[Record] = field(default_factory=list)

    @classmethod
    def of(cls, rules: Iterable[str] | None) -> Tracer:
        return cls(frozenset(rules) if rules is not None else None)

    def wants(self, rule_id: str) -> bool:
        return self.rules is None or rule_id in self.rules

    def record(self, record: Record) -> None:
        self.records.append(record)

    def take(self) -> list[Record]:
        """The records since the last ``take``."""
        out, self.records = self.records, []
        return out
