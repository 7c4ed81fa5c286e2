"""Snapshots kept in state restore to the same event, the time from the timestamp beside them."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from engine.events import Event
from engine.snapshots import restore, snapshot

# event times an operator may meet: 1970 to 2100, to the microsecond
TIMES = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1),
                     timezones=st.just(UTC))


@given(TIMES)
def test_the_time_comes_back_exactly_from_its_timestamp(time: datetime) -> None:
    event = Event(id="e", type="t", time=time)
    back = restore(snapshot(event), time.timestamp())
    assert back.time == time
    assert back.time.tzinfo is UTC


def test_set_fields_and_data_come_back_and_raw_and_facts_do_not() -> None:
    event = Event(id="ev-1", type="compute.instance.create.start",
                  time=datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC),
                  instance_id="inst-1", mac="FA:16:3E:00:00:01", data={"n": 1, "s": ["a"]},
                  raw={"big": "body"})
    snap = snapshot(event)
    assert "time" not in snap and "raw" not in snap
    back = restore(snap, event.time.timestamp())
    assert back.model_dump(exclude={"raw", "facts"}) == event.model_dump(exclude={"raw", "facts"})
    assert back.raw is None


def test_the_last_snapshot_is_reused_only_for_the_same_event() -> None:
    t = datetime(2026, 3, 1, tzinfo=UTC)
    one, two = Event(id="a", type="t", time=t), Event(id="b", type="t", time=t)
    assert snapshot(one) is snapshot(one)
    assert '"b"' in snapshot(two) and '"a"' in snapshot(one)


def test_a_kept_snapshot_holds_the_event_strings_and_restores_what_was_kept() -> None:
    from engine.reads import Keep

    event = Event(id="ev-9", type="compute.instance.create.start",
                  time=datetime(2026, 3, 1, tzinfo=UTC), instance_id="inst-9", host="cmp1",
                  data={"n": 1, "s": ["a"], "other": 2})
    keep = Keep(envelope=("id", "type", "instance_id", "project_id"), data=("n", "s"))
    snap = snapshot(event, keep)
    assert isinstance(snap, tuple)
    assert snap[1] is event.id  # the event's own string: a dedup mark holds it too
    back = restore(snap, event.time.timestamp())
    assert (back.id, back.type, back.instance_id, back.host, back.project_id) == (
        "ev-9", "compute.instance.create.start", "inst-9", None, None)
    assert back.data == {"n": 1, "s": ["a"]} and back.time == event.time
    # a store that serializes state (Redis: JSON) hands back lists: the same event
    import orjson
    assert restore(orjson.loads(orjson.dumps(snap)), event.time.timestamp()) == back
    bare = snapshot(Event(id="e", type="t", time=event.time, data={"other": 1}), keep)
    assert len(bare) == 5 and restore(bare, 0.0).data == {}  # no kept data: no data slot
