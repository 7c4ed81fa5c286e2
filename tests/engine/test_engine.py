"""Engine behaviour that rule-test files cannot express directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.engine import Engine
from engine.events import Event
from engine.schema import Rule

T0 = datetime(2026, 1, 1, tzinfo=UTC)
EXPECT = Rule.model_validate({
    "rule": "x", "severity": "warning",
    "when": {"expect": {"first": {"event": "a.start"}, "then": {"event": "a.end"},
                        "within": "1m", "by": ["request_id"]}},
    "alert": {"title": "{{ event.request_id }}"},
})


def ev(i: int, kind: str, key: str, seconds: float) -> Event:
    return Event(id=f"e{i}", type=f"a.{kind}", time=T0 + timedelta(seconds=seconds),
                 request_id=key)


def test_zero_lateness_absence_still_fires_at_deadline() -> None:
    engine = Engine([EXPECT], lateness=0.0)
    assert engine.process(ev(1, "start", "r1", 0)) == []
    [firing] = engine.advance(T0 + timedelta(minutes=5))
    assert firing.time == T0 + timedelta(minutes=1)
    assert firing.event_ids == ["e1"]


def test_live_clock_fires_absence_without_any_further_event() -> None:
    engine = Engine([EXPECT], lateness=5.0)
    engine.process(ev(1, "start", "r1", 0))
    assert engine.advance(T0 + timedelta(seconds=64)) == []  # watermark 59 s: not yet
    assert [f.title for f in engine.advance(T0 + timedelta(seconds=65))] == ["r1"]


def test_dedup_memory_is_exact_and_bounded_by_ttl() -> None:
    engine = Engine([EXPECT], lateness=0.0, dedup_ttl=60.0)
    engine.process(ev(1, "start", "r1", 0))
    engine.process(ev(1, "start", "r1", 1))  # redelivery: same id
    assert engine.stats["duplicates"] == 1
    engine.process(ev(2, "end", "r1", 2))
    engine.advance(T0 + timedelta(hours=1))
    # every dedup mark and the consumed expectation are gone after their TTL
    assert engine.store.size() == {"keys": 0, "sets": 0, "timers": 0}


def test_an_event_meets_only_rules_indexed_under_its_type() -> None:
    other = Rule.model_validate({
        "rule": "y", "severity": "info", "when": {"event": "compute.instance.*"},
        "alert": {"title": "t"},
    })
    engine = Engine([EXPECT, other])
    assert [c.id for c, _ in engine.routes("compute.instance.create.end")] == ["y"]
    assert [m.role for _, m in engine.routes("a.start")] == ["first"]
    assert engine.routes("volume.create.end") == []


def test_replayed_stream_gives_identical_firings() -> None:
    events = [ev(i, "start", f"r{i}", i) for i in range(10)] + [ev(99, "end", "r3", 20)]

    def run() -> list[tuple[str, str, datetime]]:
        engine = Engine([EXPECT])
        out = [f for e in events for f in engine.process(e)] + engine.drain()
        return [(f.id, f.title, f.time) for f in out]

    first = run()
    assert len(first) == 9
    assert first == run()


def test_thens_without_a_first_are_held_only_while_a_late_first_could_come() -> None:
    engine = Engine([EXPECT], lateness=5.0)
    for i in range(50):  # an end every 30 s for a key that never starts
        engine.process(ev(i, "end", "r1", 30.0 * i))
    [(held, *open_firsts)] = [engine.store.get("expect:x:r1")]
    assert list(held) == [30.0 * 49 + T0.timestamp()] and open_firsts == []
    # a start 4 s before the last end is within the lateness: it matches the held end
    engine.process(ev(99, "start", "r1", 30.0 * 49 - 4))
    assert engine.drain() == []
    assert engine.store.get("expect:x:r1") is None


def test_an_event_no_rule_sees_needs_no_dedup_mark_and_its_redelivery_is_harmless() -> None:
    engine = Engine([EXPECT], lateness=0.0)
    other = Event(id="o1", type="b.other", time=T0, request_id="r1")
    assert engine.process(other) == [] and engine.process(other) == []
    assert engine.store.size()["keys"] == 0
    engine.process(ev(1, "start", "r1", 1))
    engine.process(ev(1, "start", "r1", 2))  # an event a rule sees is marked: its copy is not
    assert engine.stats["duplicates"] == 1


def test_an_event_no_condition_takes_needs_no_mark_but_one_that_counts_does() -> None:
    burst = Rule.model_validate({
        "rule": "burst", "severity": "warning",
        "when": {"count": {"event": "a.api", "where": {"data.status": {"gte": 500}},
                           "at_least": 2, "within": "1m", "by": ["request_id"]}},
        "alert": {"title": "{{ event.request_id }}"},
    })
    engine = Engine([burst], lateness=0.0)

    def api(i: int, status: int) -> Event:
        return Event(id=f"a{i}", type="a.api", time=T0 + timedelta(seconds=i),
                     request_id="r", data={"status": status})

    ok, failed = api(1, 200), api(2, 503)
    assert engine.process(ok) == [] and engine.process(ok) == []
    assert engine.stats["duplicates"] == 0 and engine.store.size()["keys"] == 0
    assert engine.process(failed) == [] and engine.process(failed) == []
    assert engine.stats["duplicates"] == 1  # its copy is refused (counted, it would fire)
    assert [f.title for f in engine.process(api(3, 500))] == ["r"]


def test_a_key_of_text_and_a_number_correlates_like_any_other() -> None:
    burst = Rule.model_validate({
        "rule": "by-status", "severity": "warning",
        "when": {"count": {"event": "a.api", "at_least": 2, "within": "1m",
                           "by": ["data.status", "request_id"]}},
        "alert": {"title": "{{ event.data.status }} {{ event.request_id }}"},
    })
    engine = Engine([burst], lateness=0.0)

    def api(i: int, status: int, key: str) -> Event:
        return Event(id=f"a{i}", type="a.api", time=T0 + timedelta(seconds=i),
                     request_id=key, data={"status": status})

    assert engine.process_many([api(1, 503, "r"), api(2, 500, "r"), api(3, 503, "s")]) == []
    assert [f.title for f in engine.process(api(4, 503, "r"))] == ["503 r"]
    assert engine.store.get("count:by-status:503\x1fs") is not None
