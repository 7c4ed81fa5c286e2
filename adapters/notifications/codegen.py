"""Each mapping compiled once, on first use, into Python functions: straight-line code.

``FieldPlan.fill`` walks a mapping's specs one by one per message (a loop, a
closure call and several dict look-ups per field). Here the same specs become
the source of two functions per mapping (``fill``: common fields, the mapping's
own, ``data``, the derived fields, in that order; ``facts``: its facts, read
once the envelope is finished, as before, built into ``FactUpdate``s), compiled
with ``compile``/``exec`` from the mapping alone, never from message data. Plain
paths are read inline; anything else (indexes, ``*``, ``format``) calls the
spec's closure from ``mapping.compile_spec``, so both paths share one meaning.

What a message's paths start from is bound once up front: each root head (with
its ``nova_object.data``), and each ``head.key`` several paths step through
(``payload.port`` of ``payload.port.*``). A common field that the mapping's own
field of the same name overrides is computed only when that one finds nothing
(``_merge_overrides`` says when that is the same).

``wanted`` (names an event is read by: rules, the inventory) prunes the plan:
only the fields named, those facts read and what those depend on
(``event.<name>``/``data.<key>`` in a spec) are computed. ``None`` computes all.
A name stands for the envelope field and the ``data`` key of that name (a
template's ``event.x`` reads either); ``data`` stands for every ``data`` key.

``tests/notifications/test_codegen.py`` compares this with ``FieldPlan.fill``
on every corpus notification.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from adapters.notifications.decode import FlatContext
from adapters.notifications.errors import NormalizationError
from adapters.notifications.mapping import (
    _FORMAT_RE,
    _MISSING,
    _NOVA_DATA,
    FactSpec,
    Mapping,
    MappingSet,
    _named_specs,
    _plain_keys,
    _walk,
    compile_spec,
)
from adapters.notifications.transforms import TRANSFORMS
from engine.events import FactUpdate, trusted_fact

# a tuple of types, built once: `A | B` in isinstance() builds a union object per call
_SCALARS = (bool, int, float)


def as_text(name: str, value: Any) -> str:
    """An envelope value or fact id as text (numbers and booleans printed), else the error."""
    if isinstance(value, str):
        return value
    if isinstance(value, _SCALARS):
        return str(value)
    raise NormalizationError(f"field {name} is a {type(value).__name__}, expected text")


def fact_update(spec: FactSpec, fact_id: Any, fields: dict[str, Any], event_type: str,
                ) -> FactUpdate:
    """The inventory update of a fact found (its id as text; a delete for the types in
    ``delete_on``): what each plan's generated ``facts`` builds inline."""
    return trusted_fact(spec.kind, fact_id if fact_id.__class__ is str
                        else as_text("fact id", fact_id), fields, spec.deletes(event_type))


_CONTEXT_PREFIX = "_context_"
#: the keys of a versioned nova payload around its data (none is a plain, dot-less key)
_NOVA_KEYS = frozenset({"nova_object.name", "nova_object.namespace", "nova_object.version",
                        "nova_object.data", "nova_object.changes"})
_ALL = "*"
#: computed whatever is wanted: the event's time, and the service it came from
_ALWAYS = ("time", "service")


def spec_reads(spec: Any) -> Iterator[str]:
    """Every path a value spec reads (alternatives, ``path``, ``format`` placeholders)."""
    if isinstance(spec, str):
        yield spec
    elif isinstance(spec, list):
        for item in spec:
            yield from spec_reads(item)
    elif isinstance(spec, dict):
        if "path" in spec:
            yield from spec_reads(spec["path"])
        if "format" in spec:
            yield from (m.group(1) for m in _FORMAT_RE.finditer(str(spec["format"])))


def _star_path(spec: str) -> tuple[str, tuple[str, ...]] | None:
    """``("payload.ip_addresses", ("address",))`` for ``payload.ip_addresses.*.address``:
    one ``*`` after a plain path, plain keys after it; None for any other path."""
    prefix, sep, rest = spec.partition(".*")
    if not sep or (rest and not rest.startswith(".")):
        return None
    keys = tuple(rest[1:].split(".")) if rest else ()
    if not _plain_keys(prefix)[1] or not all(keys) or any(k == "*" or k.isdigit() for k in keys):
        return None
    return prefix, keys


