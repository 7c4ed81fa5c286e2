"""A rule against the catalogue: types nothing emits, fields no matching type has.

One walk for every operator: each event matcher (single, count, baseline,
sequence steps, expect first/then, resolve) resolves its patterns to known
types, then its ``where``/``by``/``value`` paths are checked against the
union of those types' fields; joins, ``group_by`` and templates are checked
against the firing context those matchers produce (``engine.templatecheck``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.catalogue import Catalogue, EventSpec, is_glob, split_fields
from engine.paths import event_path_parts
from engine.predicates import COMBINATORS, Loc
from engine.schema import Match, Rule

Problem = tuple[Loc, str]
#: model fields every event has but no producer declares (the line itself, its facts)
_UNCHECKED = frozenset({"raw", "facts"})
#: names every firing context has beside ``event``/``first``/``events`` and the joins
OTHER_NAMES = ("count", "stats", "key", "rule", "fired_at")


@dataclass(frozen=True)
class EventView:
    """What one role of a rule can see of its events: their types and the union of fields."""

    types: tuple[str, ...]
    spec: EventSpec = field(default_factory=EventSpec)

    @property
    def known(self) -> bool:
        """False when no pattern matched: field checks would only repeat that error."""
        return bool(self.types)

    @property
    def label(self) -> str:
        shown = ", ".join(self.types[:3])
        return shown + (f" and {len(self.types) - 3} more" if len(self.types) > 3 else "")


@dataclass(frozen=True)
class FactView:
    kind: str
    fields: frozenset[str]
    many: bool


@dataclass(frozen=True)
class FiringView:
    """The views of a firing's context: ``event``, ``first``, ``events`` and the joins."""

    event: EventView
    first: EventView
    events: tuple[EventView, ...]
    joins: dict[str, FactView]


def suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def no_event_field(label: str, name: str, known: Iterable[str], data_only: bool = False) -> str:
    """The message for a field no matched type has (paths and templates say it alike)."""
    what = f"a `data.{name}`" if data_only else f"a field {name!r}"
    return f"no event type it matches ({label}) has {what}{suggest(name, known)}"


def no_fact_field(kind: str, name: str, known: Iterable[str]) -> str:
    """The message for a field no source of a fact kind gives."""
    return (f"no source of {kind} facts gives a field {name!r}{suggest(name, known)}; "
            "a site's own can be listed under `declare.facts`")


