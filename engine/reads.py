"""What a rule can ever read of the events it keeps, so state stores only that.

A kept event (an open expectation's first, a window's events, a sequence's
steps) is read again only when the rule fires: by its templates (``event``,
``first``, ``events``), its ``group_by`` and join paths, its correlation key
(an expectation's deadline reads the key back from the kept first) and the
firing's own fields (id, time). Conditions never run on a kept event: they
ran on the live one. So at compile time the fields those can reach are
derived, and the snapshot keeps them and nothing else.

Templates are read from their Jinja syntax tree, every branch of it (a render
would see one). Whatever is not a plain field read (``{{ event }}``, a filter
or a call on an event, ``event[name]``, ``events`` passed on whole) keeps
everything: never lose a field a template could read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jinja2 import nodes

from engine.events import ENVELOPE_FIELDS, Event
from engine.paths import event_path_parts
from engine.schema import Rule
from engine.templatecheck import rule_templates
from engine.templates import ENV

_MODEL_FIELDS = frozenset(Event.model_fields)
_ENVELOPE = frozenset(ENVELOPE_FIELDS)
_DICT_ATTRS = frozenset(dir(dict))
_ONE = ("event", "first")  # names of one kept event in a firing's context
_MANY = "events"
_NO_FIELD_READ = ("length", "count")  # filters of `events` that read no event's fields


class _All(Exception):
    """Raised by the walk when a template may read anything of an event."""


@dataclass(frozen=True)
class Keep:
    """The fields of a kept event a rule can read: envelope names and ``data`` keys
    (``data=None``: all of ``data``). ``id``, ``type`` and the time are always kept."""

    envelope: tuple[str, ...]  # in the model's order, so a snapshot's JSON is the same
    data: tuple[str, ...] | None  # sorted, for the same reason


@dataclass
class _Reads:
    envelope: set[str] = field(default_factory=lambda: {"id", "type"})
    data: set[str] | None = field(default_factory=set)

    def name(self, name: str) -> None:
        """``event.<name>`` in a template: the envelope field, else the ``data`` key."""
        if name in _ENVELOPE:
            self.envelope.add(name)
        self.key(name)

    def key(self, name: str) -> None:
        if self.data is not None:
            self.data.add(name)

    def path(self, parts: tuple[str, ...]) -> None:
        """An event path as ``event_getter`` reads it."""
        head = parts[0]
        if head == "data":
            if len(parts) == 1:
                self.data = None
            else:
                self.key(parts[1])
        elif head in _MODEL_FIELDS:
            self.envelope.add(head)
        else:
            self.key(head)


def _called(parent: dict[int, nodes.Node], node: nodes.Node) -> bool:
    above = parent.get(id(node))
    return isinstance(above, nodes.Call) and above.node is node


def _attr(node: nodes.Node, child: nodes.Node) -> str | None:
    """The name read by ``child.name`` or ``child["name"]``, when ``node`` is that read."""
    if isinstance(node, nodes.Getattr) and node.node is child:
        return node.attr
    if (isinstance(node, nodes.Getitem) and node.node is child
            and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str)):
        return node.arg.value
    return None


def _element(reads: _Reads, parent: dict[int, nodes.Node], node: nodes.Node) -> None:
    """``node`` is one kept event's context: note the field read of it, or give up."""
    above = parent.get(id(node))
    name = _attr(above, node) if above is not None else None
    if above is None or name is None or name in _DICT_ATTRS or _called(parent, above):
        raise _All
    if name != "data":
        reads.name(name)
        return
    top = parent.get(id(above))
    key = _attr(top, above) if top is not None else None
    if top is None or key is None or key in _DICT_ATTRS or _called(parent, top):
        reads.data = None
        return
    reads.key(key)


def _walk(reads: _Reads, tree: nodes.Template) -> None:
    parent: dict[int, nodes.Node] = {}
    aliases: set[str] = set()
    stack: list[nodes.Node] = [tree]
    while stack:
        node = stack.pop()
        for child in node.iter_child_nodes():
            parent[id(child)] = node
            stack.append(child)
        if (isinstance(node, nodes.For) and isinstance(node.iter, nodes.Name)
                and node.iter.name == _MANY and isinstance(node.target, nodes.Name)):
            aliases.add(node.target.name)  # `{% for e in events %}`: e is one event
    for node in tree.find_all(nodes.Name):
        if node.ctx != "load":
            continue
        if node.name in _ONE or node.name in aliases:
            _element(reads, parent, node)
        elif node.name == _MANY:
            above = parent.get(id(node))
            if (isinstance(above, nodes.For) and above.iter is node
                    and isinstance(above.target, nodes.Name)):
                continue  # its target is an alias, each read of it checked as an event
            if isinstance(above, nodes.Filter) and above.node is node and above.name in _NO_FIELD_READ:
                continue
            if (isinstance(above, nodes.Getitem) and above.node is node
                    and not isinstance(above.arg, nodes.Slice)):
                _element(reads, parent, above)
                continue
            raise _All


def _context_path(reads: _Reads, path: str) -> None:
    """A ``group_by`` or join path on the firing context (``event.host``, ``events.0.x``)."""
    parts = tuple(path.split("."))
    if parts[0] in _ONE:
        rest = parts[1:]
    elif parts[0] == _MANY:
        if len(parts) < 2 or not parts[1].lstrip("-").isdigit():
            return  # reads no event field (``events.x`` is nothing)
        rest = parts[2:]
    else:
        return
    if not rest:
        raise _All
    if rest[0] == "data":
        if len(rest) == 1:
            reads.data = None
        else:
            reads.key(rest[1])
    else:
        reads.name(rest[0])


def _event_paths(rule: Rule) -> Iterator[str]:
    """The correlation paths of every matcher: the key is read back from a kept event."""
    when = rule.when
    op = when.count or when.sequence or when.expect or when.baseline
    if op is None:
        return
    yield from op.by
    steps: Iterable[Any] = ()
    if when.sequence is not None:
        steps = when.sequence.steps
    elif when.expect is not None:
        steps = (when.expect.first, when.expect.then)
    for step in steps:
        yield from step.by or ()


def kept_fields(rule: Rule) -> Keep | None:
    """What the rule can read of an event it keeps; None when it may read anything."""
    reads = _Reads()
    try:
        for _loc, source in rule_templates(rule):
            if "{" in source:
                _walk(reads, ENV.parse(source))
        for path in rule.alert.group_by:
            _context_path(reads, path)
        for join in rule.join.values():
            for path in join.by.values():
                _context_path(reads, path)
    except _All:
        return None
    for path in _event_paths(rule):
        reads.path(event_path_parts(path))
    envelope = tuple(n for n in Event.model_fields
                     if n in reads.envelope and n not in ("time", "data", "raw", "facts"))
    return Keep(envelope, None if reads.data is None else tuple(sorted(reads.data)))
