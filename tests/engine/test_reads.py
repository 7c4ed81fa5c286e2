"""Kept events hold only what the rule reads (engine.reads), and no firing changes for it.

Each template is rendered twice from the same events: by an engine whose
operators keep whole events (``keep = None``, the plain way) and by one that
keeps the derived fields. Title, text, labels, group key and action arguments
must come out identical, whatever values the events carry.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.engine import Engine
from engine.events import Event
from engine.firing import Firing
from engine.reads import kept_fields
from engine.schema import Rule
from engine.snapshots import restore, snapshot

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

#: templates that read named fields only: these must be projected
NAMED = [
    "{{ event.a }} {{ first.b }}",
    "{{ event.host }}",  # envelope, or data.host when the envelope has none
    "{{ event.data.c }} {{ event.data['x'] }}",
    "{{ event.a if event.b else event.c }}",
    "{% if first.x %}{{ first.y }}{% else %}{{ event.z }}{% endif %}",
    "{% for e in events %}{{ e.a }}-{{ e.data.b }}{{ ', ' if not loop.last }}{% endfor %}",
    "{{ events[0].x }} {{ events[-1].y }} {{ events | length }}",
    "{{ event.time | isotime }} {{ event.id }} {{ event.request_id or event.a }}",
    "{{ (event.n or 1) | int + 4 }} {{ event.user_id | default('none') }}",
    "{{ events | map(attribute='x') | join(',') }}",
    "{{ events | map(attribute='host') | select | unique | join(',') }}",
    "{{ events | map(attribute='data.c') | list | length }}",
]
#: templates that may read anything: these must keep whole events
WHOLE = [
    "{{ event }}",
    "{{ event | dictsort | map('first') | join(',') }}",
    "{{ event.get('a') }}",
    "{% set e = first %}{{ e.z }}",
    "{{ event[event.a] }}",
    "{{ events | map('string') | join(',') }}",
    "{% for e in events | reverse %}{{ e.a }}{% endfor %}",
    "{{ event.keys() | list }}",
]
#: templates that read all of ``data`` (but only the envelope fields they name)
WHOLE_DATA = [
    "{% for k, v in event.data.items() %}{{ k }}={{ v }}{% endfor %}",
    "{% for k in first.data %}{{ k }}{% endfor %} {{ event.data | length }}",
]
KEYS = ["a", "b", "c", "x", "y", "z", "n", "host", "user_id", "other"]
VALUE = st.one_of(st.none(), st.sampled_from(["", "v", "w", "a", "b"]), st.integers(0, 3))


def _rule(title: str, **extra: Any) -> Rule:
    return Rule.model_validate({
        "rule": "r", "severity": "warning",
        "when": {"count": {"event": "t", "at_least": 3, "within": "1h", "by": ["project_id"]}},
        "alert": {"title": title, "text": f"text {title}", "labels": {"l": title},
                  **extra.pop("alert", {})},
        "actions": [{"hook": "noop", "with": {"arg": title, "nested": [title]}}],
        **extra,
    })


def _firings(rule: Rule, events: list[Event], *, whole: bool) -> list[Firing]:
    engine = Engine([rule], lateness=0.0)
    if whole:
        for compiled in engine.rules.values():
            compiled.operator.keep = None
    return engine.process_many(events) + engine.drain()


def _view(firing: Firing) -> tuple[Any, ...]:
    return (firing.title, firing.text, firing.labels, firing.group_key,
            [a.args for a in firing.actions], firing.key, firing.event_ids, firing.id)


EVENTS = st.lists(
    st.fixed_dictionaries({
        "host": VALUE.map(lambda v: None if v is None else str(v)),
        "request_id": st.sampled_from([None, "req-1"]),
        "data": st.dictionaries(st.sampled_from(KEYS), VALUE, max_size=6),
    }),
    min_size=3, max_size=6,
).map(lambda specs: [Event(id=f"e{i}", type="t", time=T0 + timedelta(seconds=i),
                           project_id="p", **spec) for i, spec in enumerate(specs)])


@pytest.mark.parametrize("title", NAMED + WHOLE + WHOLE_DATA)
@settings(max_examples=15, deadline=None)
@given(events=EVENTS)
def test_the_kept_fields_render_what_the_whole_events_render(title: str,
                                                             events: list[Event]) -> None:
    rule = _rule(title, alert={"group_by": ["event.other", "first.data.y"]})
    projected = [_view(f) for f in _firings(rule, events, whole=False)]
    whole = [_view(f) for f in _firings(rule, events, whole=True)]
    assert projected == whole
    assert len(whole) >= 1


@pytest.mark.parametrize("title", NAMED)
def test_named_reads_are_projected(title: str) -> None:
    keep = kept_fields(_rule(title))
    assert keep is not None
    assert "other" not in (keep.data or ())  # a key no template names is dropped


@pytest.mark.parametrize("title", WHOLE)
def test_whole_uses_keep_everything(title: str) -> None:
    assert kept_fields(_rule(title)) is None


@pytest.mark.parametrize("title", WHOLE_DATA)
def test_data_as_a_whole_keeps_all_of_data(title: str) -> None:
    keep = kept_fields(_rule(title))
    assert keep is not None
    assert keep.data is None


def test_paths_keys_and_joins_are_kept() -> None:
    rule = Rule.model_validate({
        "rule": "r", "severity": "warning",
        "when": {"expect": {"first": {"event": "a", "by": ["data.vm"]}, "then": {"event": "b"},
                            "within": "1m", "by": ["instance_id"]}},
        "join": {"port": {"kind": "port", "by": {"mac": "first.mac"}}},
        "alert": {"title": "x", "group_by": ["event.data.zone", "events.0.host"]},
    })
    keep = kept_fields(rule)
    assert keep is not None
    assert set(keep.envelope) == {"id", "type", "instance_id", "mac", "host"}
    assert set(keep.data or ()) == {"vm", "zone", "mac", "host"}


def test_a_projected_snapshot_restores_the_kept_fields() -> None:
    keep = kept_fields(_rule("{{ event.a }} {{ event.host }}"))
    event = Event(id="e", type="t", time=T0, host="h", project_id="p",
                  data={"a": 1, "b": 2, "host": "dh"})
    back = restore(snapshot(event, keep), T0.timestamp())
    assert back.model_dump(exclude={"facts"}) == Event(
        id="e", type="t", time=T0, host="h", project_id="p",  # the count key
        data={"a": 1, "host": "dh"}).model_dump(
        exclude={"facts"})
    assert len(snapshot(event, keep)) < len(snapshot(event))


def test_the_shipped_rules_fire_alike_with_whole_events_and_facts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every case of every shipped rule test, projected and not: the same alerts."""
    from dreamcatcher.ruletest import find_test_files, load_test_file, run_case
    from engine.inventory import Inventory
    from tests.paths import REPO

    def alerts() -> list[tuple[Any, ...]]:
        out = []
        for path in find_test_files([REPO / "rules"]):
            spec = load_test_file(path)
            for case in spec.cases:
                out.extend(_view(f) for f in run_case(path, spec, case).firings)
        return out

    projected = alerts()
    monkeypatch.setattr("engine.compiler.kept_fields", lambda _rule: None)
    monkeypatch.setattr(Inventory, "keep_only", lambda _self, _fields: None)
    assert alerts() == projected
    assert len(projected) >= 9
