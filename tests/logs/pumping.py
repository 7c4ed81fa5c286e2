"""Hostile lines built from real ones, to show that parsing time grows linearly.

A super-linear regex shows itself on a line where one part repeats many times and
the end no longer matches: each repeat is a place the engine can go back to. So
the attack lines are real lines with one slice of them pumped (repeated) up to a
size, with and without the rest of the line after it, and the same slice with
the line's last character dropped. ``tests/logs/test_linear_time.py`` and
``bench/bench_regex_growth.py`` time the parse of each at two sizes.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
import re
from collections.abc import Iterator
from typing import Any

#: Where a pumped slice may start and end: around the separators of a log line.
_CUTS = frozenset(" []()\"{}:|/=.,;-'<>%*")


def cut_points(line: str, limit: int = 24) -> list[int]:
    """Up to ``limit`` positions next to separators, spread over the line."""
    points = sorted({i for i, c in enumerate(line) if c in _CUTS}
                    | {i + 1 for i, c in enumerate(line) if c in _CUTS} | {0, len(line)})
    if len(points) <= limit:
        return points
    step = len(points) / limit
    return sorted({points[int(k * step)] for k in range(limit)} | {len(line)})


def pumped(line: str, size: int, limit: int = 24) -> Iterator[tuple[str, str]]:
    """``(label, line)`` for each slice of ``line`` repeated to about ``size``; the
    label (slice and variant) is the same at every size."""
    points = cut_points(line, limit)
    for a_index, a in enumerate(points):
        for b in points[a_index + 1:a_index + 6]:  # slices of up to five separators
            piece = line[a:b]
            times = max(1, (size - len(line)) // len(piece))
            body = line[:a] + piece * times
            yield f"[{a}:{b}] whole", body + line[b:]
            yield f"[{a}:{b}] cut", body
            yield f"[{a}:{b}] last dropped", body + line[b:-1]


class TracedPattern:
    """A compiled pattern that keeps the first inputs it was called on (the tracing run
    of ``traced_patterns``); everything else is the pattern's own."""

    def __init__(self, name: str, pattern: re.Pattern[str], keep: int) -> None:
        self.name = name
        self.pattern = pattern
        self.keep = keep
        #: (method, string, pos) of the first calls, matched ones and failed ones apart
        self.inputs: dict[bool, list[tuple[str, str, int]]] = {True: [], False: []}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pattern, name)

    def _call(self, method: str, string: str, pos: int, *rest: Any) -> Any:
        result = getattr(self.pattern, method)(string, pos, *rest)
        seen = self.inputs[result is not None]
        if len(seen) < self.keep and string and all(s != string for _, s, _ in seen):
            seen.append((method, string, pos))
        return result

    def match(self, string: str, pos: int = 0, *rest: Any) -> Any:
        return self._call("match", string, pos, *rest)

    def search(self, string: str, pos: int = 0, *rest: Any) -> Any:
        return self._call("search", string, pos, *rest)

    def fullmatch(self, string: str, pos: int = 0, *rest: Any) -> Any:
        return self._call("fullmatch", string, pos, *rest)

    def sub(self, repl: str, string: str, count: int = 0) -> str:
        """Recorded as a ``search`` (what ``sub`` runs at each place it resumes)."""
        self._call("search", string, 0)
        return self.pattern.sub(repl, string, count)


def _slots(owner: object) -> Iterator[tuple[Any, str, re.Pattern[str]]]:
    """(holder, attribute, pattern) of every compiled pattern a module or object holds."""
    names = list(vars(owner)) if hasattr(owner, "__dict__") else [
        n for cls in type(owner).__mro__ for n in getattr(cls, "__slots__", ())]
    for attr in names:
        value = getattr(owner, attr, None)
        if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
            yield owner, attr, value


@contextlib.contextmanager
def traced_patterns(keep: int = 2) -> Iterator[list[TracedPattern]]:
    """Every line pattern of ``adapters.logs`` (module globals, the oslo layouts' own and
    fused regexes) traced while the block runs; put back after."""
    import adapters.logs
    from adapters.logs.oslo import AUTO, JSON_FORMAT

    holders: list[object] = []
    for info in pkgutil.walk_packages(adapters.logs.__path__, "adapters.logs."):
        holders.append(importlib.import_module(info.name))
    for fmt in (*AUTO, JSON_FORMAT):
        holders.append(fmt)
        holders.extend(fmt.layouts)
    traced: list[TracedPattern] = []
    undo: list[tuple[Any, str, Any]] = []
    for holder in holders:
        for owner, attr, pattern in _slots(holder):
            t = TracedPattern(f"{getattr(owner, '__name__', type(owner).__name__)}.{attr}",
                              pattern, keep)
            undo.append((owner, attr, pattern))
            setattr(owner, attr, t)
            traced.append(t)
        fused = getattr(holder, "_fused", None)
        if isinstance(fused, dict):
            for body, pattern in list(fused.items()):
                t = TracedPattern(f"{getattr(holder, 'name', '?')}.fused", pattern, keep)
                undo.append((fused, body, pattern))
                fused[body] = t
                traced.append(t)
    try:
        yield traced
    finally:
        for owner, attr, pattern in undo:
            if isinstance(owner, dict):
                owner[attr] = pattern
            else:
                setattr(owner, attr, pattern)
