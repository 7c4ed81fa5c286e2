"""What a rule can ever read of the events it keeps and the facts it joins,
so state and the inventory store only that.

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

Facts likewise: a join's fields are read by its ``by`` and ``where``, by the
templates and paths that name the join (``instance.name``, ``{% for i in
users %}``), so the inventory keeps, per kind, the union of what the loaded
rules read of it, and nothing of a kind no rule joins.

And what the rules read at all (``fields_read``), conditions too: what a
notification's normalizer must extract. A name there stands for the envelope
field and the ``data`` key of that name (a template's ``event`` holds either),
``data`` for all of ``data``, and None for everything.

One walk for each part: templates by ``_walk`` below; every other path by
``engine.pathcheck``'s walk of the rule (every operator's ``where``, ``by``,
``value``, joins, ``group_by``, ``resolve``), noting reads instead of checking.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from jinja2 import nodes

from engine.catalogue import Catalogue
from engine.events import ENVELOPE_FIELDS, IDENTITY_FIELDS, Event
from engine.pathcheck import EventView, FiringView, RuleChecker
from engine.predicates import Loc
from engine.schema import Rule
from engine.templatecheck import rule_templates
from engine.templates import ENV

_MODEL_FIELDS = frozenset(Event.model_fields)
_ENVELOPE = frozenset(ENVELOPE_FIELDS)
_DICT_ATTRS = frozenset(dir(dict))
_ONE = ("event", "first")  # names of one kept event in a firing's context
_MANY = "events"
_NO_FIELD_READ = ("length", "count")  # filters of `events` that read no event's fields


@dataclass(frozen=True)
class Keep:
    """The fields of a kept event a rule can read: envelope names and ``data`` keys
    (``data=None``: all of ``data``). ``id``, ``type`` and the time are always kept."""

    envelope: tuple[str, ...]  # in the model's order, so a snapshot's JSON is the same
    data: tuple[str, ...] | None  # sorted, for the same reason


@dataclass
class _Reads:
    """The names read of one kind of record: an event (flat context over envelope and
    ``data``) or an inventory fact (a plain mapping); ``whole`` when anything may be."""

    event: bool = True
    envelope: set[str] = field(default_factory=lambda: {"id", "type"})
    data: set[str] | None = field(default_factory=set)
    whole: bool = False

    def name(self, name: str) -> None:
        """``record.<name>`` in a template: for an event the envelope field, else the
        ``data`` key (the context holds both, the envelope on top)."""
        if not self.event or name in _ENVELOPE:
            self.envelope.add(name)
        if self.event:
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


def _attr(node: nodes.Node | None, child: nodes.Node) -> str | None:
    """The name read by ``child.name`` or ``child["name"]``, when ``node`` is that read."""
    if isinstance(node, nodes.Getattr) and node.node is child:
        return node.attr
    if (isinstance(node, nodes.Getitem) and node.node is child
            and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str)):
        return node.arg.value
    return None


def _tested(above: nodes.Node | None, node: nodes.Node) -> bool:
    """``node`` is only tested for truth (``x if record else y``, ``{% if record %}``)."""
    return ((isinstance(above, nodes.CondExpr | nodes.If) and above.test is node)
            or isinstance(above, nodes.Not))


def _element(reads: _Reads, parent: dict[int, nodes.Node], node: nodes.Node) -> None:
    """``node`` is one record: note the field read of it, or mark ``reads`` whole."""
    above = parent.get(id(node))
    if _tested(above, node):
        return
    name = _attr(above, node)
    if above is None or name is None or name in _DICT_ATTRS or _called(parent, above):
        reads.whole = True
        return
    if name != "data" or not reads.event:
        reads.name(name)
        return
    top = parent.get(id(above))
    key = _attr(top, above)
    if top is None or key is None or key in _DICT_ATTRS or _called(parent, top):
        reads.data = None
        return
    reads.key(key)


def _walk(tree: nodes.Template, one: dict[str, _Reads], many: dict[str, _Reads]) -> None:
    """Note what the template reads of the records named in ``one`` (a record each) and
    ``many`` (lists of records); a record used any other way is marked whole."""
    parent: dict[int, nodes.Node] = {}
    aliases: dict[str, _Reads] = {}
    stack: list[nodes.Node] = [tree]
    while stack:
        node = stack.pop()
        for child in node.iter_child_nodes():
            parent[id(child)] = node
            stack.append(child)
        if (isinstance(node, nodes.For) and isinstance(node.iter, nodes.Name)
                and node.iter.name in many and isinstance(node.target, nodes.Name)):
            # `{% for e in events %}`: e is one of them (whatever else bears the name
            # is then read as such too: more kept, never less)
            aliases[node.target.name] = many[node.iter.name]
    for node in tree.find_all(nodes.Name):
        if node.ctx != "load":
            continue
        name = node.name
        if name in one or name in aliases:
            _element(one.get(name) or aliases[name], parent, node)
            if name in one and name in aliases:
                _element(aliases[name], parent, node)
        if name in many:
            reads = many[name]
            above = parent.get(id(node))
            if (isinstance(above, nodes.For) and above.iter is node
                    and isinstance(above.target, nodes.Name)):
                continue  # its target is an alias, each read of it checked as a record
            if _tested(above, node) or (isinstance(above, nodes.Filter) and above.node is node
                                        and above.name in _NO_FIELD_READ):
                continue
            if (isinstance(above, nodes.Getitem) and above.node is node
                    and not isinstance(above.arg, nodes.Slice)):
                _element(reads, parent, above)
                continue
            mapped = _mapped_attribute(above, node)
            if mapped is not None:  # `events | map(attribute='host')`: each one's host
                _read_dotted(reads, mapped)
                continue
            reads.whole = True


def _mapped_attribute(above: nodes.Node | None, node: nodes.Node) -> str | None:
    """The attribute ``node | map(attribute='x')`` reads of each record (else None)."""
    if not (isinstance(above, nodes.Filter) and above.node is node and above.name == "map"):
        return None
    if above.args or above.dyn_args is not None or above.dyn_kwargs is not None:
        return None  # map('filter name') applies a filter to whole records
    for kwarg in above.kwargs:
        if (kwarg.key == "attribute" and isinstance(kwarg.value, nodes.Const)
                and isinstance(kwarg.value.value, str) and kwarg.value.value):
            return kwarg.value.value
    return None


def _read_dotted(reads: _Reads, attribute: str) -> None:
    """``a`` or ``a.b`` read of one record, as ``record.a`` / ``record.a.b`` would be."""
    parts = attribute.split(".")
    if reads.event and parts[0] == "data":
        if len(parts) == 1:
            reads.data = None
        else:
            reads.key(parts[1])
    else:
        reads.name(parts[0])


def _context_path(roots: dict[str, _Reads], many: set[str], path: str) -> None:
    """A ``group_by`` or join path on the firing context (``event.host``, ``events.0.x``)."""
    parts = tuple(path.split("."))
    reads = roots.get(parts[0])
    if reads is None:
        return
    rest = parts[1:]
    if parts[0] in many:
        if not rest or not rest[0].lstrip("-").isdigit():
            return  # a list has no such field: reads nothing
        rest = rest[1:]
    if not rest:
        reads.whole = True
    elif reads.event and rest[0] == "data":
        if len(rest) == 1:
            reads.data = None
        else:
            reads.key(rest[1])
    else:
        reads.name(rest[0])


class _Paths(RuleChecker):
    """``RuleChecker.rule_paths``' walk noting what each path reads, checking nothing.
    ``conditions=False`` leaves out the ``where`` of matchers and ``resolve``: they ran
    on the live event, never on a kept one (a join's ``where`` is a fact's, kept in)."""

    def __init__(self, rule: Rule, event: _Reads, facts: dict[str, _Reads],
                 roots: dict[str, _Reads], many: set[str], conditions: bool) -> None:
        super().__init__(rule, Catalogue())
        self.event, self.facts, self.roots, self.many = event, facts, roots, many
        self.conditions = conditions

    def view(self, patterns: list[str], loc: Loc) -> EventView:
        return EventView(tuple(patterns))

    def condition(self, view: EventView, where: Any, loc: Loc) -> None:
        if self.conditions:
            super().condition(view, where, loc)

    def field_of(self, view: EventView, name: str, loc: Loc, data_only: bool = False) -> None:
        self.event.path(("data", name) if data_only else (name,))

    def fact_field(self, kind: str, fields: frozenset[str], name: str, loc: Loc) -> None:
        self.facts[kind].envelope.add(name)  # a join's ``by`` keys and ``where`` paths

    def context_path(self, firing: FiringView, path: str, loc: Loc) -> None:
        _context_path(self.roots, self.many, path)


def _read(rule: Rule, event: _Reads, facts: dict[str, _Reads], *,
          conditions: bool = False) -> None:
    """Note in ``event`` and ``facts`` (per fact kind) all this rule can read of them
    when it fires (and, with ``conditions``, when it tests an event)."""
    one: dict[str, _Reads] = dict.fromkeys(_ONE, event)
    many: dict[str, _Reads] = {_MANY: event}
    for name, join in rule.join.items():
        kind = facts.setdefault(join.kind, _Reads(event=False, envelope={"id"}))
        (many if join.many else one)[name] = kind
    for _loc, source in rule_templates(rule):
        if "{" in source:
            _walk(ENV.parse(source), one, many)
    _Paths(rule, event, facts, {**one, **many}, set(many), conditions).rule_paths()


def kept_fields(rule: Rule) -> Keep | None:
    """What the rule can read of an event it keeps; None when it may read anything."""
    reads = _Reads()
    _read(rule, reads, {})
    if reads.whole:
        return None
    envelope = tuple(n for n in Event.model_fields
                     if n in reads.envelope and n not in ("time", "data", "raw", "facts"))
    return Keep(envelope, None if reads.data is None else tuple(sorted(reads.data)))


def identity_fields(rule: Rule) -> tuple[str, ...]:
    """The identity fields (``IDENTITY_FIELDS``) the rule reads of its events: what it
    correlates, groups or joins on, or names in its text; all of them when it may read
    anything. A firing labels itself with these, so a text naming a host has a ``host``."""
    keep = kept_fields(rule)
    if keep is None:
        return IDENTITY_FIELDS
    # an envelope name counts only as read of the envelope: a kept event holds it then
    return tuple(name for name in IDENTITY_FIELDS
                 if name in keep.envelope or (name not in _ENVELOPE and (
                     keep.data is None or name in keep.data)))


def join_identity(rule: Rule) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """Per single-valued join (in the rule's order), the identity labels its fact can
    give: ``(label, fact field)`` for each identity field the rule reads of that kind,
    and ``<kind>_id`` from the fact's ``id`` when it reads that. A text naming
    ``instance.host`` so comes with a ``host`` label, unless the event gave one."""
    read = fact_fields([rule])
    out = []
    for name, spec in rule.join.items():
        if spec.many:
            continue
        fields = read.get(spec.kind, frozenset())
        pairs = [(n, n) for n in IDENTITY_FIELDS if fields is None or n in fields]
        own = f"{spec.kind}_id"
        if own in IDENTITY_FIELDS and (fields is None or "id" in fields):
            pairs.append((own, "id"))
        if pairs:
            out.append((name, tuple(pairs)))
    return tuple(out)


def fact_fields(rules: Iterable[Rule]) -> dict[str, frozenset[str] | None]:
    """Per fact kind, the fields these rules can read of its facts (None: all of them).
    A kind no rule joins is read by none: the inventory need not keep it."""
    facts: dict[str, _Reads] = {}
    for rule in rules:
        _read(rule, _Reads(), facts)
    return {kind: None if reads.whole else frozenset(reads.envelope)
            for kind, reads in facts.items()}


def fields_read(rules: Iterable[Rule]) -> frozenset[str] | None:
    """Every event field name the rules can read, conditions too; None: any may be."""
    names: set[str] = set()
    for rule in rules:
        reads = _Reads(envelope=set())
        _read(rule, reads, {}, conditions=True)
        if reads.whole:
            return None
        names |= reads.envelope
        names |= {"data"} if reads.data is None else reads.data
    return frozenset(names)
