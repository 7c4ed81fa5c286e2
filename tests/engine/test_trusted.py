"""``trusted_event``/``trusted_fact`` build what pydantic validation builds.

The speed trick (no validation for values our mappings and parsers typed) is compared
with ``Event(**values)`` on the very values the bus and log paths hand it, for every
corpus notification and every parsed corpus log line, and on generated values the
validators change (naive and non-UTC times, upper-case MACs, None and absent fields).
"""

from __future__ import annotations

import importlib
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from engine.events import (
    EVENT_FIELDS,
    Event,
    FactKind,
    FactUpdate,
    trusted_event,
    trusted_fact,
)
from tests.paths import corpus_notifications

FALLBACK = datetime(2020, 1, 1, tzinfo=UTC)


def assert_same(fast: Any, slow: Any) -> None:
    """Indistinguishable models: values, their types, dumps, field order, fields-set."""
    assert type(fast) is type(slow)
    assert fast == slow
    assert list(fast.__dict__) == list(slow.__dict__)
    assert fast.model_dump() == slow.model_dump()
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.__pydantic_extra__ == slow.__pydantic_extra__
    assert fast.__pydantic_private__ == slow.__pydantic_private__
    for name in type(slow).model_fields:
        assert type(getattr(fast, name)) is type(getattr(slow, name)), name
    if isinstance(slow, Event):
        assert fast.time.tzinfo is slow.time.tzinfo is UTC
        for mine, theirs in zip(fast.facts, slow.facts, strict=True):
            assert_same(mine, theirs)


class Spy:
    """Stands in for a module's ``trusted_event``/``trusted_fact``, keeping each input
    (as given: the call may change and keep the dict) beside the model it built."""

    def __init__(self, module: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: list[tuple[dict[str, Any], Event]] = []
        self.facts: list[tuple[dict[str, Any], FactUpdate]] = []
        mod = importlib.import_module(module)
        monkeypatch.setattr(mod, "trusted_event", self._event)
        if hasattr(mod, "trusted_fact"):
            monkeypatch.setattr(mod, "trusted_fact", self._fact)

    def _event(self, values: dict[str, Any], complete: bool = False) -> Event:
        inputs = dict(values)
        event = trusted_event(values, complete)
        self.events.append((inputs, event))
        return event

    def _fact(self, kind: str, fact_id: str, fields: dict[str, Any], delete: bool,
              ) -> FactUpdate:
        fact = trusted_fact(kind, fact_id, fields, delete)
        self.facts.append(({"kind": kind, "id": fact_id, "fields": dict(fields),
                            "delete": delete}, fact))
        return fact

    def check(self) -> None:
        for inputs, fact in self.facts:
            assert_same(fact, FactUpdate(**inputs))
        for inputs, event in self.events:
            assert_same(event, Event(**inputs))


def test_every_corpus_notification(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.notifications import normalize

    spy = Spy("adapters.notifications.normalize", monkeypatch)
    built = 0
    for where, message in corpus_notifications(corpus):
        before = len(spy.events)
        event = normalize(message, fallback_time=FALLBACK)
        assert (event is None) == (len(spy.events) == before), where
        built += event is not None
    # the plans' generated code calls trusted_fact (bound when generated, not spied on):
    # each fact checked against validation of the very values it holds (handed over)
    facts = [fact for _, event in spy.events for fact in event.facts]
    assert built > 100 and len(spy.events) == built and len(facts) > 100
    assert any(e.mac for _, e in spy.events)
    spy.check()
    for fact in facts:
        assert_same(fact, FactUpdate(kind=fact.kind, id=fact.id, fields=dict(fact.fields),
                                     delete=fact.delete))
    assert any(fact.delete for fact in facts)


def test_every_parsed_corpus_log_line(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.logs import events_from_file

    spy = Spy("adapters.logs.build", monkeypatch)
    files = sorted(p for p in (corpus / "logs").glob("*.log"))
    count = sum(1 for path in files for _ in events_from_file(path, year=2020))
    assert count > 1000 and len(spy.events) == count
    assert {e.origin for _, e in spy.events} == {str(p) for p in files}
    assert any(e.mac for _, e in spy.events) and any(e.image_base_hash for _, e in spy.events)
    spy.check()


@pytest.mark.parametrize("when", [
    datetime(2020, 1, 1, 12),
    datetime(2020, 1, 1, 12, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2020, 1, 1, 12, tzinfo=ZoneInfo("Europe/Berlin")),
])
def test_a_fallback_time_is_made_utc(corpus: Path, when: datetime) -> None:
    """A message without a timestamp takes the caller's time, in UTC as validation gives."""
    from adapters.notifications import normalize

    message = {"event_type": "compute.instance.update", "publisher_id": "compute.h",
               "payload": {"instance_id": "i-1"}}
    event = normalize(message, fallback_time=when)
    assert event is not None and event.time.tzinfo is UTC
    assert event.time == (when.replace(tzinfo=UTC) if when.tzinfo is None else when)


_TEXT = st.text(max_size=8)
_ZONES = st.one_of(
    st.none(), st.just(UTC), st.sampled_from([ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata"),
                                              ZoneInfo("America/St_Johns")]),
    st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59),
                                      max_value=timedelta(hours=23, minutes=59))))