def _walk_item(rest: tuple[str, ...], item: Any) -> Any:
    """One item under a ``*``, as ``mapping._walk`` reads it; missing → None."""
    value = _walk(item, rest)
    return None if value is _MISSING else value


def _depends(spec: Any) -> tuple[set[str], set[str]]:
    """The envelope names (``event.x``) and data keys (``data.x``) a spec reads;
    ``*`` for the whole of either."""
    env: set[str] = set()
    data: set[str] = set()
    for path in spec_reads(spec):
        head, _, rest = path.partition(".")
        key = rest.split(".", 1)[0] if rest else _ALL
        if head == "event":
            env.add(key)
        elif head == "data":
            data.add(key)
    return env, data


@dataclass(frozen=True)
class _Block:
    """One block of a mapping as the generator sees it: raw specs, where they go."""

    target: str  # "envelope", "data" or "fields"
    steps: tuple[tuple[str, Any], ...]
    drop_empty_text: bool


def _needed(blocks: list[_Block], facts: list[tuple[Any, list[tuple[str, Any]]]],
            wanted: frozenset[str] | None) -> tuple[set[str] | None, set[str] | None]:
    """Envelope names and data keys to compute (None: all), closed over dependencies."""
    if wanted is None:
        return None, None
    env: set[str] | None = {*_ALWAYS, *wanted}
    data: set[str] | None = None if "data" in wanted else set(wanted)

    def add(spec: Any) -> bool:
        nonlocal env, data
        grew = False
        more_env, more_data = _depends(spec)
        if env is not None:
            if _ALL in more_env:
                env, grew = None, True
            elif not more_env <= env:
                env |= more_env
                grew = True
        if data is not None:
            if _ALL in more_data:
                data, grew = None, True
            elif not more_data <= data:
                data |= more_data
                grew = True
        return grew

    for fact_id, fields in facts:  # the inventory reads every fact field
        add(fact_id)
        for _, spec in fields:
            add(spec)
    grew = True
    while grew:
        grew = False
        for block in blocks:
            names = env if block.target == "envelope" else data
            for name, spec in block.steps:
                if names is None or name in names:
                    grew = add(spec) or grew
    return env, data


