"""Why a rule did or did not fire for one key: a replay with the engine's tracer on.

The key is any value (an instance id, a MAC, a request id); an event is about it when
one of its fields (envelope, ``data``, facts, raw notification) equals it. For each
such event of a type the rule reads, the entry says what the engine did: which
``where`` condition failed and on what value, or what the operator made of it (the
window's count against the threshold, the expectation it opened or closed, the
chain step). Firings whose evidence holds such an event, or whose key or labels are
the key, follow with what every join found and what the router decided.

The verdicts come from the engine (``engine.trace``); only the reason an event was
*not* taken is worked out here, with the engine's own condition compiler on the
same conjuncts its index uses (``engine.dispatch.parts_of``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dreamcatcher.routing import Decision, RouterDecisions
from dreamcatcher.verdicts import by_paths, describe_step
from dreamcatcher.words import plural
from engine.compiler import CompiledRule
from engine.dispatch import parts_of
from engine.engine import Engine
from engine.events import Event
from engine.firing import Firing
from engine.paths import event_getter
from engine.predicates import compile_where
from engine.schema import Rule
from engine.templates import _duration as spoken_duration
from engine.trace import DuplicateTrace, FiringTrace, Record, StepTrace, Tracer

DEADLINE = "(deadline)"


@dataclass(frozen=True)
class Entry:
    """One line of the explanation: an event (or the clock) and the rule's verdict."""

    time: datetime
    event_type: str
    event_id: str | None
    verdict: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        return {"time": self.time.isoformat(), "event_type": self.event_type,
                "event_id": self.event_id, "verdict": self.verdict, "reason": self.reason,
                **self.details}


@dataclass
class Explanation:
    rule: str
    key: str
    router: str
    entries: list[Entry] = field(default_factory=list)
    #: events naming the key whose type the rule does not read, per type
    unread: Counter[str] = field(default_factory=Counter)

    @property
    def fired(self) -> int:
        return sum(1 for e in self.entries if e.verdict == "fired")

    def conclusion(self) -> str:
        if not self.entries:
            if self.unread:
                return (f"{self.rule} never saw {self.key}: it reads none of the "
                        f"{sum(self.unread.values())} events naming it")
            return f"no event names {self.key}"
        if self.fired:
            return f"{self.rule} fired {self.fired} time(s) for {self.key}"
        last = self.entries[-1]
        return (f"{self.rule} did not fire for {self.key}; its last verdict: "
                f"{last.event_type} at {last.time.isoformat()}: {last.verdict}: {last.reason}")

    def json(self) -> dict[str, Any]:
        return {"rule": self.rule, "key": self.key, "router": self.router,
                "fired": self.fired, "entries": [e.json() for e in self.entries],
                "unread_event_types": dict(sorted(self.unread.items())),
                "conclusion": self.conclusion()}


def _walk_values(value: Any) -> Iterable[Any]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _walk_values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk_values(item)
    else:
        yield value


def names_key(event: Event, key: str) -> bool:
    """True when a field of the event (at any depth, facts and raw included) is the key
    (case-insensitive: MACs and UUIDs are printed both ways)."""
    wanted = key.casefold()
    values = event.__dict__
    for name, value in values.items():
        if name in ("time", "facts"):
            continue
        for leaf in _walk_values(value):
            if isinstance(leaf, str | int) and not isinstance(leaf, bool) \
                    and str(leaf).casefold() == wanted:
                return True
    for fact in values["facts"]:
        if fact.id.casefold() == wanted or any(
                isinstance(v, str) and v.casefold() == wanted for v in _walk_values(fact.fields)):
            return True
    return False


def _paths_in(where: Any) -> list[str]:
    out: list[str] = []
    if isinstance(where, dict):
        for key, spec in where.items():
            if key in ("any", "all"):
                for sub in spec:
                    out.extend(_paths_in(sub))
            elif key == "not":
                out.extend(_paths_in(spec))
            else:
                out.append(str(key))
    return out


