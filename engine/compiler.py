"""Rules compiled once: matchers, correlation keys, joins and renderers.

Nothing in a rule file is evaluated as code; conditions become predicates,
paths become getters, templates compile in the sandbox.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.baseline import BaselineOp
from engine.catalogue import is_glob
from engine.explains import CompiledExplains, compile_explains
from engine.firing import ActionRequest, Firing, Mode
from engine.inventory import Inventory
from engine.operators import CountOp, Evidence, ExpectOp, Operator, SequenceOp
from engine.paths import Getter, context_getter, event_getter, fact_getter
from engine.predicates import CompileError, Loc, Predicate, compile_where
from engine.reads import identity_fields, join_identity, kept_fields
from engine.schema import Match, Rule
from engine.store import StateStore
from engine.templates import (
    VALUE_ENV,
    Render,
    compile_template,
    compile_value,
    template_context,
)
from engine.trace import JoinTrace

#: correlation key of an event, from its fields (``Event.__dict__``, as getters read them)
KeyFn = Callable[[dict[str, Any]], tuple[Any, ...] | None]
MAX_EVIDENCE = 20


@dataclass
class Matcher:
    """One event pattern of a rule, with the role it plays in the operator."""

    role: str
    patterns: tuple[str, ...]
    predicate: Predicate | None
    key: KeyFn
    where: dict[str, Any] | None = None  # the source of ``predicate``, for the index

    def accepts_type(self, event_type: str) -> bool:
        return any(
            event_type == p or (is_glob(p) and fnmatch.fnmatchcase(event_type, p))
            for p in self.patterns
        )


@dataclass
class CompiledJoin:
    name: str
    kind: str
    by: dict[str, Getter]
    where: Predicate | None
    many: bool
    optional: bool


@dataclass
class CompiledRule:
    rule: Rule
    operator: Operator
    matchers: list[Matcher]
    joins: list[CompiledJoin]
    title: Render
    text: Render
    labels: dict[str, Render]
    group_by: list[tuple[str, Getter]]
    actions: list[tuple[str, Callable[[dict[str, Any]], Any], Mode]]
    first_key: KeyFn | None = None
    #: identity fields the rule reads: labels of its firings by default
    identity: tuple[str, ...] = ()
    #: per single-valued join, (label, fact field) it can give when the events did not
    join_identity: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    explains: list[CompiledExplains] = field(default_factory=list)
    index_fields: set[tuple[str, str]] = field(default_factory=set)

    @property
    def id(self) -> str:
        return self.rule.rule


def _key_fn(paths: list[str], loc: Loc) -> KeyFn:
    if not paths:
        return lambda _ev: ()
    try:
        getters = [event_getter(p) for p in paths]
    except ValueError as exc:
        raise CompileError(loc, str(exc)) from None
    if len(getters) == 1:
        only = getters[0]

        def single(values: dict[str, Any]) -> tuple[Any, ...] | None:
            value = only(values)
            return None if value is None or value == "" else (value,)

        return single

    if len(getters) == 2:
        get_a, get_b = getters

        def pair(values: dict[str, Any]) -> tuple[Any, ...] | None:
            a = get_a(values)
            if a is None or a == "":
                return None
            b = get_b(values)
            return None if b is None or b == "" else (a, b)

        return pair

    def many(values: dict[str, Any]) -> tuple[Any, ...] | None:
        key = tuple([g(values) for g in getters])
        return None if None in key or "" in key else key

    return many


def _matcher(role: str, match: Match, by: list[str], loc: Loc) -> Matcher:
    paths = match.by if match.by is not None else by
    if len(paths) != len(by):
        raise CompileError((*loc, "by"), f"needs {len(by)} paths, like the operator's `by`")
    return Matcher(
        role=role,
        patterns=tuple(match.event),
        predicate=compile_where(match.where, event_getter, (*loc, "where")),
        key=_key_fn(paths, (*loc, "by")),
        where=match.where,
    )


def _template(source: str, loc: Loc, env: ImmutableSandboxedEnvironment | None = None) -> Render:
    try:
        return compile_template(source) if env is None else compile_template(source, env)
    except TemplateSyntaxError as exc:
        raise CompileError(loc, f"template error: {exc.message}") from None


def _context_getter(path: str, loc: Loc) -> Getter:
    try:
        return context_getter(path)
    except ValueError as exc:
        raise CompileError(loc, str(exc)) from None


def compile_rule(rule: Rule, store: StateStore, lateness: float) -> CompiledRule:
    """Raises ``CompileError`` (with a field path) for mistakes the schema can't see."""
    when = rule.when
    operator: Operator
    matchers: list[Matcher] = []
    first_key: KeyFn | None = None
    if when.event is not None:
        operator = Operator(rule.rule, store, lateness)
        match = Match(event=when.event, where=when.where)
        matchers.append(_matcher("single", match, [], ("when",)))
    elif when.count is not None:
        c = when.count
        operator = CountOp(rule.rule, store, lateness, c.at_least, c.within, c.distinct)
        match = Match(event=c.event, where=c.where)
        matchers.append(_matcher("count", match, c.by, ("when", "count")))
    elif when.baseline is not None:
        b = when.baseline
        try:
            value = event_getter(b.value)
        except ValueError as exc:
            raise CompileError(("when", "baseline", "value"), str(exc)) from None
        operator = BaselineOp(rule.rule, store, lateness, b, value)
        match = Match(event=b.event, where=b.where)
        matchers.append(_matcher("baseline", match, b.by, ("when", "baseline")))
    elif when.sequence is not None:
        s = when.sequence
        operator = SequenceOp(rule.rule, store, lateness, len(s.steps), s.within)
        for i, step in enumerate(s.steps):
            matchers.append(_matcher(f"step:{i}", step, s.by, ("when", "sequence", "steps", i)))
    else:
        assert when.expect is not None
        x = when.expect
        operator = ExpectOp(rule.rule, store, lateness, x.within, x.once)
        # `then` before `first`: an event matching both closes the old one and opens anew
        matchers.append(_matcher("then", x.then, x.by, ("when", "expect", "then")))
        first = _matcher("first", x.first, x.by, ("when", "expect", "first"))
        matchers.append(first)
        first_key = first.key
    if rule.resolve is not None:
        matchers.append(Matcher(
            role="resolve",
            patterns=tuple(rule.resolve.event),
            predicate=compile_where(rule.resolve.where, event_getter, ("resolve", "where")),
            key=lambda _ev: (),
            where=rule.resolve.where,
        ))

    joins: list[CompiledJoin] = []
    index_fields: set[tuple[str, str]] = set()
    for name, spec in rule.join.items():
        loc: Loc = ("join", name)
        by = {f: _context_getter(p, (*loc, "by", f)) for f, p in spec.by.items()}
        index_fields.update((spec.kind, f) for f in spec.by)
        joins.append(CompiledJoin(
            name=name, kind=spec.kind, by=by,
            where=compile_where(spec.where, fact_getter, (*loc, "where")),
            many=spec.many, optional=spec.optional,
        ))

    alert = rule.alert
    actions: list[tuple[str, Callable[[dict[str, Any]], Any], Mode]] = []
    for i, action in enumerate(rule.actions):
        try:
            render = compile_value(action.with_)
        except TemplateSyntaxError as exc:
            raise CompileError(("actions", i, "with"), f"template error: {exc.message}") from None
        actions.append((action.hook, render, action.mode))
    compiled = CompiledRule(
        rule=rule,
        operator=operator,
        matchers=matchers,
        joins=joins,
        title=_template(alert.title, ("alert", "title")),
        text=_template(alert.text, ("alert", "text")),
        labels={k: _template(v, ("alert", "labels", k), VALUE_ENV)
                for k, v in alert.labels.items()},
        group_by=[(p, _context_getter(p, ("alert", "group_by", i)))
                  for i, p in enumerate(alert.group_by)],
        actions=actions,
        first_key=first_key,
        identity=identity_fields(rule),
        join_identity=join_identity(rule),
        explains=compile_explains(rule.explains),
        index_fields=index_fields,
    )
    # the templates compiled: what they and the paths read of a kept event can be derived
    operator.keep = kept_fields(rule)
    return compiled


