"""What rules read (``engine.reads.fields_read``), and that mapping only that loses no alert."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from adapters.deadletter import DeadLetters
from adapters.notifications import decode_body, normalize
from adapters.notifications.files import recorded_body
from dreamcatcher.inputs import events_from_path
from engine.engine import Engine
from engine.events import Event
from engine.loader import load_rules
from engine.reads import fields_read, kept_fields

ROOT = Path(__file__).resolve().parents[2]

RULE = """
rule: readset-probe
summary: probe
severity: warning
when:
  count:
    event: nova.api.request
    where:
      data.method: POST
      any: [{action: servers.action}, {data.length: {gte: 5}}]
    at_least: 2
    within: 30m
    by: [instance_id]
alert:
  title: >-
    {{ event.user_id }} {{ first.project_id }} {{ events[0].remote_addr }}
    {{ event.data.status }}
  text: "{% for e in events %}{{ e.host }}{% endfor %} {{ events | length }} {{ count }}"
  labels: {x: "{{ event['duration'] }}"}
  group_by: [event.request_id]
"""


def _rule(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "probe.yaml"
    path.write_text(text)
    return path


def test_every_kind_of_read_is_found(tmp_path: Path) -> None:
    found = fields_read(load_rules([_rule(tmp_path, RULE)]))
    assert found == {"method", "action", "length", "instance_id", "user_id", "project_id",
                     "remote_addr", "status", "host", "duration", "request_id"}


@pytest.mark.parametrize("template", ["{{ event }}", "{{ events | tojson }}",
                                      "{% for e in events %}{{ e }}{% endfor %}",
                                      "{{ event[event.method] }}",
                                      "{{ event.get('duration') }}", "{{ event.keys() | list }}"])
def test_a_read_that_cannot_be_told_means_everything(tmp_path: Path, template: str) -> None:
    assert fields_read(load_rules([_rule(tmp_path, _labelled(template))])) is None


def _labelled(template: str) -> str:
    """The probe rule with ``template`` as its label."""
    text = RULE.replace("labels: {x: \"{{ event['duration'] }}\"}",
                        "labels: {x: '" + template.replace("'", "''") + "'}")
    assert template.replace("'", "''") in text
    return text


@pytest.mark.parametrize("template", ["{% for k, v in event.data.items() %}{{ v }}{% endfor %}",
                                      "{{ first.data | tojson }}"])
def test_a_read_of_all_data_is_data(tmp_path: Path, template: str) -> None:
    found = fields_read(load_rules([_rule(tmp_path, _labelled(template))]))
    assert found is not None and "data" in found
    assert "items" not in found


def _demo_events(wanted: frozenset[str] | None) -> list[Event]:
    """The bad-day demo: its notifications mapped with ``wanted``, the rest as replay reads it."""
    events = []
    day = ROOT / "demo" / "bad-day"
    for line in (day / "notifications.jsonl").read_bytes().splitlines():
        record = orjson.loads(line)
        body = recorded_body(record)
        event = normalize(decode_body(body if body is not None else record), wanted=wanted)
        if event is not None:
            events.append(event)
    dead = DeadLetters(None)
    for path in sorted(day.iterdir()):  # the log files and host facts, as replay reads them
        if path.name != "notifications.jsonl":
            events.extend(events_from_path(path, dead))
    assert not dead.counts
    return sorted(events, key=lambda e: e.time)


def test_mapping_only_what_the_rules_read_changes_no_alert() -> None:
    rules = load_rules([ROOT / "rules"])
    wanted = fields_read(rules)
    assert wanted is not None

    def alerts(events: list[Event]) -> list[dict[str, object]]:
        engine = Engine(rules)
        firings = engine.process_many(events) + engine.drain()
        return [f.summary_json() for f in firings]

    full, pruned = _demo_events(None), _demo_events(wanted)
    assert [e.id for e in full] == [e.id for e in pruned]
    assert any(e.model_dump() != p.model_dump() for e, p in zip(full, pruned, strict=True))
    expected = alerts(full)
    assert len(expected) >= 5
    assert alerts(pruned) == expected


SEQUENCE = """
rule: readset-steps
severity: warning
when:
  sequence:
    steps:
      - {event: a.start, where: {data.phase: begin}, by: [data.vm]}
      - {event: a.end}
    within: 5m
    by: [instance_id]
alert: {title: "{{ first.host }}", group_by: [event.data.zone]}
resolve: {event: a.fixed, where: {data.fixed_by: {ne: null}}}
"""
BASELINE = """
rule: readset-baseline
severity: warning
when:
  baseline: {event: api.request, where: {data.code: 200}, value: data.elapsed,
             by: [data.route], factor: 3, min: 5}
alert: {title: "slow"}
"""


@pytest.mark.parametrize(("text", "expected"), [
    (SEQUENCE, {"phase", "vm", "instance_id", "host", "zone", "fixed_by"}),
    (BASELINE, {"code", "elapsed", "route"}),
])
def test_every_operator_s_paths_are_read(tmp_path: Path, text: str, expected: set[str]) -> None:
    assert fields_read(load_rules([_rule(tmp_path, text)])) == expected


def test_a_kept_event_leaves_the_conditions_out(tmp_path: Path) -> None:
    """``kept_fields`` walks the same paths but the ``where``s: they ran on the live event."""
    (rule,) = load_rules([_rule(tmp_path, SEQUENCE)])
    keep = kept_fields(rule)
    assert keep is not None
    assert set(keep.data or ()) == {"vm", "host", "zone"}  # not phase, not fixed_by
    assert set(keep.envelope) == {"id", "type", "host", "instance_id"}