def failed_condition(where: dict[str, Any] | None, event: Event) -> dict[str, Any] | None:
    """The first conjunct of ``where`` the event fails, with the values it read."""
    values = event.__dict__
    for part in parts_of(where):
        test = compile_where(part.where, event_getter)
        if test is None or test(values):
            continue
        if part.path is not None:
            path = ".".join(part.path)
            return {"condition": f"{path} {part.op} {part.arg!r}", "path": path,
                    "actual": event_getter(path)(values)}
        paths = _paths_in(part.where)
        return {"condition": repr(part.where), "path": None,
                "actual": {p: event_getter(p)(values) for p in paths}}
    return None


class Explainer:
    """Feeds events one at a time to an engine traced for one rule and writes entries."""

    def __init__(self, rules: list[Rule], rule_id: str, key: str,
                 engine_of: Callable[[list[Rule], Tracer], Engine],
                 router: RouterDecisions) -> None:
        self.tracer = Tracer.of([rule_id])
        self.engine: Engine = engine_of(rules, self.tracer)
        self.compiled: CompiledRule = self.engine.rules[rule_id]
        self.router = router
        self.out = Explanation(rule_id, key, router.source)
        self.key = key
        self._key_events: set[str] = set()  # ids of events naming the key
        self._key_states: set[tuple[Any, ...]] = set()  # correlation keys they had
        self._decisions: dict[int, Decision] = {}  # id(firing) -> the router's word

    def run(self, events: Iterable[Event], drain: bool) -> Explanation:
        for event in events:
            about = names_key(event, self.key)
            if about:
                self._key_events.add(event.id)
            self._route(self.engine.process(event))
            self._records(event if about else None, self.tracer.take())
        if drain:
            self._route(self.engine.drain())
            self._records(None, self.tracer.take())
        return self.out

    def _route(self, firings: list[Firing]) -> None:
        """Every firing of every rule goes through the router, as in a real run (one
        rule's alert can fold or, once inhibition lands, suppress another's)."""
        self._decisions = {}
        for firing in firings:
            decision = self.router.decide(firing)
            if firing.rule == self.compiled.id:
                self._decisions[id(firing)] = decision

    # -- the records of one event ---------------------------------------------
    def _records(self, event: Event | None, records: list[Record]) -> None:
        took = any(isinstance(r, StepTrace) and r.event is event for r in records)
        for record in records:
            if isinstance(record, StepTrace):
                self._step(record, about=record.event is event)
            elif isinstance(record, FiringTrace):
                self._firing(record)
            elif (isinstance(record, DuplicateTrace) and record.event is event
                  and any(m.accepts_type(event.type) for m in self.compiled.matchers)):
                self._add(event, "duplicate", "dropped: an event with this id was seen "
                          "already (a redelivery)")
                took = True
        if event is not None and not took:
            self._not_taken(event)

    def _add(self, event: Event, verdict: str, reason: str, **details: Any) -> None:
        self.out.entries.append(Entry(event.time, event.type, event.id, verdict, reason,
                                      details))

    def _not_taken(self, event: Event) -> None:
        matchers = [m for m in self.compiled.matchers if m.accepts_type(event.type)]
        if not matchers:
            self.out.unread[event.type] += 1
            return
        for matcher in matchers:
            failed = failed_condition(matcher.where, event)
            role = _role_name(matcher.role)
            if failed is not None:
                self._add(event, "skipped", f"{role}: where {failed['condition']} failed: "
                          f"the event has {failed['actual']!r}", role=matcher.role, **failed)
            elif matcher.key(event.__dict__) is None:
                self._add(event, "skipped", f"{role}: its correlation key "
                          f"({', '.join(by_paths(self.compiled))}) is empty in this event",
                          role=matcher.role)
            elif matcher.role == "resolve":
                continue  # a resolve takes no key; its firing entry says what it did
            else:  # pragma: no cover - the engine took every event the checks pass
                self._add(event, "skipped", f"{role}: not taken", role=matcher.role)

    def _step(self, step: StepTrace, about: bool) -> None:
        if not about:
            if not step.key or step.key not in self._key_states:
                return
        else:
            self._key_states.add(step.key)
        verdict, reason = describe_step(self.compiled, step)
        if not about:
            reason += f" (same correlation key as an event naming {self.key})"
        late = " (late: older than the watermark)" if step.late else ""
        self._add(step.event, verdict, reason + late, role=step.role, key=list(step.key),
                  state_before=step.before, state_after=step.after)

    def _firing(self, record: FiringTrace) -> None:
        evidence = record.evidence
        firing = record.firing
        about = (any(e.id in self._key_events for e in evidence.events)
                 or (bool(evidence.key) and evidence.key in self._key_states))
        if firing is not None:  # a deadline's evidence has no key: the firing has its first's
            wanted = self.key.casefold()
            values = firing.key.get("values", [])
            about = about or (bool(values) and tuple(values) in self._key_states) or any(
                str(v).casefold() == wanted for v in [*values, *firing.labels.values()])
        if not about:
            return
        joins = [{"join": j.name, "kind": j.kind, "by": j.criteria, "found": j.found,
                  "optional": j.optional} for j in record.joins]
        ids = [e.id for e in evidence.events]
        when = datetime.fromtimestamp(evidence.time, UTC)
        last = evidence.events[-1]
        kind = DEADLINE if record.timer else last.type
        details: dict[str, Any] = {"evidence": ids, "joins": joins}
        if firing is None:
            empty = next(j for j in record.joins if not j.found and not j.optional)
            reason = (f"would fire, but join `{empty.name}` found no {empty.kind} with "
                      f"{_criteria(empty.criteria)}")
            self.out.entries.append(Entry(when, kind, last.id, "join-empty", reason, details))
            return
        why = self._fired_because(record)
        found = "; ".join(f"join `{j.name}` found {j.found} {j.kind}"
                          + (" (optional)" if j.optional and not j.found else "")
                          for j in record.joins)
        decision = self._decisions.get(id(firing))
        routed = f"; router: {decision.reason}" if decision else ""
        if decision is not None:
            details["router"] = {"decision": decision.decision, "reason": decision.reason}
        details.update(firing_id=firing.id, title=firing.title, group_key=firing.group_key)
        verdict = "resolved" if record.resolves else "fired"
        text = why + (f"; {found}" if found else "") + routed
        self.out.entries.append(Entry(when, kind, None if record.timer else last.id,
                                      verdict, text, details))

    def _fired_because(self, record: FiringTrace) -> str:
        rule = self.compiled.rule
        n = len(record.evidence.events)
        if record.resolves:
            return f"{record.evidence.events[-1].type} resolves the rule's alerts"
        when = rule.when
        if when.count is not None:
            spec = when.count
            counted = plural(n, "event")
            if spec.distinct:
                get = event_getter(spec.distinct)
                counted = (f"{n} distinct {spec.distinct} "
                           f"({', '.join(str(get(e.__dict__)) for e in record.evidence.events)})")
            return (f"{counted} within {spoken_duration(spec.within)} reached at_least "
                    f"{spec.at_least}")
        if when.expect is not None:
            first = record.evidence.events[0]
            return (f"no {' or '.join(when.expect.then.event)} within "
                    f"{spoken_duration(when.expect.within)} of the {first.type} at "
                    f"{first.time.strftime('%H:%M:%S')}")
        if when.sequence is not None:
            return f"all {n} steps within {spoken_duration(when.sequence.within)}"
        if when.baseline is not None:
            stats = record.evidence.extra
            return (f"value {stats.get('value')} above {when.baseline.factor}x its baseline "
                    f"{stats.get('baseline')}")
        return "the event matched"


def _role_name(role: str) -> str:
    """How a matcher's role reads in a reason: ``event``, ``count``, ``first``, ``step 1``."""
    if role.startswith("step:"):
        return f"step {int(role[5:]) + 1}"
    return "event" if role == "single" else role


def _criteria(criteria: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in criteria.items())


__all__ = ["Entry", "Explainer", "Explanation", "failed_condition", "names_key"]