def _label_name(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def _label_value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def _identity_labels(names: tuple[str, ...], contexts: list[dict[str, Any]]) -> dict[str, str]:
    """Each identity field's value in the last event, else the first (an expectation's
    key is read of its first); empty ones are left out. ``group_by`` and the rule's own
    ``labels`` are applied over these."""
    out: dict[str, str] = {}
    if not contexts:
        return out
    for name in names:
        value = contexts[-1].get(name)
        if value is None or value == "":
            value = contexts[0].get(name)
        if value is not None and value != "" and not isinstance(value, (dict, list)):
            out[name] = str(value)
    return out


def _fill_from_joins(labels: dict[str, str],
                     joins: tuple[tuple[str, tuple[tuple[str, str], ...]], ...],
                     facts: dict[str, Any]) -> None:
    """Identity labels the events did not give, from single-valued joins' facts, in the
    rule's join order (``engine.reads.join_identity``)."""
    for name, pairs in joins:
        fact = facts.get(name)
        if not isinstance(fact, dict):
            continue
        for label, field_name in pairs:
            value = fact.get(field_name)
            if label not in labels and value not in (None, "") and not isinstance(
                    value, (dict, list)):
                labels[label] = str(value)


def _firing_id(rule_id: str, key: tuple[Any, ...], event_ids: list[str], resolves: bool) -> str:
    text = "\x1f".join([rule_id, *map(str, key), "", *event_ids, "R" if resolves else ""])
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _evidence_key(compiled: CompiledRule, evidence: Evidence) -> tuple[Any, ...]:
    """The correlation key (a deadline's evidence carries none: its first event's)."""
    key = evidence.key
    if not key and compiled.first_key is not None and evidence.events:
        key = compiled.first_key(evidence.events[0].__dict__) or ()
    return key


def _render_context(compiled: CompiledRule, evidence: Evidence,
                    key: tuple[Any, ...]) -> dict[str, Any]:
    """What templates and join criteria read, before the joins add their facts."""
    rule = compiled.rule
    contexts = [e.context() for e in evidence.events]
    return template_context({
        "event": contexts[-1],
        "first": contexts[0],
        "events": contexts,
        "count": evidence.extra.get("count", len(contexts)),
        "stats": dict(evidence.extra),  # operator figures, e.g. baseline/value/ratio
        "key": list(key),
        "rule": {"id": rule.rule, "severity": rule.severity, "summary": rule.summary},
        "fired_at": datetime.fromtimestamp(evidence.time, UTC),
    })


def join_report(compiled: CompiledRule, evidence: Evidence,
                inventory: Inventory) -> tuple[JoinTrace, ...]:
    """What each join finds for this evidence, all of them (``render_firing`` stops at
    the first required one that is empty); for tracing, not on the firing path."""
    ctx = _render_context(compiled, evidence, _evidence_key(compiled, evidence))
    out = []
    for join in compiled.joins:
        criteria = {f: g(ctx) for f, g in join.by.items()}
        found = inventory.find(join.kind, criteria)
        if join.where is not None:
            found = [f for f in found if join.where(f)]
        out.append(JoinTrace(join.name, join.kind, criteria, len(found), join.optional))
        ctx[join.name] = found if join.many else (found[0] if found else None)
    return tuple(out)


def render_firing(compiled: CompiledRule, evidence: Evidence, inventory: Inventory,
                  *, resolves: bool = False) -> Firing | None:
    """Join facts and render the alert; None when a required join finds nothing."""
    rule = compiled.rule
    events = evidence.events
    key = _evidence_key(compiled, evidence)
    ctx = _render_context(compiled, evidence, key)
    facts: dict[str, Any] = {}
    fact_ids: list[str] = []
    for join in compiled.joins:
        criteria = {f: g(ctx) for f, g in join.by.items()}
        found = inventory.find(join.kind, criteria)
        if join.where is not None:
            found = [f for f in found if join.where(f)]
        if not found and not join.optional and not resolves:
            return None
        fact_ids.extend(f"{join.kind}:{f['id']}" for f in found)
        value: Any = found if join.many else (found[0] if found else None)
        ctx[join.name] = value
        facts[join.name] = value
    group_values = [(path, _label_value(getter(ctx))) for path, getter in compiled.group_by]
    labels = {"rule": rule.rule, "severity": rule.severity}
    labels.update(_identity_labels(compiled.identity, ctx["events"]))
    _fill_from_joins(labels, compiled.join_identity, facts)
    labels.update({_label_name(path): value for path, value in group_values})
    labels.update({k: render(ctx) for k, render in compiled.labels.items()})
    event_ids = [e.id for e in events]
    return Firing(
        id=_firing_id(rule.rule, key, event_ids, resolves),
        rule=rule.rule,
        severity=rule.severity,
        time=datetime.fromtimestamp(evidence.time, UTC),
        summary=rule.summary,
        title=compiled.title(ctx),
        text=compiled.text(ctx),
        tags=list(rule.tags),
        labels=labels,
        group_key="|".join([rule.rule, *(v for _, v in group_values)]),
        repeat_seconds=rule.alert.repeat,
        key={"values": list(key)},
        event_ids=event_ids,
        events=[e.model_dump(mode="json", exclude={"facts"}) for e in events[-MAX_EVIDENCE:]],
        facts=facts,
        fact_ids=fact_ids,
        actions=[] if resolves else [
            ActionRequest(hook=hook, args=render(ctx), mode=mode)
            for hook, render, mode in compiled.actions
        ],
        resolves=resolves,
        explains=[] if resolves else [e.scope(ctx, labels) for e in compiled.explains],
    )
