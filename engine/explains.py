"""A rule's ``explains:`` resolved against one firing's context into ``Scope``s.

The engine does the inventory side (the rule's joins already ran: "the instances
on the cause's host" is a ``many`` join of the cause), so the router only compares
labels and values it is handed, and stays free of the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.firing import Scope
from engine.paths import step
from engine.predicates import CompileError
from engine.schema import Explains

#: every value a path reaches, lists walked through (``neighbours.id``: each one's id)
Values = Callable[[Any], list[str]]


def values_getter(path: str) -> Values:
    """A getter for all values at ``path``, walking into each item of a list on the way."""
    parts = tuple(path.split("."))
    if any(not p for p in parts):
        raise ValueError(f"bad path {path!r}")

    def get(obj: Any) -> list[str]:
        level = [obj]
        for part in parts:
            nxt: list[Any] = []
            for item in level:
                if isinstance(item, list | tuple) and not part.lstrip("-").isdigit():
                    nxt.extend(step(x, part) for x in item)
                else:
                    nxt.append(step(item, part))
            level = [x for x in nxt if x is not None]
        out: list[str] = []
        for value in level:
            for one in value if isinstance(value, list | tuple) else [value]:
                if one is not None and one != "" and str(one) not in out:
                    out.append(str(one))
        return out

    return get


@dataclass(frozen=True)
class CompiledExplains:
    spec: Explains
    by: dict[str, Values]

    def scope(self, ctx: dict[str, Any], labels: dict[str, str]) -> Scope:
        wanted = dict(self.spec.match)
        wanted.update({name: labels.get(name, "") for name in self.spec.equal})
        return Scope(rules=list(self.spec.rules), labels=wanted,
                     among={target: get(ctx) for target, get in self.by.items()},
                     within=self.spec.within, before=self.spec.before)


def compile_explains(specs: list[Explains]) -> list[CompiledExplains]:
    out = []
    for i, spec in enumerate(specs):
        by: dict[str, Values] = {}
        for target, path in spec.by.items():
            try:
                by[target] = values_getter(path)
            except ValueError as exc:
                raise CompileError(("explains", i, "by", target), str(exc)) from None
        out.append(CompiledExplains(spec, by))
    return out


def target_values(labels: dict[str, str], facts: dict[str, Any], path: str) -> list[str]:
    """A target firing's values at ``labels.NAME`` or ``facts.JOIN.FIELD``."""
    head, _, rest = path.partition(".")
    return values_getter(rest)(labels if head == "labels" else facts)