class _Writer:
    """Python source of one plan function, with the constants it refers to."""

    def __init__(self, wrapped_heads: frozenset[str] = frozenset({"event", "data"}),
                 shared: frozenset[tuple[str, str]] = frozenset()) -> None:
        #: of ``event``/``data``, those that may hold a ``nova_object.data`` key (a block
        #: names one so): read through the general steps; the others with one ``get``
        self.wrapped_heads = wrapped_heads
        #: ``(head, key)`` prefixes several paths read (``payload.port`` of
        #: ``payload.port.id``, ``payload.port.mac_address``...): bound once up front
        self.shared = shared
        self.subs: dict[tuple[str, str], str] = {}
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {
            "_M": _MISSING, "_ND": _NOVA_DATA, "_FlatContext": FlatContext, "_dict": dict,
            "_list": list, "_NOVA_KEYS": _NOVA_KEYS, "_str": str, "_text": as_text,
            "_fact": trusted_fact,
        }
        self._count = 0
        #: root heads read with keys: bound once, with their nova_object.data, up front
        self.heads: dict[str, str] = {}

    def name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def const(self, value: Any, prefix: str = "_k") -> str:
        name = self.name(prefix)
        self.namespace[name] = value
        return name

    def line(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    def function(self, name: str, params: str, where: str) -> Any:
        """The lines written so far as the body of ``def name(params)``, compiled.

        Each root head read with keys is bound once up front: a dict head with its
        nova_object.data as one dict (its own keys win; a versioned payload's own keys
        are all nova_object.*, which no plain key is), a bus context as its message.
        """
        prologue: list[str] = []
        for head, local in self.heads.items():
            prologue += [f"{local} = root.get({head!r})",
                         f"if {local}.__class__ is _dict:",
                         f"    {local}m = {local}.get(_ND)",
                         f"    if {local}m.__class__ is not _dict:",
                         f"        {local}m = {local}",
                         f"    elif not {local}.keys() <= _NOVA_KEYS:",
                         f"        {local}m = {{**{local}m, **{local}}}",
                         "else:",
                         f"    {local}m = None"]
            if head == "context":
                prologue.append(f"{local}f = {local}._message if {local}.__class__ is "
                                "_FlatContext else None")
        for (head, key), sub in self.subs.items():
            # the value at head.key as one dict (its nova_object.data under its own keys),
            # else None, with {sub}x saying whether the path needs the general walk
            local = self.heads[head]
            prologue += [f"if {local}m is not None:",
                         f"    {sub} = {local}m.get({key!r})",
                         f"    if {sub}.__class__ is _dict:",
                         f"        {sub}m = {sub}.get(_ND)",
                         f"        if {sub}m.__class__ is not _dict:",
                         f"            {sub}m = {sub}",
                         f"        elif not {sub}.keys() <= _NOVA_KEYS:",
                         f"            {sub}m = {{**{sub}m, **{sub}}}",
                         f"        {sub}x = False",
                         "    else:",
                         f"        {sub}m = None",
                         f"        {sub}x = {sub} is not None",
                         "else:",
                         f"    {sub}m = None",
                         f"    {sub}x = {local} is not None"]
        text = "\n".join([f"def {name}({params}):", *("    " + p for p in prologue),
                          *self.lines, *(["    pass"] if not self.lines else [])])
        namespace = dict(self.namespace)
        exec(compile(text, f"<mapping {where}: {name}>", "exec"), namespace)  # our source
        func = namespace[name]
        func.__doc__ = text  # what was generated, for a reader in a debugger
        return func

    # -- value specs --------------------------------------------------------------
    def value(self, spec: Any, target: str, indent: int, where: str) -> None:
        """Code that sets ``target`` to the spec's value (``compile_spec`` semantics)."""
        if isinstance(spec, str):
            self.path(spec, target, indent, where)
        elif isinstance(spec, list):
            self.first(spec, target, indent, where)
        elif isinstance(spec, dict):
            self.full(spec, target, indent, where)
        else:  # compile_spec raises the error
            compile_spec(spec, where)

    def closure(self, spec: Any, target: str, indent: int, where: str) -> None:
        func = self.const(compile_spec(spec, where), "_x")
        self.line(indent, f"{target} = {func}(root)")

    def path(self, spec: str, target: str, indent: int, where: str) -> None:
        head, keys = _plain_keys(spec)
        if not keys:
            star = _star_path(spec)
            if star is not None:
                self.star(spec, *star, target, indent, where)
            elif "." in spec or not spec:
                self.closure(spec, target, indent, where)
            else:
                self.line(indent, f"{target} = root.get({spec!r})")
            return
        fallback = self.const(compile_spec(spec, where), "_x") + "(root)"
        if head in ("event", "data"):  # filled as the plan runs: read as they are now
            local = "envelope" if head == "event" else "data"
            if len(keys) == 1 and head not in self.wrapped_heads:
                # a dict of our own with no nova_object.data key to step through
                self.line(indent, f"{target} = {local}.get({keys[0]!r})")
                self._rest((), target, indent, fallback)
                return
            self.line(indent, f"{target} = {local}")
            self._steps(keys, target, indent, fallback)
            return
        local = self.heads.setdefault(head, f"_h{len(self.heads)}")
        key, rest = keys[0], keys[1:]
        if rest and (head, key) in self.shared:
            sub = self.subs.setdefault((head, key), f"_q{len(self.subs)}")
            self.line(indent, f"if {sub}m is not None:")
            self.line(indent + 1, f"{target} = {sub}m.get({rest[0]!r})")
            self._rest(rest[1:], target, indent + 1, fallback)
            self.line(indent, f"elif {sub}x:")
            self.line(indent + 1, f"{target} = {fallback}")
            self.line(indent, "else:")
            self.line(indent + 1, f"{target} = None")
            return
        self.line(indent, f"if {local}m is not None:")
        self.line(indent + 1, f"{target} = {local}m.get({key!r})")
        self._rest(rest, target, indent + 1, fallback)
        if head == "context" and not rest:  # the bus shape's _context_* keys, read in place
            self.line(indent, f"elif {local}f is not None:")
            self.line(indent + 1, f"{target} = {local}f.get({_CONTEXT_PREFIX + key!r})")
            self._rest((), target, indent + 1, fallback)
        self.line(indent, f"elif {local} is None:")
        self.line(indent + 1, f"{target} = None")
        self.line(indent, "else:")
        self.line(indent + 1, f"{target} = {fallback}")

    def _rest(self, rest: tuple[str, ...], target: str, indent: int, fallback: str) -> None:
        if rest:
            self._steps(rest, target, indent, fallback)
        else:
            self.line(indent, f"if {target}.__class__ is _dict and _ND in {target}:")
            self.line(indent + 1, f"{target} = {target}[_ND]")

    def _steps(self, keys: tuple[str, ...], target: str, indent: int, fallback: str) -> None:
        """``FieldPlan.fill``'s loop over plain keys, unrolled (nova_object.data stepped
        through); from anything but a dict or None (a list, a context view...), the
        general walk ``fallback``."""
        key, rest = keys[0], keys[1:]
        tmp = self.name("_s")
        self.line(indent, f"if {target}.__class__ is _dict:")
        self.line(indent + 1, f"{tmp} = {target}.get({key!r}, _M)")
        self.line(indent + 1, f"if {tmp} is _M:")
        self.line(indent + 2, f"{tmp} = {target}.get(_ND)")
        self.line(indent + 2,
                  f"{tmp} = {tmp}.get({key!r}) if {tmp}.__class__ is _dict else None")
        self.line(indent + 1, f"{target} = {tmp}")
        self._rest(rest, target, indent + 1, fallback)
        self.line(indent, f"elif {target} is not None:")
        self.line(indent + 1, f"{target} = {fallback}")

    def star(self, spec: str, prefix: str, rest: tuple[str, ...], target: str, indent: int,
             where: str) -> None:
        """``payload.ip_addresses.*.address``: the items' values, None and missing left out
        (``mapping._walk``'s ``*``)."""
        self.path(prefix, target, indent, where)
        item, out = self.name("_i"), self.name("_o")
        self.line(indent, f"if isinstance({target}, _list):")
        self.line(indent + 1, f"{out} = []")
        self.line(indent + 1, f"for {item} in {target}:")
        if rest:
            walk = self.const(functools.partial(_walk_item, rest), "_w")
            self._steps(rest, item, indent + 2, f"{walk}({item})")
        else:
            self._rest((), item, indent + 2, "")
        self.line(indent + 2, f"if {item} is not None:")
        self.line(indent + 3, f"{out}.append({item})")
        self.line(indent + 1, f"{target} = {out}")
        self.line(indent, "else:")
        self.line(indent + 1, f"{target} = None")

    def first(self, spec: list[Any], target: str, indent: int, where: str) -> None:
        """First non-empty alternative; else the last non-None one ("" → None)."""
        if not spec:
            compile_spec(spec, where)  # raises
        seen = self.name("_seen")
        self.line(indent, f"{seen} = None")
        self.line(indent, "while True:")
        for option in spec:
            self.value(option, target, indent + 1, where)
            self.line(indent + 1,
                      f"if {target} is not None and {target} != '' and "
                      f"({target}.__class__ is not _list or {target}):")  # `!= []`, no new list
            self.line(indent + 2, "break")
            self.line(indent + 1, f"if {target} is not None:")
            self.line(indent + 2, f"{seen} = {target}")
        self.line(indent + 1, f"{target} = None if {seen} == '' else {seen}")
        self.line(indent + 1, "break")

    def full(self, spec: dict[str, Any], target: str, indent: int, where: str) -> None:
        """``{path|value|format, transform, default}``."""
        compile_spec(spec, where)  # the checks (unknown keys, transforms...) in one place
        if "path" in spec:
            self.value(spec["path"], target, indent, where)
        elif "value" in spec:
            self.line(indent, f"{target} = {self.const(spec['value'])}")
        else:
            self.closure({"format": spec["format"]}, target, indent, where)
        transforms = spec.get("transform", [])
        for name in [transforms] if isinstance(transforms, str) else list(transforms):
            func = self.const(TRANSFORMS[name], "_t")
            self.line(indent, f"{target} = {func}({target})")
        default = spec.get("default")
        if default is None:
            self.line(indent, f"if {target} == '':")
            self.line(indent + 1, f"{target} = None")
        else:
            self.line(indent, f"if {target} is None or {target} == '':")
            self.line(indent + 1, f"{target} = {self.const(default)}")

    # -- blocks -------------------------------------------------------------------
    def block(self, steps: Iterable[tuple[str, Any]], out: str, drop_empty_text: bool,
              indent: int, where: str, fallbacks: dict[str, Any] | None = None) -> None:
        """Each step's value into ``out[name]`` when found; with a fallback spec for the
        name (``_merge_overrides``), that one's value when the step's is not."""
        test = "v is not None and v != ''" if drop_empty_text else "v is not None"
        for name, spec in steps:
            self.value(spec, "v", indent, f"{where}.{name}")
            self.line(indent, f"if {test}:")
            self.line(indent + 1, f"{out}[{name!r}] = v")
            if fallbacks and name in fallbacks:
                self.line(indent, "else:")
                self.value(fallbacks[name], "v", indent + 1, f"{where}.{name}")
                self.line(indent + 1, f"if {test}:")
                self.line(indent + 2, f"{out}[{name!r}] = v")


def _shared_prefixes(specs: Iterable[Any]) -> frozenset[tuple[str, str]]:
    """``(head, key)`` of the root paths ``head.key.more`` that two or more plain paths of
    ``specs`` start with (``event``/``data`` aside: those change as the plan runs)."""
    seen: dict[tuple[str, str], int] = {}
    for spec in specs:
        for path in spec_reads(spec):
            head, keys = _plain_keys(path)
            if len(keys) >= 2 and head not in ("event", "data"):
                seen[(head, keys[0])] = seen.get((head, keys[0]), 0) + 1
    return frozenset(prefix for prefix, count in seen.items() if count > 1)


def _merge_overrides(common: list[tuple[str, Any]], own: list[tuple[str, Any]],
                     ) -> tuple[list[tuple[str, Any]], dict[str, Any]]:
    """Common fields a mapping's own field of the same name overrides, computed only when
    that one finds nothing: ``(common steps left, {name: common spec})``.

    The same result as computing both in order (the own value wins when found) as long
    as nothing in between reads the name (``event.<name>``, ``event``) and the common
    spec reads only the message (not ``event.*``/``data.*``, which change in between).
    """
    own_at = {name: i for i, (name, _) in enumerate(own)}
    left: list[tuple[str, Any]] = []
    fallbacks: dict[str, Any] = {}
    for i, (name, spec) in enumerate(common):
        at = own_at.get(name)
        if at is not None and _depends(spec) == (set(), set()) and not any(
                {name, _ALL} & _depends(other)[0]
                for _, other in [*common[i + 1:], *own[:at + 1]]):
            fallbacks[name] = spec
        else:
            left.append((name, spec))
    return left, fallbacks


class Plan(NamedTuple):
    """One mapping's generated code: ``fill(root, envelope, data)`` sets the fields;
    ``facts(root, event_type)`` reads the facts, after the envelope is finished (text,
    lower-case MAC), as the facts' ``event.<name>`` paths see it: their updates
    (``fact_update``)."""

    fill: Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], None]
    facts: Callable[[dict[str, Any], str], list[FactUpdate]]


