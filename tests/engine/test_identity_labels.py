"""A firing is labelled with the identity fields its rule reads (engine.reads.identity_fields):
what it correlates or groups on and what its text names, so Alertmanager can group and
silence by ``host`` or ``instance_id`` without the rule author repeating them as labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine.engine import Engine
from engine.events import Event, FactUpdate
from engine.firing import Firing
from engine.schema import Rule

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _fire(alert: dict[str, Any], when: dict[str, Any] | None = None) -> Firing:
    rule = Rule.model_validate({"rule": "r", "severity": "warning",
                                "when": when or {"event": "t"}, "alert": alert})
    engine = Engine([rule], lateness=0.0)
    events = [Event(id=f"e{i}", type="t", time=T0 + timedelta(seconds=i), host="compute-3",
                    instance_id="i-1", project_id="p-1", user_id="u-1",
                    data={"switch": "SW-1", "reason": "x"}) for i in range(3)]
    firings = engine.process_many(events) + engine.drain()
    assert firings
    return firings[-1]


def test_what_the_rule_correlates_on_and_its_text_names_become_labels() -> None:
    firing = _fire({"title": "{{ event.host }}: {{ event.switch }} ({{ count }})"},
                   {"count": {"event": "t", "at_least": 3, "within": "1h",
                              "by": ["instance_id"]}})
    assert firing.labels == {"rule": "r", "severity": "warning", "host": "compute-3",
                             "switch": "SW-1", "instance_id": "i-1"}


def test_fields_the_rule_does_not_read_are_not_labels() -> None:
    firing = _fire({"title": "something broke: {{ event.reason }}"})
    assert firing.labels == {"rule": "r", "severity": "warning"}


def test_group_by_and_the_rules_own_labels_win_over_derived_ones() -> None:
    firing = _fire({"title": "{{ event.host }} {{ event.project_id }}",
                    "labels": {"host": "{{ event.host | upper }}"},
                    "group_by": ["event.project_id"]})
    assert firing.labels["host"] == "COMPUTE-3"
    assert firing.labels["project_id"] == "p-1"
    assert firing.group_key == "r|p-1"  # the group is what group_by says, labels or not


def test_a_single_joined_fact_gives_what_the_events_did_not() -> None:
    rule = Rule.model_validate({
        "rule": "r", "severity": "critical", "when": {"event": "t"},
        "join": {"instance": {"kind": "instance", "by": {"id": "event.instance_id"}},
                 "all": {"kind": "instance", "by": {"project_id": "instance.project_id"},
                         "many": True}},
        "alert": {"title": "{{ instance.name }} on {{ instance.host }} "
                           "(project {{ instance.project_id }}, {{ all | length }} more)"}})
    engine = Engine([rule], lateness=0.0)
    seed = Event(id="f", type="inventory", time=T0, facts=[FactUpdate(
        kind="instance", id="i-1",
        fields={"name": "web-1", "host": "compute-9", "project_id": "p-9", "user_id": "u"})])
    event = Event(id="e", type="t", time=T0 + timedelta(seconds=1), host="switch-1",
                  instance_id="i-1")
    [firing] = engine.process_many([seed, event]) + engine.drain()
    assert firing.labels == {"rule": "r", "severity": "critical", "instance_id": "i-1",
                             "host": "compute-9", "project_id": "p-9"}
