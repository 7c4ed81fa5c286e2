"""One event the engine fails on is a dead letter; the rest of its batch goes on.

Before, the whole batch failed, its source's barrier raised, and the same input
came again and failed again: a poison event looped its source for ever. Here a
store that fails on one key (standing in for any engine error on one event)
sits under the real worker thread and engine.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dreamcatcher.intake import Intake
from dreamcatcher.outbox import Outbox
from dreamcatcher.outputs import Outputs
from dreamcatcher.worker import Worker
from engine.engine import Engine, EventFailed
from engine.events import Event
from engine.loader import load_rules
from engine.memstore import MemoryStore
from engine.store import R, Space, Updater
from tests.live.test_future_stamps import RULE, WITHIN, _Fired, _wait


class _FailsOnPoison(MemoryStore):
    def space(self, prefix: str, ttl: float) -> Space:
        # the plain space: its updates come through ``update`` below, not the memory
        # store's own key spaces
        return Space(self, prefix, ttl)

    def update(self, key: str, fn: Updater[R], ttl: float | None, now: float,
               arg: Any = None) -> R:
        if "poison" in key:
            raise ValueError(f"cannot update {key}")
        return super().update(key, fn, ttl, now, arg)


def _batch(at: datetime) -> list[Event]:
    ids = ["ok-1", "ok-2", "poison", "ok-3", "ok-4"]
    return [Event(id=i, type="volume.create.start", time=at, volume_id=i) for i in ids]


def test_the_engine_names_the_event_it_failed_on_and_keeps_the_firings_before(
        tmp_path: Path) -> None:
    (tmp_path / "rule.yaml").write_text(RULE)
    engine = Engine(load_rules([tmp_path / "rule.yaml"]), _FailsOnPoison(), lateness=0.0)
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    engine.process_many(_batch(at)[:2])
    later = Event(id="later", type="volume.create.end", volume_id="x",
                  time=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    poison = Event(id="p2", type="volume.create.start", volume_id="poison", time=later.time)
    try:
        engine.process_many([later, poison])
    except EventFailed as failed:
        assert failed.event is poison
        assert [f.title for f in failed.firings] == ["volume ok-1 was never created",
                                                     "volume ok-2 was never created"]
    else:
        raise AssertionError("no EventFailed")


def test_a_poison_event_is_dead_lettered_and_its_batch_goes_on(tmp_path: Path) -> None:
    (tmp_path / "rule.yaml").write_text(RULE)
    intake = Intake()
    source = intake.register("bus", "amqp")
    fired = _Fired()
    dead: list[tuple[str, Any, str]] = []
    outputs = Outputs(lambda firing: None, lambda: None, deliver=fired.deliver)
    engine = Engine(load_rules([tmp_path / "rule.yaml"]), _FailsOnPoison(), lateness=1.0)
    worker = Worker(engine, intake, [], outputs, Outbox(None), clock="wall", tick=0.1,
                    dead_letter=lambda *letter: dead.append(letter))
    worker.start()
    try:
        intake.put(source, _batch(datetime.fromtimestamp(time.time(), UTC)))
        _wait(lambda: fired.count() == 4, WITHIN + 5, "the four absences")
        time.sleep(0.5)
        titles = sorted(f.title for _, f in fired.seen)
        assert titles == [f"volume ok-{i} was never created" for i in range(1, 5)]
        assert len(dead) == 1
        origin, raw, reason = dead[0]
        assert origin == "engine" and raw["id"] == "poison"
        assert "cannot update" in reason
        assert worker.stats.poison_events == 1
        assert source.failed == 0  # acknowledged: it does not come again
    finally:
        worker.stop()
        worker.shutdown()