def compile_plan(mset: MappingSet, mapping: Mapping, wanted: frozenset[str] | None) -> Plan:
    """The functions that extract what ``mapping`` gives (pruned to ``wanted``)."""
    raw = mapping.spec
    facts = [(f.get("id"), _named_specs(f.get("fields"))) for f in raw.get("facts") or []]
    blocks = [
        _Block("envelope", tuple(mset.common_specs), True),
        _Block("envelope", tuple(_named_specs(raw.get("fields"))), True),
        _Block("data", tuple(_named_specs(raw.get("data"))), False),
        _Block("envelope", tuple(mset.derived_specs), True),
    ]
    env, data = _needed(blocks, facts, wanted)
    where = f"{mapping.source}: {mapping.name}"
    wrapped = frozenset(head for head, target in (("event", "envelope"), ("data", "data"))
                        if any(name == _NOVA_DATA for block in blocks if block.target == target
                               for name, _ in block.steps))
    kept = [[(n, s) for n, s in block.steps
             if names is None or n in names]
            for block in blocks for names in [env if block.target == "envelope" else data]]
    kept[0], fallbacks = _merge_overrides(kept[0], kept[1])
    fill = _Writer(wrapped, _shared_prefixes(
        spec for steps in kept for _, spec in steps) | _shared_prefixes(fallbacks.values()))
    for block, steps in zip(blocks, kept, strict=True):
        fill.block(steps, block.target, block.drop_empty_text, 1, where,
                   fallbacks if block is blocks[1] else None)
    reads = _Writer(wrapped, _shared_prefixes(
        spec for id_spec, fields in facts for spec in [id_spec, *(s for _, s in fields)]))
    reads.line(1, "envelope = root['event']")
    reads.line(1, "data = root['data']")
    reads.line(1, "facts = []")
    for spec, (id_spec, fields) in zip(mapping.facts, facts, strict=True):
        reads.value(id_spec, "fact_id", 1, f"{where}.facts.id")
        reads.line(1, "if fact_id is not None and fact_id != '':")
        reads.line(2, "fields = {}")
        reads.block(fields, "fields", False, 2, f"{where}.facts")
        # fact_update, inline: no call per fact beside trusted_fact's
        spec_name = reads.const(spec, "_f")
        reads.line(2, f"facts.append(_fact({spec.kind!r}, fact_id if fact_id.__class__ is _str"
                      f" else _text('fact id', fact_id), fields, {spec_name}.deletes(event_type)))")
    reads.line(1, "return facts")
    return Plan(fill.function("fill", "root, envelope, data", where),
                reads.function("facts", "root, event_type", where))


