"""What a replay did, counted while it runs and said in a few lines at the end.

A run that rejected input, skipped log lines or lost alert deliveries must say
so where the operator looks (stderr, after the alerts); "12,394 events, 9
alerts" alone hides it. Counting costs nothing per event beyond a C-level
``zip`` with a counter per input stream.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from adapters.logs.stats import UnparsedStats
from dreamcatcher.words import plural
from engine.events import Event
from engine.firing import Firing


def display(path: Path | str) -> str:
    """A path as short as it can be and still be found: relative to here when inside."""
    text = str(path)
    if not os.path.isabs(text) or os.getcwd() == os.sep:
        return text
    try:
        rel = os.path.relpath(text)
    except ValueError:  # another drive on Windows
        return text
    return text if rel.startswith("..") else rel


@dataclass
class _Source:
    name: str
    counter: Iterator[int]
    events: int | None = None


@dataclass
class RunTally:
    """Events per input, alerts per rule; and the log stats the readers fill in."""

    stats: UnparsedStats = field(default_factory=UnparsedStats)
    alerts: Counter[str] = field(default_factory=Counter)
    resolved: int = 0
    _sources: list[_Source] = field(default_factory=list)

    def count(self, name: str, events: Iterable[Event]) -> Iterator[Event]:
        """``events`` unchanged, counted: the ``count()`` advances once per event that passes."""
        counter = itertools.count()
        self._sources.append(_Source(name, counter))
        return map(itemgetter(0), zip(events, counter, strict=False))

    def events_by_source(self) -> dict[str, int]:
        """Per input, the events it gave (read once its stream is exhausted)."""
        for source in self._sources:
            if source.events is None:
                source.events = next(source.counter)
        return {s.name: s.events or 0 for s in self._sources}

    def counting(self, handler: Callable[[Firing], None]) -> Callable[[Firing], None]:
        """``handler``, counting each firing by rule first."""
        def handle(firing: Firing) -> None:
            self.alerts[firing.rule] += 1
            self.resolved += firing.resolves
            handler(firing)

        return handle


@dataclass(frozen=True)
class Delivery:
    """What the alert router did with the alerts (only when a --config router is used)."""

    silenced: int
    failed: int
    kept_in: Path | None = None
    #: notices an Alertmanager sink did not post: a replay is history (docs/actions.md)
    history: int = 0

    @classmethod
    def from_router_stats(cls, stats: dict[str, Any], kept_in: Path | None) -> Delivery:
        failed = sum(int(s.get("dead_lettered", 0)) for s in stats.get("sinks", {}).values())
        history = sum(int(s.get("history_not_sent", 0)) for s in stats.get("sinks", {}).values())
        return cls(silenced=int(stats.get("silenced", 0)), failed=failed, kept_in=kept_in,
                   history=history)


def _rejected_by_source(counts: Counter[str], sources: Iterable[str]) -> dict[str, int]:
    """Dead-letter origins are ``path`` or ``path:line``: fold them onto their input."""
    out: Counter[str] = Counter()
    names = sorted(sources, key=len, reverse=True)  # the longest matching path wins
    for origin, n in counts.items():
        for name in names:
            if origin == name or origin.startswith(name + ":"):
                out[name] += n
                break
    return dict(out)


def format_summary(tally: RunTally, *, rules: int, rejected: Counter[str],
                   dead_letter_path: Path | None, delivery: Delivery | None = None) -> str:
    """The end-of-run report: totals first, then per input and per rule, then what was lost."""
    by_source = tally.events_by_source()
    events = sum(by_source.values())
    alerts = sum(tally.alerts.values())
    lines = [f"{plural(events, 'event')}, {plural(alerts, 'alert')} "
             f"from {plural(rules, 'rule')}"]
    rejects = _rejected_by_source(rejected, by_source)
    if by_source:
        lines.append("events by source:")
        wide = max(len(display(name)) for name in by_source)
        for name, n in by_source.items():
            parts = [plural(n, "event")]
            unparsed, ignored = tally.stats.unparsed[name], tally.stats.ignored[name]
            if unparsed:
                parts.append(plural(unparsed, "unparsed line"))
            if ignored:
                parts.append(plural(ignored, "ignored line"))
            if rejects.get(name):
                parts.append(f"{plural(rejects[name], 'input')} rejected")
            lines.append(f"  {display(name):<{wide}}  {', '.join(parts)}")
    if tally.alerts:
        lines.append("alerts by rule:")
        wide = max(len(rule) for rule in tally.alerts)
        for rule, n in sorted(tally.alerts.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {rule:<{wide}}  {plural(n, 'alert')}")
        if tally.resolved:
            lines.append(f"  ({tally.resolved:,} of them resolving an earlier alert)")
    if delivery is not None:
        text = (f"alert delivery: {delivery.silenced:,} silenced, "
                f"{plural(delivery.failed, 'failed delivery')}")
        if delivery.failed and delivery.kept_in is not None:
            text += f", kept in {display(delivery.kept_in)}"
        if delivery.history:
            text += (f", {plural(delivery.history, 'notice')} not posted to Alertmanager "
                     "(a replay is history)")
        lines.append(text)
    total_rejected = sum(rejected.values())
    if total_rejected:
        where = display(dead_letter_path) if dead_letter_path is not None else "memory"
        lines.append(f"{plural(total_rejected, 'input')} rejected, "
                     f"kept with the reason in {where}")
    return "\n".join(lines)
