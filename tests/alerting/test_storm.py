"""The storm throttle across groups: 10,000 distinct groups give at most the limits plus
one storm notice per rule and period at the sinks, every fold counted, the same on replay."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.alerting import Router
from adapters.alerting.config import AlertingConfig
from adapters.alerting.notice import Notice
from adapters.alerting.sinks.base import Sink
from adapters.alerting.storm import StormConfig, StormThrottle
from engine.firing import Firing

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Collect(Sink):
    name = "collect"

    def __init__(self) -> None:
        self.got: list[Notice] = []
        self._lock = threading.Lock()

    def send(self, notice: Notice) -> None:
        with self._lock:
            self.got.append(notice)


def _firing(i: int, rule: str, seconds: float, severity: str = "warning") -> Firing:
    return Firing(id=f"{rule}:{i}", rule=rule, severity=severity,  # type: ignore[arg-type]
                  time=T0 + timedelta(seconds=seconds), title=f"instance {i} down",
                  labels={"rule": rule, "severity": severity, "instance": f"i-{i}"},
                  group_key=f"{rule}|instance=i-{i}")


def _storm(config: StormConfig, tmp_path: Path) -> tuple[list[Notice], Router]:
    sink = Collect()
    router = Router([sink], storm=StormThrottle(config), dead_letter_path=tmp_path / "dead")
    for i in range(10_000):  # 10,000 distinct groups in 5 minutes; rule b a tenth of them
        rule = "instance-down" if i % 10 else "port-down"
        router.submit(_firing(i, rule, i * 0.03, "critical" if i % 7 == 0 else "warning"))
    router.close(5)
    return sink.got, router


def test_a_storm_over_10000_groups_reaches_the_sinks_as_the_limits_plus_storm_notices(
        tmp_path: Path) -> None:
    config = StormConfig(per_rule=30, total=50, period=60.0, names=5)
    got, router = _storm(config, tmp_path)
    storms = [n for n in got if n.firing.labels.get("storm") == "true"]
    plain = [n for n in got if n not in storms]
    periods = 5  # 300 s of firings
    assert len(plain) <= periods * config.total
    assert len(storms) <= periods * 2  # one per rule per period
    assert len(plain) + sum(n.folded for n in storms) == 10_000  # nothing lost silently
    assert router.counts["storm_folded"] == sum(n.folded for n in storms)
    assert router.dead.total == 0 and not (tmp_path / "dead").exists()
    first = storms[0]
    assert first.firing.rule == "instance-down" and first.firing.severity == "critical"
    assert f"{first.folded} notices" in first.firing.title
    assert "instance-down|instance=i-" in first.firing.text and "more." in first.firing.text
    assert first.firing.time == T0 + timedelta(minutes=1)  # at the period's end


def test_per_rule_limit_leaves_room_for_other_rules(tmp_path: Path) -> None:
    got, _ = _storm(StormConfig(per_rule=10, total=1000, period=60.0), tmp_path)
    first_minute = [n for n in got if n.firing.time < T0 + timedelta(minutes=1)
                    and n.firing.labels.get("storm") != "true"]
    assert sum(n.firing.rule == "instance-down" for n in first_minute) == 10
    assert sum(n.firing.rule == "port-down" for n in first_minute) == 10


def test_the_same_storm_folds_the_same_way_on_replay(tmp_path: Path) -> None:
    config = StormConfig(per_rule=30, total=50, period=60.0)
    one = [(n.id, n.folded) for n in _storm(config, tmp_path)[0]]
    two = [(n.id, n.folded) for n in _storm(config, tmp_path)[0]]
    assert sorted(one) == sorted(two)


def test_a_tick_closes_a_quiet_period_and_quiet_traffic_is_untouched(tmp_path: Path) -> None:
    sink = Collect()
    router = Router([sink], storm=StormThrottle(StormConfig(per_rule=2, total=10)))
    for i in range(5):
        router.submit(_firing(i, "r", i))
    router.tick(T0 + timedelta(seconds=30))  # same period: nothing yet
    router.tick(T0 + timedelta(seconds=61))
    router.submit(_firing(9, "r", 3600))  # an hour later: passes
    router.close(5)
    assert [n.folded for n in sink.got] == [0, 0, 3, 0]
    assert sink.got[2].firing.time == T0 + timedelta(minutes=1)


def test_the_config_has_sane_defaults_and_refuses_nonsense() -> None:
    config = AlertingConfig()
    assert config.storm.enabled and config.storm.per_rule <= config.storm.total
    assert AlertingConfig.model_validate({"storm": {"period": "5m"}}).storm.period == 300.0
    with pytest.raises(ValueError):
        AlertingConfig.model_validate({"storm": {"per_rule": 0}})
    with pytest.raises(ValueError):
        AlertingConfig.model_validate({"storm": {"period": "0s"}})


def test_the_configured_router_throttles_by_default(tmp_path: Path) -> None:
    from adapters.alerting.config import build_router

    out = tmp_path / "alerts.jsonl"
    config = AlertingConfig.model_validate({
        "sinks": [{"type": "jsonl", "url": str(out)}],
        "dead_letter_path": str(tmp_path / "dead.jsonl")})
    router = build_router(config)
    for i in range(10_000):
        router.submit(_firing(i, "instance-down", i * 0.006))  # one minute
    router.close(5)
    lines = out.read_text().splitlines()
    assert len(lines) == config.storm.per_rule + 1
    assert f'"folded":{10_000 - config.storm.per_rule}' in lines[-1]
    assert not (tmp_path / "dead.jsonl").exists()