class RuleChecker:
    """Collects the problems of one rule; ``check_rule`` is the entry point."""

    def __init__(self, rule: Rule, catalogue: Catalogue) -> None:
        declared = Catalogue(
            {t: split_fields(names) for t, names in rule.declare.events.items()},
            {k: frozenset(names) for k, names in rule.declare.facts.items()},
        )
        self.rule = rule
        self.catalogue = catalogue.merged(declared)
        self.problems: list[Problem] = []

    def error(self, loc: Loc, message: str) -> None:
        self.problems.append((loc, message))

    # -- event matchers ---------------------------------------------------------------
    def view(self, patterns: list[str], loc: Loc) -> EventView:
        """The known types of a matcher's patterns; each pattern that names none is an error."""
        types: list[str] = []
        for i, pattern in enumerate(patterns):
            here = (*loc, "event", i) if len(patterns) > 1 else (*loc, "event")
            found = self.catalogue.matching(pattern)
            if found:
                types.extend(t for t in found if t not in types)
            elif is_glob(pattern):
                self.error(here, f"glob {pattern!r} matches no event type a parser or mapping"
                                 " produces")
            else:
                self.error(here, f"no parser or mapping produces event type {pattern!r}"
                                 f"{suggest(pattern, self.catalogue.events)}; a site's own"
                                 " events can be listed under `declare.events`")
        spec = EventSpec()
        for t in types:
            spec = spec | self.catalogue.events[t]
        return EventView(tuple(types), spec)

    def field_of(self, view: EventView, name: str, loc: Loc, data_only: bool = False) -> None:
        if not view.known:
            return
        known = view.spec.data if data_only else view.spec.fields
        if name not in known:
            self.error(loc, no_event_field(view.label, name, known, data_only))

    def event_path(self, view: EventView, path: str, loc: Loc) -> None:
        """A path as ``engine.paths.event_getter`` reads it: the first step is checked."""
        try:
            parts = event_path_parts(path)
        except ValueError:
            return  # the compiler reports a bad path
        head = parts[0]
        if head == "data" and len(parts) > 1:
            self.field_of(view, parts[1], loc, data_only=True)
        elif head not in _UNCHECKED:
            self.field_of(view, head, loc)

    def where(self, where: Any, check: Any, loc: Loc) -> None:
        """Every path of a ``where`` (through any/all/not), handed to ``check(path, loc)``."""
        if not isinstance(where, dict):
            return
        for key, spec in where.items():
            here = (*loc, str(key))
            if key in ("any", "all") and isinstance(spec, list):
                for i, sub in enumerate(spec):
                    self.where(sub, check, (*here, i))
            elif key in COMBINATORS:
                self.where(spec, check, here)
            else:
                check(str(key), here)

    def condition(self, view: EventView, where: Any, loc: Loc) -> None:
        """A matcher's (or ``resolve``'s) ``where``: paths of the event it tests."""
        self.where(where, lambda p, here: self.event_path(view, p, here), loc)

    def match(self, match: Match, loc: Loc, by: list[str], by_loc: Loc) -> EventView:
        """One matcher: its types, ``where`` and correlation paths (its own or the operator's)."""
        view = self.view(match.event, loc)
        self.condition(view, match.where, (*loc, "where"))
        if match.by is not None:
            for i, path in enumerate(match.by):
                self.event_path(view, path, (*loc, "by", i))
        else:
            for i, path in enumerate(by):
                self.event_path(view, path, (*by_loc, i))
        return view

    def firing(self) -> FiringView:
        """The matchers of the rule's operator, and which of them a firing's context shows."""
        when = self.rule.when
        if when.event is not None:
            main = self.match(Match(event=when.event, where=when.where), ("when",), [], ())
            return FiringView(main, main, (main,), {})
        if when.count is not None:
            c, loc = when.count, ("when", "count")
            main = self.match(Match(event=c.event, where=c.where), loc, c.by, (*loc, "by"))
            if c.distinct is not None:
                self.event_path(main, c.distinct, (*loc, "distinct"))
            return FiringView(main, main, (main,) * min(c.at_least, 20), {})
        if when.baseline is not None:
            b, loc = when.baseline, ("when", "baseline")
            main = self.match(Match(event=b.event, where=b.where), loc, b.by, (*loc, "by"))
            self.event_path(main, b.value, (*loc, "value"))
            return FiringView(main, main, (main,), {})
        if when.sequence is not None:
            s, loc = when.sequence, ("when", "sequence")
            steps = tuple(self.match(step, (*loc, "steps", i), s.by, (*loc, "by"))
                          for i, step in enumerate(s.steps))
            return FiringView(steps[-1], steps[0], steps, {})
        assert when.expect is not None
        x, loc = when.expect, ("when", "expect")
        first = self.match(x.first, (*loc, "first"), x.by, (*loc, "by"))
        self.match(x.then, (*loc, "then"), x.by, (*loc, "by"))
        return FiringView(first, first, (first,), {})  # it fires at the deadline of a `first`

    # -- the firing context -----------------------------------------------------------
    def context_path(self, firing: FiringView, path: str, loc: Loc) -> None:
        """A path into the firing context (join ``by`` values, ``group_by``)."""
        parts = path.split(".")
        if not all(parts):
            return
        head, rest = parts[0], parts[1:]
        if head in ("event", "first"):
            view = firing.event if head == "event" else firing.first
            if rest:
                self.event_path(view, ".".join(rest), loc)
        elif head == "events":
            if len(rest) > 1 and rest[0].lstrip("-").isdigit():
                index = int(rest[0])
                if -len(firing.events) <= index < len(firing.events):
                    self.event_path(firing.events[index], ".".join(rest[1:]), loc)
        elif head in firing.joins:
            fact = firing.joins[head]
            if fact.many and rest and rest[0].isdigit():
                rest = rest[1:]
            if rest:
                self.fact_field(fact.kind, fact.fields, rest[0], loc)
        elif head not in OTHER_NAMES:
            names = ["event", "first", "events", *firing.joins, *OTHER_NAMES]
            self.error(loc, f"{head!r} is not defined here (defined: {', '.join(names)})"
                            f"{suggest(head, names)}")

    def fact_field(self, kind: str, fields: frozenset[str], name: str, loc: Loc) -> None:
        if name not in fields:
            self.error(loc, no_fact_field(kind, name, fields))

    def joins(self, firing: FiringView) -> FiringView:
        """Each join's ``by`` against the context so far; later joins see earlier ones."""
        joins: dict[str, FactView] = {}
        for name, spec in self.rule.join.items():
            loc: Loc = ("join", name)
            fields = self.catalogue.fact_fields(spec.kind)
            here = FiringView(firing.event, firing.first, firing.events, dict(joins))
            for fact_field, path in spec.by.items():
                self.fact_field(spec.kind, fields, fact_field, (*loc, "by", fact_field))
                self.context_path(here, path, (*loc, "by", fact_field))
            self.where(spec.where,
                       lambda p, at, k=spec.kind, f=fields: self.fact_field(
                           k, f, p.split(".")[0], at),
                       (*loc, "where"))
            joins[name] = FactView(spec.kind, fields, spec.many)
        return FiringView(firing.event, firing.first, firing.events, joins)

    # -- the whole rule -----------------------------------------------------------------
    def rule_paths(self) -> FiringView:
        """Every path of the rule but its templates: matchers, joins, ``group_by``,
        ``resolve`` (``engine.reads`` walks the same to learn what a rule reads)."""
        firing = self.joins(self.firing())
        for i, path in enumerate(self.rule.alert.group_by):
            self.context_path(firing, path, ("alert", "group_by", i))
        for i, explains in enumerate(self.rule.explains):
            for target, path in explains.by.items():
                parts = path.split(".")  # a many join's field: the field of each fact
                if parts[0] in firing.joins and firing.joins[parts[0]].many and (
                        len(parts) > 1 and not parts[1].isdigit()):
                    path = ".".join([parts[0], "0", *parts[1:]])
                self.context_path(firing, path, ("explains", i, "by", target))
        if self.rule.resolve is not None:
            view = self.view(self.rule.resolve.event, ("resolve",))
            self.condition(view, self.rule.resolve.where, ("resolve", "where"))
        return firing


def check_paths(rule: Rule, catalogue: Catalogue) -> tuple[list[Problem], FiringView]:
    """Types and paths of a rule; also the firing context's views, for the template check."""
    checker = RuleChecker(rule, catalogue)
    firing = checker.rule_paths()
    return checker.problems, firing
