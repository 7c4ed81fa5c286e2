"""The watermark across sources: a source with a backlog holds the clock.

An expectation opened by one source must not time out because another
source's events (or the wall clock) moved event time on while the first one
still had the matching event in its backlog.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from dreamcatcher.intake import Intake
from engine.engine import Engine
from engine.events import Event
from engine.loader import load_rules
from tests.paths import REPO

RULE = REPO / "tests" / "operator_rules" / "expect-volume.yaml"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def volume(kind: str, volume_id: str, at: float) -> Event:
    return Event(id=f"{kind}-{volume_id}", type=f"volume.create.{kind}",
                 time=T0 + timedelta(seconds=at), volume_id=volume_id)


def other(at: float) -> Event:
    return Event(id=f"sw-{at}", type="switch.port.up", time=T0 + timedelta(seconds=at))


def engine() -> Engine:
    return Engine(load_rules([RULE]), lateness=5.0)


def test_without_a_hold_a_later_source_fires_the_absence_falsely() -> None:
    """The failure the hold exists for: the end event arrives after another source moved on."""
    e = engine()
    assert e.process(volume("start", "v1", 0)) == []
    fired = e.process(other(3600))  # another source, an hour ahead
    assert [f.rule for f in fired] == ["expect-volume"]


def test_a_busy_source_holds_the_watermark_until_it_has_caught_up() -> None:
    intake = Intake()
    bus_backlog = [True]
    bus = intake.register("amqp", "amqp", lambda: not bus_backlog[0])
    intake.register("syslog", "syslog", lambda: True)
    e = engine()

    def feed(source_events: list[Event], state: object) -> list[object]:
        e.hold = intake.hold(e.lateness)
        fired = e.process_many(source_events)
        if state is bus:
            intake.done(_item(bus, source_events), max(x.time.timestamp() for x in source_events))
        return list(fired)

    assert feed([volume("start", "v1", 0)], bus) == []
    # the syslog source is live and an hour ahead: the bus's backlog holds the clock
    assert feed([other(3600)], None) == []
    assert e.watermark == (T0.timestamp() - 5.0)
    # the end event comes out of the backlog: the expectation is met, nothing fires
    assert feed([volume("end", "v1", 200)], bus) == []
    bus_backlog[0] = False
    assert e.set_hold(intake.hold(e.lateness)) == []
    assert intake.hold(e.lateness) == math.inf
    # and an expectation that really is unmet fires once the clock may move
    assert feed([volume("start", "v2", 3601)], bus) == []
    fired = e.advance(T0.timestamp() + 3601 + 400)
    assert [f.event_ids for f in fired] == [["start-v2"]]


def test_a_raised_hold_fires_what_became_due() -> None:
    e = engine()
    e.hold = T0.timestamp()
    e.process(volume("start", "v1", 0))
    assert e.process(other(3600)) == []  # held
    fired = e.set_hold(math.inf)
    assert [f.rule for f in fired] == ["expect-volume"]


def _item(source: object, events: list[Event]) -> object:
    from dreamcatcher.intake import Item, SourceState

    assert isinstance(source, SourceState)
    source.queued += 1
    return Item("events", source, events)


def test_a_failed_batch_is_not_acknowledged() -> None:
    """The engine could not store a batch: the source's barrier raises (so the consumer
    drops its connection and the broker redelivers), once; the next batch is fine."""
    import pytest

    from dreamcatcher.intake import BatchFailed

    intake = Intake()
    bus = intake.register("amqp", "amqp")
    intake.put(bus, [other(1)])
    item = intake.get(timeout=1.0)
    assert item is not None
    intake.failed(item)
    with pytest.raises(BatchFailed):
        intake.barrier(bus, timeout=1.0)
    intake.put(bus, [other(2)])
    done = intake.get(timeout=1.0)
    assert done is not None
    intake.done(done, other(2).time.timestamp())
    intake.barrier(bus, timeout=1.0)  # opens, no error
    assert bus.processed_time == other(2).time.timestamp()