_TIMES = st.builds(lambda t, z: t.replace(tzinfo=z),
                   st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)),
                   _ZONES)
_MACS = st.one_of(st.none(), st.just(""), st.text("0123456789abcdefABCDEF:", max_size=17))
_FACTS = st.lists(st.tuples(st.sampled_from(get_args(FactKind)), _TEXT,
                            st.dictionaries(_TEXT, _TEXT, max_size=2), st.booleans()),
                  max_size=2)
_OPTIONAL = [name for name in EVENT_FIELDS
             if name not in ("id", "type", "time", "mac", "data", "raw", "facts")]


@settings(max_examples=400, deadline=None)
@given(_TEXT, _TEXT, _TIMES, _MACS,
       st.dictionaries(st.sampled_from(_OPTIONAL), st.one_of(st.none(), _TEXT)),
       st.one_of(st.none(), st.dictionaries(_TEXT, st.integers(), max_size=3)),
       st.one_of(st.none(), _TEXT, st.dictionaries(_TEXT, _TEXT, max_size=2)),
       st.one_of(st.none(), _FACTS), st.booleans(), st.booleans(), st.booleans(), st.randoms())
def test_generated_values(event_id: str, type_: str, when: datetime, mac: str | None,
                          optional: dict[str, str | None], data: dict[str, int] | None,
                          raw: Any, facts: list[tuple[Any, str, dict[str, str], bool]] | None,
                          give_mac: bool, complete: bool, shuffle: bool,
                          order: random.Random) -> None:
    values: dict[str, Any] = {"id": event_id, "type": type_, "time": when, **optional}
    if give_mac:
        values["mac"] = mac
    if data is not None:
        values["data"] = data
    if raw is not None:
        values["raw"] = raw
    if facts is not None:
        values["facts"] = [(k, i, f, d) for k, i, f, d in facts]
    if complete:  # every field: the log path's shape, in field order (trusted_event's terms)
        values = {**dict.fromkeys(EVENT_FIELDS), "data": {}, "facts": [], **values}
        values = {name: values[name] for name in EVENT_FIELDS}
    elif shuffle:
        names = list(values)
        order.shuffle(names)
        values = {name: values[name] for name in names}
    fast_facts = [trusted_fact(*f) for f in facts or ()]
    slow_facts = [FactUpdate(kind=k, id=i, fields=f, delete=d) for k, i, f, d in facts or ()]
    for fast, slow in zip(fast_facts, slow_facts, strict=True):
        assert_same(fast, slow)
    slow_values = dict(values)
    if facts is not None:
        values["facts"], slow_values["facts"] = fast_facts, slow_facts
    slow = Event(**slow_values)
    fast = trusted_event(values, complete)
    assert_same(fast, slow)
    assert (fast.__dict__ is values) == complete  # the log path's shape, kept as is


def test_field_order_and_shared_fields_set() -> None:
    """A complete dict (in field order) is kept as the event's own; others are re-laid."""
    values = {name: None for name in EVENT_FIELDS} | {
        "id": "a", "type": "t", "time": FALLBACK, "data": {}, "facts": []}
    event = trusted_event(values, True)
    assert event.__dict__ is values and event.model_fields_set == set(EVENT_FIELDS)
    event.host = "h"  # pydantic adds the name to a fields-set that already holds it
    assert trusted_event(dict(values), True).model_fields_set == set(EVENT_FIELDS)
    shuffled = trusted_event(dict(reversed(values.items())))  # every field, not in order
    assert list(shuffled.__dict__) == list(EVENT_FIELDS) and shuffled.host == "h"
    partial = trusted_event({"time": FALLBACK, "type": "t", "id": "b"})
    assert list(partial.__dict__) == list(EVENT_FIELDS)
    assert partial.model_fields_set == {"id", "type", "time"}
    assert partial.data == {} and partial.facts == [] and partial.data is not event.data


@pytest.mark.parametrize("values, problem", [
    ({"id": "a", "type": "t", "time": FALLBACK, "instance_uuid": "x"}, "instance_uuid"),
    ({"id": "a", "type": "t"}, "time"),
    ({"type": "t", "time": FALLBACK}, "id"),
])
def test_unknown_or_missing_fields_raise_like_validation(values: dict[str, Any],
                                                         problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        Event(**values)
    with pytest.raises(TypeError, match=problem):
        trusted_event(dict(values))
