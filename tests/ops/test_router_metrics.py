"""The router's storm counts and the sinks' cut fields reach ``/metrics`` as counters."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from adapters.alerting import Router
from adapters.alerting.limits import MAX_FIELD
from adapters.alerting.sinks.jsonl import JsonLinesSink
from adapters.alerting.storm import StormConfig, StormThrottle
from adapters.logs import UnparsedStats
from dreamcatcher.intake import Intake
from dreamcatcher.metrics import Metrics
from dreamcatcher.telemetry import WorkerTelemetry
from engine.firing import Firing
from tests.ops.scrape import value

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _firing(i: int) -> Firing:
    return Firing(id=f"down:{i}", rule="down", severity="warning",
                  time=T0 + timedelta(seconds=i), title="t" * (MAX_FIELD + 100),
                  labels={"rule": "down", "severity": "warning", "instance": f"i-{i}"},
                  group_key=f"down|instance=i-{i}")


def test_storm_folds_notices_and_cut_fields_are_exported(tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    router = Router([JsonLinesSink(out)], dead_letter_path=tmp_path / "dead",
                    storm=StormThrottle(StormConfig(per_rule=3, total=10, period=60.0,
                                                    names=5)))
    for i in range(12):
        router.submit(_firing(i))
    router.close(5)
    lines = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    storms = [d for d in lines if d["firing"]["labels"].get("storm") == "true"]
    plain = len(lines) - len(storms)
    assert plain == 3 and len(storms) == 1

    metrics = Metrics()
    telemetry = WorkerTelemetry(metrics, Intake(), lambda: None,  # type: ignore[arg-type, return-value]
                                UnparsedStats(), router_stats=router.stats)
    telemetry.sync()
    telemetry.sync()  # growth, not totals, is added
    text = metrics.render().decode()
    assert value(text, "dreamcatcher_storm_folded_total") == 12 - plain
    assert value(text, "dreamcatcher_storm_notices_total") == len(storms)
    # every plain notice had its title cut once; a storm notice's own title is short
    assert value(text, "dreamcatcher_fields_cut_total", sink="jsonl") == plain
    assert router.stats()["sinks"]["jsonl"]["fields_cut"] == plain


class _CountsUnderLock(Counter[str]):
    """The router's counts, refusing a change made without the router's lock held."""

    def __init__(self, counts: Counter[str], router: Router) -> None:
        super().__init__(counts)
        self.router = router

    def __setitem__(self, key: str, value: int) -> None:
        assert self.router._lock.locked(), f"counts[{key!r}] changed outside the lock"
        super().__setitem__(key, value)


def test_the_counts_metrics_read_change_only_under_the_routers_lock(tmp_path: Path) -> None:
    """/metrics reads the counts from another thread: a storm notice counted outside
    the lock could be lost to a concurrent ``+=``."""
    router = Router([JsonLinesSink(tmp_path / "alerts.jsonl")], dead_letter_path=tmp_path / "dead",
                    storm=StormThrottle(StormConfig(per_rule=3, total=10, period=60.0, names=5)))
    router.counts = _CountsUnderLock(router.counts, router)
    for i in range(12):
        router.submit(_firing(i))
    router.close(5)
    assert router.counts["storm_notices"] == 1
