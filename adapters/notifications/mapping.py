"""Declarative notification mappings: YAML in, compiled extractors out.

A mapping file (``mappings/*.yaml``, read in file-name order) holds

.. code-block:: yaml

    common:            # optional, once: fields every mapping gets
      fields: {...}    # evaluated before a mapping's own fields
      derived: {...}   # evaluated after them (e.g. image_base_hash from image_id)
    mappings:
      - name: nova-legacy-instance
        event_types: ["compute.instance.*"]   # fnmatch globs, first match wins
        known_types: [compute.instance.create.start, ...]  # the real types they stand for
        publishers: ["compute.*"]             # optional globs over publisher_id
        ignore: "why"                         # optional: drop these, say why
        service: nova
        fields: {instance_id: payload.instance_id, ...}   # envelope fields
        data:   {state: payload.state, ...}               # Event.data
        facts:
          - kind: instance
            id: event.instance_id
            delete_on: ["compute.instance.delete.end"]
            fields: {host: event.host, ...}

A value spec is a dotted path (``payload.port.mac_address``), a list of specs
(first non-empty wins), or ``{path|value|format, transform, default}``. Paths
start at the message view (``payload``, ``context``, ``publisher``,
``publisher_id``, ``priority``, ``timestamp``, ``message_id``, ``event_type``)
or at what is already computed (``event.<field>``, ``data.<key>``). A path
step may be an index (``0``) or ``*`` (every item of a list); nova's
``nova_object.data`` wrappers are stepped through transparently so versioned
payloads read like legacy ones (``payload.uuid``, ``payload.flavor.name``).

``known_types`` lists the event types (OpenStack's own names) a mapping's globs
stand for; with the names of ``fields`` and ``data`` it is the mapping's entry in
the catalogue ``dreamcatcher validate`` checks rules against, so a rule on
``compute.instance.create.strat`` is refused while ``compute.instance.*`` matches.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from adapters.notifications.decode import FlatContext
from adapters.notifications.transforms import TRANSFORMS
from adapters.packagedata import package_folder
from engine.catalogue import is_glob

_NOVA_DATA = "nova_object.data"
_MISSING = object()
_FORMAT_RE = re.compile(r"\{([A-Za-z0-9_.*:-]+)\}")

Root = dict[str, Any]
Extractor = Callable[[Root], Any]


class MappingError(ValueError):
    """A mapping file is invalid (points at the file and the mapping)."""


def _step(current: Any, segment: str) -> Any:
    if isinstance(current, FlatContext):
        return current.get(segment, _MISSING)
    if isinstance(current, dict):
        value = current.get(segment, _MISSING)
        if value is _MISSING:
            inner = current.get(_NOVA_DATA)
            if isinstance(inner, dict):
                return inner.get(segment, _MISSING)
        return value
    if isinstance(current, list) and segment.isdigit():
        index = int(segment)
        return current[index] if index < len(current) else _MISSING
    return _MISSING


def _walk(current: Any, segments: tuple[str, ...]) -> Any:
    for position, segment in enumerate(segments):
        if segment == "*":
            if isinstance(current, dict) and isinstance(current.get(_NOVA_DATA), list):
                current = current[_NOVA_DATA]
            if not isinstance(current, list):
                return _MISSING
            rest = segments[position + 1:]
            out = []
            for item in current:
                value = _walk(item, rest)
                if value is not _MISSING and value is not None:
                    out.append(value)
            return out
        current = _step(current, segment)
        if current is _MISSING:
            return _MISSING
    if isinstance(current, dict) and _NOVA_DATA in current:
        return current[_NOVA_DATA]
    return current


def _plain_key(current: Any, key: str) -> Any:
    """One plain (non-index, non-``*``) step, stepping through ``nova_object.data``."""
    if current.__class__ is not dict:
        return _step(current, key)
    value = current.get(key, _MISSING)
    if value is _MISSING:
        inner = current.get(_NOVA_DATA)
        if inner.__class__ is dict:
            return inner.get(key, _MISSING)
    return value


def _unwrap(value: Any) -> Any:
    if value.__class__ is dict and _NOVA_DATA in value:
        return value[_NOVA_DATA]
    return value


def compile_path(path: str) -> Extractor:
    """A dotted path to a function of the root; missing → None.

    Paths of plain keys (the common case: ``payload.host``, ``context.request_id``)
    get a closure without the general walk: this runs ~40 times per message.
    """
    segments = tuple(path.split("."))
    if not all(segments):
        raise MappingError(f"empty step in path {path!r}")
    head, rest = segments[0], segments[1:]
    plain = not any(seg == "*" or seg.isdigit() for seg in rest)

    if not rest:
        def extract_head(root: Root) -> Any:
            return root.get(head)

        return extract_head
    if plain and len(rest) == 1:
        (key,) = rest

        def extract_one(root: Root) -> Any:
            current = root.get(head)
            if current is None:
                return None
            value = _plain_key(current, key)
            return None if value is _MISSING else _unwrap(value)

        return extract_one
    if plain:
        def extract_plain(root: Root) -> Any:
            current = root.get(head)
            for key in rest:
                if current is None:
                    return None
                current = _plain_key(current, key)
                if current is _MISSING:
                    return None
            return _unwrap(current)

        return extract_plain

    def extract(root: Root) -> Any:
        value = root.get(head, _MISSING)
        if value is _MISSING:
            return None
        value = _walk(value, rest)
        return None if value is _MISSING else value

    return extract


def _empty(value: Any) -> bool:
    return value is None or value == ""


def compile_spec(spec: Any, where: str) -> Extractor:
    """Compile one value spec (see module doc)."""
    if isinstance(spec, str):
        return compile_path(spec)
    if isinstance(spec, list):
        if not spec:
            raise MappingError(f"{where}: empty list of alternatives")
        options = [compile_spec(item, where) for item in spec]
        pairs = [_plain_pair(item) for item in spec]
        if all(key for _, key in pairs):
            return _first_plain(tuple(pairs), options)

        def first(root: Root) -> Any:
            # first non-empty; an empty list only when no alternative has more
            seen: Any = None
            for option in options:
                value = option(root)
                if not _empty(value) and value != []:
                    return value
                if value is not None:
                    seen = value
            return None if seen == "" else seen

        return first
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: a value spec is a path, a list or a mapping, not {spec!r}")
    unknown = set(spec) - {"path", "value", "format", "transform", "default"}
    if unknown:
        raise MappingError(f"{where}: unknown keys {sorted(unknown)}")
    sources = [k for k in ("path", "value", "format") if k in spec]
    if len(sources) != 1:
        raise MappingError(f"{where}: give exactly one of path, value, format")
    base: Extractor
    if "path" in spec:
        base = compile_spec(spec["path"], where)
    elif "value" in spec:
        constant = spec["value"]

        def base(root: Root) -> Any:
            return constant
    else:
        base = _compile_format(str(spec["format"]), where)
    transforms = spec.get("transform", [])
    names = [transforms] if isinstance(transforms, str) else list(transforms)
    for name in names:
        if name not in TRANSFORMS:
            raise MappingError(f"{where}: unknown transform {name!r} (known: {sorted(TRANSFORMS)})")
    funcs = [TRANSFORMS[name] for name in names]
    default = spec.get("default")

    def apply(root: Root) -> Any:
        value = base(root)
        for func in funcs:
            value = func(value)
        return default if _empty(value) else value

    return apply


def _first_plain(pairs: tuple[tuple[str, str], ...], options: list[Extractor]) -> Extractor:
    """``first`` for alternatives that are all plain ``head.key`` paths, read inline.

    ``request_id: [context.request_id, payload.request_id]`` and the like: the
    common fields every message gets.
    """
    def first_plain(root: Root) -> Any:
        seen: Any = None
        for (head, key), option in zip(pairs, options, strict=True):
            container = root.get(head)
            if container is None:
                continue
            cls = container.__class__
            if cls is FlatContext:
                value = container.get(key)
            elif cls is dict:
                value = container.get(key, _MISSING)
                if value is _MISSING:
                    inner = container.get(_NOVA_DATA)
                    value = inner.get(key) if inner.__class__ is dict else None
            else:
                value = option(root)
            if value.__class__ is dict and _NOVA_DATA in value:
                value = value[_NOVA_DATA]
            if value is not None and value != "" and value != []:
                return value
            if value is not None:
                seen = value
        return None if seen == "" else seen

    return first_plain


def _compile_format(template: str, where: str) -> Extractor:
    """``"{data.binary}@{event.host}"``: None when any part is missing."""
    parts = [(m.group(0), compile_path(m.group(1))) for m in _FORMAT_RE.finditer(template)]
    if not parts:
        raise MappingError(f"{where}: format {template!r} has no {{path}} placeholder")

    def render(root: Root) -> Any:
        text = template
        for placeholder, extractor in parts:
            value = extractor(root)
            if _empty(value):
                return None
            text = text.replace(placeholder, str(value))
        return text

    return render


def _globs(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise MappingError(f"{where}: expected a glob or a list of globs")
    return tuple(items)


#: One named value of a block: (name, head, keys, extractor); ``keys`` is () unless the
#: spec is a plain path ``head.k1[.k2...]``, which ``FieldPlan.fill`` reads inline.
Step = tuple[str, str, tuple[str, ...], Extractor]


class FieldPlan:
    """A block of named value specs (``fields``, ``data``...), evaluated in order.

    Most specs are plain ``payload.x`` / ``context.y`` paths: ``fill`` reads those
    inline instead of calling their closure, which is most of a message's
    normalization cost. Iterating gives the ``(name, extractor)`` pairs.
    """

    __slots__ = ("_pairs", "_steps")

    def __init__(self, steps: Iterable[Step] = ()) -> None:
        self._steps = tuple(steps)
        self._pairs = tuple((name, extract) for name, _, _, extract in self._steps)

    def __iter__(self) -> Iterator[tuple[str, Extractor]]:
        return iter(self._pairs)

    def __len__(self) -> int:
        return len(self._steps)

    def __add__(self, other: FieldPlan) -> FieldPlan:
        return FieldPlan((*self._steps, *other._steps))

    def fill(self, root: Root, out: dict[str, Any], drop_empty_text: bool) -> None:
        """Set ``out[name]`` for every value found (not None; not "" if told), in order.

        In order matters: a later spec may read ``event.<name>`` set by an earlier one.
        Same result as each step's extractor (``compile_path``), tested on the corpus.
        """
        for name, head, keys, extract in self._steps:
            if keys:
                value = root.get(head)
                for key in keys:
                    if value.__class__ is dict:
                        found = value.get(key, _MISSING)
                        if found is _MISSING:  # step through nova_object.data
                            inner = value.get(_NOVA_DATA)
                            found = inner.get(key) if inner.__class__ is dict else None
                        value = found
                    elif value is None:
                        break
                    else:  # a context view, a list...: the general walk
                        value = extract(root)
                        break
                else:
                    if value.__class__ is dict and _NOVA_DATA in value:
                        value = value[_NOVA_DATA]
            else:
                value = extract(root)
            if value is not None and not (drop_empty_text and value == ""):
                out[name] = value


def _plain_keys(spec: Any) -> tuple[str, tuple[str, ...]]:
    """``("payload", ("flavor", "name"))`` for ``payload.flavor.name``; ``("", ())`` if
    the spec is not a plain path (a list, a mapping, an index or ``*`` step)."""
    if not isinstance(spec, str):
        return "", ()
    head, *keys = spec.split(".")
    if not keys or not head or not all(keys) or any(k == "*" or k.isdigit() for k in keys):
        return "", ()
    return head, tuple(keys)


def _plain_pair(spec: Any) -> tuple[str, str]:
    """``("payload", "host")`` for the spec ``payload.host``; ``("", "")`` otherwise."""
    head, keys = _plain_keys(spec)
    return (head, keys[0]) if len(keys) == 1 else ("", "")


def _compile_fields(spec: Any, where: str) -> FieldPlan:
    if spec is None:
        return FieldPlan()
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: expected a mapping of name → value spec")
    return FieldPlan(
        (str(name), *_plain_keys(value), compile_spec(value, f"{where}.{name}"))
        for name, value in spec.items()
    )


@dataclass(frozen=True)
class FactSpec:
    """How one notification updates one inventory record."""

    kind: str
    id: Extractor
    fields: FieldPlan
    delete_on: tuple[str, ...] = ()
    _deletes: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def deletes(self, event_type: str) -> bool:
        """Whether this event type deletes the record (glob match, cached per type)."""
        found = self._deletes.get(event_type)
        if found is None:
            found = any(fnmatch.fnmatchcase(event_type, glob) for glob in self.delete_on)
            if len(self._deletes) < 10_000:
                self._deletes[event_type] = found
        return found


@dataclass(frozen=True)
class Mapping:
    """One compiled mapping: which notifications it takes and what it extracts."""

    name: str
    source: str
    event_types: tuple[str, ...]
    publishers: tuple[str, ...] = ()
    service: str | None = None
    ignore: str | None = None
    fields: FieldPlan = field(default_factory=FieldPlan)
    data: FieldPlan = field(default_factory=FieldPlan)
    facts: tuple[FactSpec, ...] = ()
    known_types: tuple[str, ...] = ()
    #: the mapping as written (YAML), which ``codegen`` compiles into one function
    spec: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def matches(self, event_type: str, publisher_id: str | None) -> bool:
        if not any(fnmatch.fnmatchcase(event_type, glob) for glob in self.event_types):
            return False
        if not self.publishers:
            return True
        return publisher_id is not None and any(
            fnmatch.fnmatchcase(publisher_id, glob) for glob in self.publishers
        )


@dataclass
class MappingSet:
    """All mappings plus the common fields; first match wins, cached per type."""

    mappings: list[Mapping]
    common_fields: FieldPlan = field(default_factory=FieldPlan)
    derived_fields: FieldPlan = field(default_factory=FieldPlan)
    #: ``common.fields`` / ``common.derived`` as written, in order (for ``codegen``)
    common_specs: list[tuple[str, Any]] = field(default_factory=list)
    derived_specs: list[tuple[str, Any]] = field(default_factory=list)
    #: per ``wanted`` set, the mappings compiled to code (``codegen.CompiledMappings``)
    compiled: dict[frozenset[str] | None, Any] = field(default_factory=dict, repr=False)
    _cache: dict[tuple[str, str | None], Mapping | None] = field(default_factory=dict)

    def find(self, event_type: str, publisher_id: str | None) -> Mapping | None:
        key = (event_type, publisher_id)
        try:
            return self._cache[key]
        except KeyError:
            pass
        found = next((m for m in self.mappings if m.matches(event_type, publisher_id)), None)
        if len(self._cache) > 10_000:  # publisher ids vary per host; keep the cache bounded
            self._cache.clear()
        self._cache[key] = found
        return found


_MAPPING_KEYS = {
    "name", "event_types", "publishers", "ignore", "service", "fields", "data", "facts",
    "known_types",
}


def _compile_fact(spec: Any, where: str) -> FactSpec:
    if not isinstance(spec, dict) or "kind" not in spec or "id" not in spec:
        raise MappingError(f"{where}: a fact needs kind and id")
    unknown = set(spec) - {"kind", "id", "fields", "delete_on"}
    if unknown:
        raise MappingError(f"{where}: unknown keys {sorted(unknown)}")
    return FactSpec(
        kind=str(spec["kind"]),
        id=compile_spec(spec["id"], f"{where}.id"),
        fields=_compile_fields(spec.get("fields"), f"{where}.fields"),
        delete_on=_globs(spec.get("delete_on"), f"{where}.delete_on"),
    )


def _compile_mapping(spec: Any, source: str, index: int) -> Mapping:
    where = f"{source}: mappings[{index}]"
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: expected a mapping")
    name = str(spec.get("name", f"#{index}"))
    where = f"{source}: mapping {name!r}"
    unknown = set(spec) - _MAPPING_KEYS
    if unknown:
        raise MappingError(f"{where}: unknown keys {sorted(unknown)}")
    event_types = _globs(spec.get("event_types"), f"{where}.event_types")
    if not event_types:
        raise MappingError(f"{where}: event_types is required")
    facts = spec.get("facts") or []
    if not isinstance(facts, list):
        raise MappingError(f"{where}.facts: expected a list")
    known = _globs(spec.get("known_types"), f"{where}.known_types")
    for known_type in known:
        if is_glob(known_type) or not any(
                fnmatch.fnmatchcase(known_type, glob) for glob in event_types):
            raise MappingError(f"{where}.known_types: {known_type!r} is not a type its"
                               " event_types match")
    return Mapping(
        name=name,
        source=source,
        event_types=event_types,
        publishers=_globs(spec.get("publishers"), f"{where}.publishers"),
        service=spec.get("service"),
        ignore=spec.get("ignore"),
        fields=_compile_fields(spec.get("fields"), f"{where}.fields"),
        data=_compile_fields(spec.get("data"), f"{where}.data"),
        facts=tuple(_compile_fact(f, f"{where}.facts[{i}]") for i, f in enumerate(facts)),
        known_types=known,
        spec=spec,
    )


def load_mappings(paths: Iterable[Path] | None = None) -> MappingSet:
    """Read and compile mapping files (default: every ``mappings/*.yaml``, by name)."""
    if paths is None:
        paths = sorted(package_folder("adapters.notifications", "mappings").glob("*.yaml"))
    files = list(paths)
    if not files:
        raise MappingError("no notification mapping files to load")
    mappings: list[Mapping] = []
    common = FieldPlan()
    derived = FieldPlan()
    common_specs: list[tuple[str, Any]] = []
    derived_specs: list[tuple[str, Any]] = []
    for path in files:
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise MappingError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(document, dict) or set(document) - {"common", "mappings"}:
            raise MappingError(f"{path}: top level must hold only 'common' and 'mappings'")
        if "common" in document:
            block = document["common"] or {}
            common = common + _compile_fields(block.get("fields"), f"{path.name}: common.fields")
            derived = derived + _compile_fields(block.get("derived"),
                                                f"{path.name}: common.derived")
            common_specs += _named_specs(block.get("fields"))
            derived_specs += _named_specs(block.get("derived"))
        for index, spec in enumerate(document.get("mappings") or []):
            mappings.append(_compile_mapping(spec, path.name, index))
    return MappingSet(mappings=mappings, common_fields=common, derived_fields=derived,
                      common_specs=common_specs, derived_specs=derived_specs)


def _named_specs(block: Any) -> list[tuple[str, Any]]:
    """``(name, spec)`` of a block as written (``_compile_fields`` has checked it)."""
    return [(str(name), spec) for name, spec in block.items()] if isinstance(block, dict) else []
