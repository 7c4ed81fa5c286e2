"""What rules read (``engine.readset.fields_read``), and that mapping only that loses no alert."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from adapters.notifications import decode_body, normalize
from adapters.notifications.files import recorded_body
from dreamcatcher.inputs import event_from_json
from engine.engine import Engine
from engine.events import Event
from engine.loader import load_rules
from engine.readset import fields_read

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
                                      "{{ event[event.method] }}"])
def test_a_read_that_cannot_be_told_means_everything(tmp_path: Path, template: str) -> None:
    text = RULE.replace('"{{ event[\'duration\'] }}"', repr(template).replace("'", '"'))
    assert template in text
    assert fields_read(load_rules([_rule(tmp_path, text)])) is None


def _demo_events(wanted: frozenset[str] | None) -> list[Event]:
    """The bad-day demo: its notifications mapped with ``wanted``, its log events as stored."""
    events = []
    day = ROOT / "demo" / "bad-day"
    for line in (day / "notifications.jsonl").read_bytes().splitlines():
        record = orjson.loads(line)
        body = recorded_body(record)
        event = normalize(decode_body(body if body is not None else record), wanted=wanted)
        if event is not None:
            events.append(event)
    for line in (day / "logs.events.jsonl").read_bytes().splitlines():
        events.append(event_from_json(orjson.loads(line)))
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
