"""The live worker's figures into ``Metrics``: what the hot path counts itself and what
is read off the parts' own counters once a second.

The parsers, the consumer and the router keep plain counters of their own (no
Prometheus import below the application); ``sync()`` moves their growth into
the registry, so a scrape and the parts' counters never disagree by more than
one interval.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from adapters.logs import UnparsedStats
from dreamcatcher.intake import Intake, Item
from dreamcatcher.metrics import Metrics
from engine.engine import Engine
from engine.firing import Firing


class _Growth:
    """How much each named counter grew since the last look."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, ...], float] = {}

    def __call__(self, key: tuple[str, ...], value: float) -> float:
        grown = value - self._last.get(key, 0.0)
        self._last[key] = value
        return grown


class WorkerTelemetry:
    """Hooks for the worker (``on_batch``, ``on_firing``) and ``sync()`` for the rest."""

    def __init__(self, metrics: Metrics, intake: Intake, engine: Callable[[], Engine],
                 stats: UnparsedStats, *,
                 router_stats: Callable[[], dict[str, Any]] | None = None,
                 consumer_stats: Callable[[], Any] | None = None,
                 queue_depths: Callable[[], Mapping[str, float]] | None = None) -> None:
        self.metrics = metrics
        self.intake = intake
        self.stats = stats
        self.router_stats = router_stats
        self.consumer_stats = consumer_stats
        self._growth = _Growth()
        metrics.watch_store(lambda: engine().store_sizes())
        metrics.watch_lag(lambda: _lag(engine()))
        metrics.watch_queues(lambda: {"engine": float(intake.depth()),
                                      **(queue_depths() if queue_depths else {})})

    def on_batch(self, item: Item, firings: list[Firing]) -> None:
        source = item.source.name if item.source is not None else "?"
        event_in = self.metrics.event_in
        for event in item.events:
            event_in(source, event.type)
        self.metrics.ack_latency(time.monotonic() - item.created)

    def on_firing(self, firing: Firing) -> None:
        self.metrics.firing(firing.rule)

    def dead_letter(self, origin: str, reason: str) -> None:
        self.metrics.dead_letter(reason)

    def sync(self) -> None:
        grown, m = self._growth, self.metrics
        for origin, counts in self.stats.as_dict().items():
            unparsed = grown(("unparsed", origin), counts.get("unparsed", 0))
            ignored = grown(("ignored", origin), counts.get("ignored", 0))
            if unparsed:
                m.unparsed(origin, int(unparsed))
            if ignored:
                m.ignored(origin, int(ignored))
        for (origin, reason), count in self.stats.limits().items():
            limited = int(grown(("limited", origin, reason), count))
            if limited:
                m.log_limited(origin, reason, limited)
        if self.router_stats is not None:
            router = self.router_stats()
            m.storm(int(grown(("storm_folded",), router.get("storm_folded", 0))),
                    int(grown(("storm_notices",), router.get("storm_notices", 0))))
            for sink, counts in router.get("sinks", {}).items():
                n = int(grown(("fields_cut", sink), counts.get("fields_cut", 0)))
                if n:
                    m.fields_cut(sink, n)
                for outcome in ("sent", "dead_lettered"):
                    n = int(grown(("notice", sink, outcome), counts.get(outcome, 0)))
                    if n:
                        m.notice(sink, outcome, n)
                n = int(grown(("retry", sink), counts.get("retries", 0)))
                if n:
                    m.delivery_failure(sink, n)
        guard = self.intake.guard
        if guard is not None:
            for (source, action), count in guard.snapshot().items():
                n = int(grown(("future", source, action), count))
                if n:
                    m.future_event(source, action, n)
        if self.consumer_stats is not None:
            for reason, count in dict(self.consumer_stats().reasons).items():
                n = int(grown(("amqp-dead", reason), count))
                if n:
                    m.dead_letter(reason, n)


def _lag(engine: Engine) -> float | None:
    mark = engine.watermark
    return None if not math.isfinite(mark) else max(0.0, time.time() - mark)
