"""``where`` conditions compiled once into plain predicates (never ``eval``)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

import re2

from engine.paths import Getter

Predicate = Callable[[Any], bool]
PathCompiler = Callable[[str], Getter]
Loc = tuple[str | int, ...]

COMBINATORS = ("any", "all", "not")
OPERATORS = (
    "eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte",
    "startswith", "endswith", "contains", "regex", "exists",
)


_PLAIN_NUMBERS = (int, float)
# a tuple of types, built once: `A | B` in isinstance() builds a union object per call
_COLLECTIONS = (list, tuple, set, frozenset)


class CompileError(ValueError):
    """A rule mistake found while compiling, with the field path it concerns."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, _PLAIN_NUMBERS):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _ordered(op: str, bound: Any, get: Getter) -> Predicate:
    limit = _number(bound)
    if limit is None:
        raise ValueError(f"`{op}` needs a number, got {bound!r}")
    compare: Callable[[Any, Any], bool] = {
        "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le,
    }[op]

    def test(obj: Any) -> bool:
        value = get(obj)
        if type(value) in _PLAIN_NUMBERS:  # the usual case, and never a bool
            return compare(value, limit)
        number = _number(value)
        return number is not None and compare(number, limit)

    return test


def _strings(op: str, arg: Any) -> tuple[str, ...]:
    items = arg if isinstance(arg, list) else [arg]
    if not items or not all(isinstance(i, str) for i in items):
        raise ValueError(f"`{op}` needs a string or a list of strings")
    return tuple(items)


def _operator(op: str, arg: Any, get: Getter) -> Predicate:
    """The test of one operator, reading its value with ``get`` (one call, not two)."""
    if op == "eq":
        return lambda obj: get(obj) == arg
    if op == "ne":
        return lambda obj: get(obj) != arg
    if op in ("in", "not_in"):
        if not isinstance(arg, list):
            raise ValueError(f"`{op}` needs a list")
        try:
            members: frozenset[Any] | list[Any] = frozenset(arg)
        except TypeError:
            members = arg
        if op == "in":
            return lambda obj: _member(get(obj), members)
        return lambda obj: not _member(get(obj), members)
    if op in ("gt", "gte", "lt", "lte"):
        return _ordered(op, arg, get)
    if op == "startswith":
        prefixes = _strings(op, arg)
        return lambda obj: isinstance(v := get(obj), str) and v.startswith(prefixes)
    if op == "endswith":
        suffixes = _strings(op, arg)
        return lambda obj: isinstance(v := get(obj), str) and v.endswith(suffixes)
    if op == "contains":
        def contains(obj: Any) -> bool:
            v = get(obj)
            if isinstance(v, str):
                return isinstance(arg, str) and arg in v
            if isinstance(v, _COLLECTIONS):
                return arg in v
            if isinstance(v, Mapping):
                return arg in v
            return False
        return contains
    if op == "regex":
        if not isinstance(arg, str):
            raise ValueError("`regex` needs a string")
        search = linear_search(arg)
        return lambda obj: isinstance(v := get(obj), str) and search(v) is not None
    if op == "exists":
        if not isinstance(arg, bool):
            raise ValueError("`exists` needs true or false")
        return (lambda obj: get(obj) is not None) if arg else (lambda obj: get(obj) is None)
    raise ValueError(f"unknown operator `{op}` (known: {', '.join(OPERATORS)})")


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # the error is ours to report, with the rule's file:line


def linear_search(pattern: str) -> Callable[[str], Any]:
    """``search`` of ``pattern`` compiled by RE2, whose time is linear in the text: a rule's
    regex runs on tenant-controlled text (``(a+)+$`` took 3.3 s per event under ``re``).
    RE2 has no backreferences or lookaround; such a pattern is refused here, at load."""
    try:
        compiled = re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ValueError(
            f"bad regex {pattern!r}: {detail} (rule regexes are RE2 syntax, matched in linear "
            "time: no backreferences, lookahead or lookbehind; write \\z for \\Z)") from None
    found = compiled.search

    def search(text: str) -> Any:
        try:
            return found(text)
        except UnicodeEncodeError:  # a lone surrogate (RE2 reads UTF-8): read as "?"
            return found(text.encode("utf-8", "replace").decode("utf-8"))
    return search


def _member(value: Any, members: frozenset[Any] | list[Any]) -> bool:
    try:
        return value in members
    except TypeError:  # unhashable value against a frozenset
        return False


def _condition(getter: Getter, spec: Any, loc: Loc) -> Predicate:
    if not isinstance(spec, dict):
        expected = spec
        return lambda obj: getter(obj) == expected
    if not spec:
        raise CompileError(loc, "empty condition")
    tests = []
    for op, arg in spec.items():
        try:
            tests.append(_operator(str(op), arg, getter))
        except ValueError as exc:
            raise CompileError((*loc, str(op)), str(exc)) from None
    if len(tests) == 1:
        return tests[0]
    return _all(tests)


def _any(subs: list[Predicate]) -> Predicate:
    if len(subs) == 2:
        a, b = subs
        return lambda obj: a(obj) or b(obj)

    def any_of(obj: Any) -> bool:  # a loop, not any() over a generator built per event
        for sub in subs:  # noqa: SIM110
            if sub(obj):
                return True
        return False

    return any_of


def _all(subs: list[Predicate]) -> Predicate:
    if len(subs) == 2:
        a, b = subs
        return lambda obj: a(obj) and b(obj)

    def all_of(obj: Any) -> bool:
        for sub in subs:  # noqa: SIM110
            if not sub(obj):
                return False
        return True

    return all_of


def _not(sub: Predicate) -> Predicate:
    return lambda obj: not sub(obj)


def compile_where(where: Any, paths: PathCompiler, loc: Loc = ("where",)) -> Predicate | None:
    """A predicate for a ``where`` mapping, or None when it is empty (always true)."""
    if not where:
        return None
    if not isinstance(where, dict):
        raise CompileError(loc, "`where` must be a mapping of path: condition")
    parts: list[Predicate] = []
    for key, spec in where.items():
        key = str(key)
        here = (*loc, key)
        if key in ("any", "all"):
            if not isinstance(spec, list) or not spec:
                raise CompileError(here, f"`{key}` needs a non-empty list of conditions")
            subs = [compile_where(s, paths, (*here, i)) or (lambda _o: True)
                    for i, s in enumerate(spec)]
            parts.append(_any(subs) if key == "any" else _all(subs))
        elif key == "not":
            sub = compile_where(spec, paths, here)
            if sub is None:
                raise CompileError(here, "`not` needs a condition")
            parts.append(_not(sub))
        else:
            try:
                getter = paths(key)
            except ValueError as exc:
                raise CompileError(here, str(exc)) from None
            parts.append(_condition(getter, spec, here))
    return parts[0] if len(parts) == 1 else _all(parts)
