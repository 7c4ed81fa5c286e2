"""Render each template of a rule once, at validation, against a typed example firing.

The example context has exactly the names a firing of this rule defines, and
its events and facts exactly the fields the catalogue gives their types; an
``Undefined`` that records what it was asked for turns ``{{ evnt.mac }}`` or
``{{ event.macc }}`` into an error at the template's field. Values are
stand-ins that accept what templates do with text and numbers (filters,
arithmetic, loops), so ``| length`` or ``| bytes`` raise no false alarm. The
runtime render path is untouched: this runs in ``validate`` only.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from jinja2 import ChainableUndefined, TemplateRuntimeError, Undefined, UndefinedError
from jinja2.utils import missing

from engine.pathcheck import (
    EventView,
    FiringView,
    Problem,
    no_event_field,
    no_fact_field,
    suggest,
)
from engine.predicates import Loc
from engine.schema import Rule
from engine.templates import make_environment

_EXAMPLE_TIME = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class Stand:
    """A value of unknown type: prints, counts, adds, iterates and formats like any scalar."""

    def __str__(self) -> str:
        return "x"

    def __format__(self, spec: str) -> str:
        try:
            return format(1.0, spec)
        except ValueError:
            return "x"

    def __int__(self) -> int:
        return 1

    def __float__(self) -> float:
        return 1.0

    def __round__(self, ndigits: int | None = None) -> Stand:
        return self

    def __len__(self) -> int:
        return 1

    def __iter__(self) -> Iterator[Stand]:
        return iter((self,))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __getitem__(self, key: Any) -> Stand:
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Stand:
        return self

    def __contains__(self, item: Any) -> bool:
        return False

    def __lt__(self, other: Any) -> bool:
        return False

    __gt__ = __le__ = __ge__ = __lt__

    def _same(self, *other: Any) -> Stand:
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _same
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _same
    __mod__ = __rmod__ = __pow__ = __rpow__ = __neg__ = __pos__ = __abs__ = _same


STAND = Stand()
_STATS = {"count": ("count",), "expect": ("deadline",),
          "baseline": ("baseline", "value", "ratio", "samples")}


class Example:
    """The example context of one rule, and what each of its records stands for."""

    def __init__(self, rule: Rule, firing: FiringView) -> None:
        self._what: dict[int, tuple[str, tuple[str, ...]]] = {}
        self._keep: list[Any] = []
        events = [self._event(view) for view in firing.events]
        values: dict[str, Any] = {
            "event": self._event(firing.event),
            "first": self._event(firing.first),
            "events": events,
            "count": len(events),
            "stats": self._record("stats", {k: STAND for k in _STATS.get(_operator(rule), ())}),
            "key": [STAND] * max(1, len(_operator_by(rule))),
            "rule": self._record("rule", {"id": rule.rule, "severity": rule.severity,
                                          "summary": rule.summary}),
            "fired_at": _EXAMPLE_TIME,
        }
        for name, fact in firing.joins.items():
            record = self._record(f"fact:{fact.kind}", dict.fromkeys(fact.fields, STAND))
            values[name] = [record] if fact.many else record
        self.values = values

    def _record(self, what: str, fields: dict[str, Any]) -> dict[str, Any]:
        self._what[id(fields)] = (what, tuple(sorted(fields)))
        self._keep.append(fields)
        return fields

    def _event(self, view: EventView) -> Any:
        """An example event of a view's types; a stand-in that accepts all when none is known."""
        if not view.known:
            return STAND  # the unknown type is the error; its fields would only repeat it
        label, spec = view.label, view.spec
        data = self._record(f"data:{label}", dict.fromkeys(spec.data, STAND))
        fields: dict[str, Any] = dict.fromkeys(spec.fields, STAND)
        fields.update(data=data, time=_EXAMPLE_TIME)
        return self._record(f"event:{label}", fields)

    def explain(self, obj: Any, name: Any) -> str | None:
        """The message for a name a template asked of ``obj``; None if not ours to judge."""
        if obj is missing:
            return (f"{name!r} is not defined for this rule (defined: "
                    f"{', '.join(self.values)}){suggest(str(name), self.values)}")
        found = self._what.get(id(obj))
        if found is None or not isinstance(name, str):
            return None
        what, fields = found
        kind, _, label = what.partition(":")
        if kind in ("event", "data"):
            return no_event_field(label, name, fields, data_only=kind == "data")
        if kind == "fact":
            return no_fact_field(label, name, fields)
        return f"`{kind}` of this rule has no {name!r} (it has: {', '.join(fields) or 'nothing'})"


def _operator(rule: Rule) -> str:
    when = rule.when
    return next(n for n in ("count", "sequence", "expect", "baseline") if getattr(when, n)) \
        if when.event is None else "single"


def _operator_by(rule: Rule) -> list[str]:
    when = rule.when
    op = when.count or when.sequence or when.expect or when.baseline
    return list(op.by) if op is not None else []


def _recorder(asked: list[tuple[Any, Any]]) -> type[Undefined]:
    class Recorder(ChainableUndefined):
        """Notes every name asked of a record that lacks it; never raises, so all are seen."""

        __slots__ = ()

        def __init__(self, hint: str | None = None, obj: Any = missing, name: str | None = None,
                     exc: type[TemplateRuntimeError] = UndefinedError) -> None:
            super().__init__(hint, obj, name, exc)
            if name is not None:
                asked.append((obj, name))

        # calling an absent name goes on (Undefined raises), so later names are seen too
        def __call__(self, *args: Any, **kwargs: Any) -> Recorder:  # type: ignore[override]
            return self

    return Recorder


def rule_templates(rule: Rule) -> Iterator[tuple[Loc, str]]:
    """Every template of a rule with its field path (alert texts, labels, action arguments)."""
    alert = rule.alert
    yield ("alert", "title"), alert.title
    if alert.text:
        yield ("alert", "text"), alert.text
    for name, value in alert.labels.items():
        yield ("alert", "labels", name), value
    for i, action in enumerate(rule.actions):
        yield from _strings(action.with_, ("actions", i, "with"))


def _strings(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, (*loc, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*loc, i))


def check_templates(rule: Rule, firing: FiringView) -> list[Problem]:
    """Every template name a firing of this rule cannot give, at the template's field."""
    example = Example(rule, firing)
    asked: list[tuple[Any, Any]] = []
    env = make_environment(_recorder(asked))
    context = {**env.globals, **example.values}
    problems: list[Problem] = []
    for loc, source in rule_templates(rule):
        if "{" not in source:
            continue
        asked.clear()
        try:
            template = env.from_string(source)
            "".join(template.root_render_func(template.new_context(context, shared=True)))
        except Exception:  # a stand-in the template could not use: not the rule's mistake
            pass
        seen: set[str] = set()
        for obj, name in asked:
            message = example.explain(obj, name)
            if message is not None and message not in seen:
                seen.add(message)
                problems.append((loc, f"template: {message}"))
    return problems
