"""An index of the rules' conditions: an event meets only the rules it could match.

Each matcher's ``where`` is a conjunction of parts (its top-level keys, the
items of an ``all`` list, each operator of a multi-operator condition). For
one event type, every matcher picks one part it can be looked up by: an
``eq`` (or bare value) or an ``in`` on a path, else a ``startswith``. Those
parts go into one table per path, value (or prefix) -> matchers, so an event
costs one lookup per indexed path instead of one predicate per rule; only
the matchers found there, and those with no indexable part, run their other
parts. A part several matchers of the type share (the same path, operator
and argument) is evaluated once per event, whoever asks first.

Semantics are the plain scan's (``Dispatch.scan``, kept for the test that
compares both): a table lookup finds every matcher whose indexed part holds
(``==`` between JSON values agrees with their hash), and the full rest of the
conjunction is then tested as before, in the matchers' original order.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from engine.events import Event
from engine.paths import Getter, event_getter, event_path_parts
from engine.predicates import Predicate, compile_where

S = TypeVar("S")
_ENVELOPE = frozenset(Event.model_fields)
#: below this many matchers for a type, a plain scan is cheaper than the index
MIN_INDEXED = 6


@dataclass(frozen=True)
class Part:
    """One conjunct of a ``where``: ``{path: {op: arg}}``, or an opaque ``any``/``not``."""

    where: dict[str, Any]
    path: tuple[str, ...] | None  # canonical path of a path condition, None for any/not
    op: str | None
    arg: Any

    @property
    def shared_key(self) -> Hashable:
        """Equal for parts that test the same thing (repr keeps 1, 1.0, True and "1" apart)."""
        if self.path is None:
            return ("where", repr(self.where))
        return (self.path, self.op, type(self.arg).__name__, repr(self.arg))


def canonical_path(path: str) -> tuple[str, ...]:
    """The same tuple for paths ``event_getter`` reads alike (``x``, ``data.x``, ``event.x``)."""
    parts = event_path_parts(path)
    if parts[0] == "data" and len(parts) > 1:
        return parts
    if parts[0] in _ENVELOPE:
        return parts
    return ("data", *parts)


def parts_of(where: dict[str, Any] | None) -> list[Part]:
    """The conjuncts of a ``where`` that compiled (their conjunction is the ``where``)."""
    out: list[Part] = []
    for key, spec in (where or {}).items():
        key = str(key)
        if key == "all":
            for sub in spec:
                out.extend(parts_of(sub))
        elif key in ("any", "not"):
            out.append(Part({key: spec}, None, None, None))
        elif isinstance(spec, dict) and spec:
            path = canonical_path(key)
            for op, arg in spec.items():
                out.append(Part({key: {op: arg}}, path, str(op), arg))
        else:  # a bare value is an equality
            out.append(Part({key: spec}, canonical_path(key), "eq", spec))
    return out


def _lookup_values(part: Part) -> tuple[Any, ...] | None:
    """The keys a part is found under in a table, or None when it cannot be indexed."""
    if part.op == "eq":
        values: tuple[Any, ...] = (part.arg,)
    elif part.op == "in" and isinstance(part.arg, list):
        values = tuple(part.arg)
    elif part.op == "startswith":
        arg = part.arg
        values = tuple(arg) if isinstance(arg, list) else (arg,)
        if not values or not all(isinstance(v, str) for v in values):
            return None
    else:
        return None
    try:
        for value in values:
            hash(value)
            if value != value:  # NaN: equal to nothing, yet a dict finds it by identity
                return None
    except TypeError:
        return None
    return values


def _once(predicate: Predicate) -> Predicate:
    """``predicate`` evaluated once per event (an event's field dict is one object)."""
    last: list[Any] = [None, False]

    def once(values: Any) -> bool:
        if values is last[0]:
            return bool(last[1])
        result = predicate(values)
        last[0] = values
        last[1] = result
        return result

    return once


def _conjunction(tests: list[Predicate]) -> Predicate | None:
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda values: a(values) and b(values)

    def all_of(values: Any) -> bool:
        for test in tests:  # noqa: SIM110
            if not test(values):
                return False
        return True

    return all_of


@dataclass
class _Table:
    get: Getter
    exact: dict[Any, list[int]]  # eq / in values -> positions
    prefixes: dict[str, list[int]]  # startswith prefixes -> positions
    lengths: tuple[int, ...]  # distinct prefix lengths, for the look-ups


class Dispatch(Generic[S]):
    """The matchers of one event type, indexed by their conditions.

    ``items`` are whatever the engine runs per matcher (its steps), each with
    its matcher's ``where``; ``select`` gives the items an event could match,
    in their original order, each with the predicate left to test (None: the
    index already proved it). With fewer than ``min_indexed`` items nothing is
    indexed: each is tested in turn, shared parts still evaluated once.
    """

    def __init__(self, items: Sequence[tuple[S, dict[str, Any] | None]],
                 min_indexed: int = MIN_INDEXED) -> None:
        self.items = [item for item, _ in items]
        parts = [parts_of(where) for _, where in items]
        # a few matchers cost less to test in turn than the look-ups and the merge
        chosen = self._choose(parts) if len(items) >= min_indexed else [-1] * len(items)
        # how many residual parts ask the same question: those are evaluated once
        uses: dict[Hashable, int] = {}
        for i, own in enumerate(parts):
            for j, part in enumerate(own):
                if j != chosen[i]:
                    uses[part.shared_key] = uses.get(part.shared_key, 0) + 1
        compiled: dict[Hashable, Predicate] = {}
        self.rest: list[Predicate | None] = []
        for i, own in enumerate(parts):
            tests = []
            for j, part in enumerate(own):
                if j == chosen[i]:
                    continue
                key = part.shared_key
                test = compiled.get(key)
                if test is None:
                    test = compile_where(part.where, event_getter)
                    assert test is not None
                    if uses[key] > 1:
                        test = _once(test)
                    compiled[key] = test
                tests.append(test)
            self.rest.append(_conjunction(tests))
        self.always: list[int] = []
        tables: dict[tuple[str, ...], _Table] = {}
        for i, own in enumerate(parts):
            if chosen[i] < 0:
                self.always.append(i)
                continue
            part = own[chosen[i]]
            assert part.path is not None
            table = tables.get(part.path)
            if table is None:
                table = tables[part.path] = _Table(
                    event_getter(".".join(part.path)), {}, {}, ())
            values = _lookup_values(part) or ()
            target = table.prefixes if part.op == "startswith" else table.exact
            for value in dict.fromkeys(values):  # `in: [a, a]` lists a matcher once
                target.setdefault(value, []).append(i)
        for table in tables.values():
            table.lengths = tuple(sorted({len(p) for p in table.prefixes}))
        self.tables = list(tables.values())
        self._plain = [(item, rest) for item, rest in zip(self.items, self.rest, strict=True)]
        #: the items an event of this type always meets (no table), in order
        self.unindexed = [self._plain[i] for i in self.always] if not self.tables else None

    @staticmethod
    def _choose(parts: list[list[Part]]) -> list[int]:
        """Per matcher, the part to index it by (-1: none): an equality or ``in`` before a
        prefix, and among those the path with most distinct values over the type's
        matchers (it splits them finest)."""
        distinct: dict[tuple[tuple[str, ...], bool], set[Any]] = {}
        for own in parts:
            for part in own:
                values = _lookup_values(part)
                if values is not None and part.path is not None:
                    distinct.setdefault((part.path, part.op == "startswith"), set()).update(
                        (type(v).__name__, repr(v)) for v in values)
        chosen: list[int] = []
        for own in parts:
            best, best_rank = -1, (0, 0)
            for j, part in enumerate(own):
                if part.path is None or _lookup_values(part) is None:
                    continue
                prefix = part.op == "startswith"
                rank = (0 if prefix else 1, len(distinct[(part.path, prefix)]))
                if rank > best_rank:
                    best, best_rank = j, rank
            chosen.append(best)
        return chosen

    def select(self, values: dict[str, Any]) -> list[tuple[S, Predicate | None]]:
        """The items this event could match, in order, with what is left to test."""
        if self.unindexed is not None:
            return self.unindexed
        found: list[int] = list(self.always)
        sources = 1 if found else 0
        for table in self.tables:
            value = table.get(values)
            if table.exact:
                try:
                    hit = table.exact.get(value)
                except TypeError:  # an unhashable value equals no indexed value
                    hit = None
                if hit:
                    found += hit
                    sources += 1
            if table.lengths and isinstance(value, str):
                size = len(value)
                for length in table.lengths:
                    if length > size:
                        break
                    hit = table.prefixes.get(value[:length])
                    if hit:
                        found += hit
                        sources += 2  # several prefixes may name the same matcher
        if sources > 1:
            found = sorted(set(found)) if sources > 2 else sorted(found)
        plain = self._plain
        return [plain[i] for i in found]

    def scan(self, values: dict[str, Any],
             predicates: Sequence[Predicate | None]) -> list[S]:
        """The plain way, for comparison: every item, its whole predicate."""
        return [item for item, predicate in zip(self.items, predicates, strict=True)
                if predicate is None or predicate(values)]

    def matches(self, values: dict[str, Any]) -> list[S]:
        """The items whose condition holds, through the index."""
        return [item for item, rest in self.select(values) if rest is None or rest(values)]