class CompiledMappings:
    """A ``MappingSet`` as plans: the mapping a message takes, and its function.

    Plans are generated on first use of a mapping (a site sees a few dozen types),
    one per mapping and ``wanted`` set; ``compiled_mappings`` keeps one per set.
    """

    def __init__(self, mset: MappingSet, wanted: frozenset[str] | None) -> None:
        self.mappings = mset
        self.wanted = wanted
        self._plans: dict[int, Plan] = {}
        #: ``(event type, publisher id)`` → what ``route`` found: one look-up per message
        self.routes: dict[tuple[str, str | None], Route] = {}

    def plan(self, mapping: Mapping) -> Plan:
        found = self._plans.get(id(mapping))
        if found is None:
            found = self._plans[id(mapping)] = compile_plan(self.mappings, mapping, self.wanted)
        return found

    def route(self, event_type: str, publisher_id: str | None) -> Route | None:
        """The mapping of a message of this type and publisher, with its plan (None for
        an ignored mapping), kept in ``routes``; None if no mapping takes it."""
        mapping = self.mappings.find(event_type, publisher_id)
        if mapping is None:
            return None
        found: Route = (mapping, None if mapping.ignore else self.plan(mapping))
        if len(self.routes) > 10_000:  # bounded like MappingSet.find's cache
            self.routes.clear()
        self.routes[(event_type, publisher_id)] = found
        return found


#: a message's mapping and its plan (None: the mapping ignores such messages)
Route = tuple[Mapping, "Plan | None"]


def compiled_mappings(mset: MappingSet, wanted: Iterable[str] | None) -> CompiledMappings:
    """The plans of ``mset`` for ``wanted`` (None: every field), made once per set."""
    # a frozenset is its own key (its hash is kept): no new set per message
    key = wanted if wanted is None or wanted.__class__ is frozenset else frozenset(wanted)
    found: CompiledMappings | None = mset.compiled.get(key)
    if found is None:
        found = mset.compiled[key] = CompiledMappings(mset, key)
    return found
