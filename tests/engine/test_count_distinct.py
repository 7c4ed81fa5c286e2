"""``count`` with ``distinct``: N distinct values of a path, not N events."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from engine.engine import Engine
from engine.events import Event
from engine.schema import Rule

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _rule(distinct: str | None, at_least: int = 2) -> Rule:
    count: dict[str, object] = {"event": "x.failed", "at_least": at_least, "within": "1m"}
    if distinct is not None:
        count["distinct"] = distinct
    return Rule.model_validate({
        "rule": "r", "severity": "warning", "when": {"count": count},
        "alert": {"title": "{{ count }}: {{ events | map(attribute='instance_id') | join(',') }}"},
    })


def ev(i: int, instance: str | None, seconds: float) -> Event:
    return Event(id=f"e{i}", type="x.failed", time=T0 + timedelta(seconds=seconds),
                 instance_id=instance)


def _titles(rule: Rule, events: list[Event]) -> list[str]:
    engine = Engine([rule], lateness=0.0)
    return [f.title for e in events for f in engine.process(e)]


def test_one_instance_logged_twice_is_one_instance() -> None:
    events = [ev(1, "i1", 0), ev(2, "i1", 1), ev(3, "i1", 2)]
    assert _titles(_rule(None), events) == ["2: i1,i1"]  # lines: what it did before
    assert _titles(_rule("instance_id"), events) == []


def test_distinct_values_fire_with_the_latest_event_of_each() -> None:
    events = [ev(1, "i1", 0), ev(2, "i1", 1), ev(3, "i2", 2)]
    engine = Engine([_rule("instance_id")], lateness=0.0)
    firings = [f for e in events for f in engine.process(e)]
    assert [f.title for f in firings] == ["2: i1,i2"]
    assert firings[0].event_ids == ["e2", "e3"]


def test_events_without_the_value_do_not_count() -> None:
    assert _titles(_rule("instance_id"), [ev(1, None, 0), ev(2, None, 1)]) == []


def test_distinct_values_outside_the_window_do_not_count() -> None:
    assert _titles(_rule("instance_id"), [ev(1, "i1", 0), ev(2, "i2", 90)]) == []


def test_distinct_counts_as_the_plain_count_when_values_never_repeat() -> None:
    rng = random.Random(7)
    times = sorted(rng.uniform(0, 600) for _ in range(60))
    events = [ev(i, f"i{i}", t) for i, t in enumerate(times)]
    for n in (1, 2, 3):
        assert _titles(_rule("instance_id", n), events) == _titles(_rule(None, n), events)


def test_distinct_takes_an_event_path() -> None:
    with pytest.raises(ValidationError):
        Rule.model_validate({"rule": "r", "severity": "warning", "when": {"count": {
            "event": "x", "at_least": 2, "within": "1m", "distinct": 3}},
            "alert": {"title": "t"}})
