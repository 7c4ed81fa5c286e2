"""Which event fields a set of rules can ever read: what a normalizer must extract.

The walk is ``engine.pathcheck``'s (one walk for every operator: ``where``,
``by``, ``value``, joins' ``by``, ``group_by``, ``resolve``), recording names
instead of checking them; templates (alert title, text, labels, action
arguments) are read from their Jinja syntax tree. A name stands for the
envelope field and the ``data`` key of that name (``Event.context`` gives a
template either); ``data`` for all of ``data``. Whatever cannot be told
statically (``{{ event }}``, ``event[name]``, an event handed to a filter)
gives None: every field is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from jinja2 import nodes

from engine.catalogue import Catalogue, EventSpec
from engine.pathcheck import EventView, RuleChecker
from engine.predicates import Loc
from engine.schema import Rule
from engine.templatecheck import rule_templates
from engine.templates import ENV

#: the template names that hold one event, and the one that holds a list of them
_EVENT_NAMES = frozenset({"event", "first"})
_LIST_NAMES = frozenset({"events"})


class _Everything(Exception):
    """A read that cannot be told statically: every field may be read."""


class _Recorder(RuleChecker):
    """``RuleChecker`` noting every event field a path reads, checking nothing."""

    def __init__(self, rule: Rule, names: set[str]) -> None:
        super().__init__(rule, Catalogue())
        self.names = names

    def view(self, patterns: list[str], loc: Loc) -> EventView:
        return EventView(tuple(patterns), EventSpec())

    def field_of(self, view: EventView, name: str, loc: Loc, data_only: bool = False) -> None:
        self.names.add(name)

    def fact_field(self, kind: str, fields: frozenset[str], name: str, loc: Loc) -> None:
        return None


def _rule_paths(rule: Rule, names: set[str]) -> None:
    """What ``check_paths`` visits, through a recorder instead of a checker."""
    recorder = _Recorder(rule, names)
    firing = recorder.joins(recorder.firing())
    for i, path in enumerate(rule.alert.group_by):
        recorder.context_path(firing, path, ("alert", "group_by", i))
    if rule.resolve is not None:
        view = recorder.view(rule.resolve.event, ("resolve",))
        recorder.where(rule.resolve.where, lambda p, at: recorder.event_path(view, p, at),
                       ("resolve", "where"))


def _attribute(node: nodes.Node) -> str | None:
    """The name a ``x.name`` / ``x['name']`` node asks for; None for anything else."""
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) \
            and isinstance(node.arg.value, str):
        return node.arg.value
    return None


def _template_reads(source: str, names: set[str]) -> None:
    """Fields a template reads of its events (``event.x``, ``events[0].x``, loop items)."""
    tree = ENV.parse(source)
    events = set(_EVENT_NAMES)
    for loop in tree.find_all(nodes.For):  # {% for e in events %}: e is an event
        if isinstance(loop.iter, nodes.Name) and loop.iter.name in _LIST_NAMES \
                and isinstance(loop.target, nodes.Name):
            events.add(loop.target.name)
    used: set[int] = set()  # the Name nodes accounted for
    reads: list[tuple[nodes.Node, str]] = []
    inside: set[int] = set()  # the `event.data` of an `event.data.x`: not all of data
    for node in _walk(tree):
        base, name = _event_read(node, events)
        if base is not None and name is not None:
            used.add(id(base))
            reads.append((node, name))
            inner = node.node  # type: ignore[attr-defined]
            if _attribute(inner) == "data" and inner is not base:
                inside.add(id(inner))
    names.update(name for node, name in reads if id(node) not in inside)
    for loop in tree.find_all(nodes.For):
        if isinstance(loop.iter, nodes.Name) and loop.iter.name in _LIST_NAMES:
            used.add(id(loop.iter))
    for ref in tree.find_all(nodes.Name):
        if ref.ctx == "load" and (ref.name in events or ref.name in _LIST_NAMES) \
                and id(ref) not in used and not _counted(tree, ref):
            raise _Everything(source)


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _event_read(node: nodes.Node, events: set[str]) -> tuple[nodes.Name | None, str | None]:
    """For ``event.x``, ``events[i].x``, ``event.data.x``: (the Name node, ``x``)."""
    name = _attribute(node)
    if name is None:
        return None, None
    inner = node.node  # type: ignore[attr-defined]
    if isinstance(inner, nodes.Name) and inner.name in events:
        return inner, name
    if isinstance(inner, nodes.Getitem) and isinstance(inner.node, nodes.Name) \
            and inner.node.name in _LIST_NAMES and isinstance(inner.arg, nodes.Const) \
            and isinstance(inner.arg.value, int):
        return inner.node, name
    if _attribute(inner) == "data":  # event.data.x: x (event.data is noted as "data" too)
        base, _ = _event_read(inner, events)
        return base, name
    return None, None


def _counted(tree: nodes.Node, ref: nodes.Name) -> bool:
    """``events | length`` / ``events | count``: the list is measured, no field read."""
    return any(f.node is ref and f.name in ("length", "count")
               for f in tree.find_all(nodes.Filter))


def fields_read(rules: Iterable[Rule]) -> frozenset[str] | None:
    """Every event field name the rules can read; None when that cannot be told."""
    names: set[str] = set()
    try:
        for rule in rules:
            _rule_paths(rule, names)
            for _, source in rule_templates(rule):
                _template_reads(source, names)
    except _Everything:
        return None
    return frozenset(names)

