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
from engine.reads import fields_read

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
