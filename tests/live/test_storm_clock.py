"""The live worker closes storm periods on the engine thread, after the firings they cover.

The clock that closes a storm period (``Outputs.tick``) used to be called from the
main thread with the engine's newest event time, while the engine thread was still
handing that batch's firings on. A batch whose last event was minutes later could
then close an empty period first; its firings were counted in the later period, and
their storm notice was never sent (CI saw 5 alerts and no storm notice). Here the real
worker thread, engine, router and throttle take such a batch.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.alerting import Router
from adapters.alerting.storm import StormConfig, StormThrottle
from dreamcatcher.intake import Intake
from dreamcatcher.outbox import Outbox
from dreamcatcher.outputs import Outputs
from dreamcatcher.worker import Worker
from engine.engine import Engine
from engine.events import Event
from engine.firing import Firing
from engine.loader import load_rules
from engine.memstore import MemoryStore
from tests.alerting.test_storm import Collect
from tests.live.proc import ACK_RULE, wait_for

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _batch(acks: int) -> list[Event]:
    """``acks`` DHCPACKs a second apart, then a quiet event 200 s on (fires nothing)."""
    events = [Event(id=f"ack-{n}", type="dnsmasq.dhcp.ack", time=T0 + timedelta(seconds=n),
                    mac=f"fa:16:3e:00:00:{n:02x}", host="net-1") for n in range(acks)]
    return [*events, Event(id="quiet", type="dnsmasq.dhcp.request", host="net-1",
                           time=T0 + timedelta(seconds=200))]


def _worker(tmp_path: Path, outputs: Outputs) -> tuple[Worker, Intake]:
    (tmp_path / "ack.yaml").write_text(ACK_RULE)
    intake = Intake()
    engine = Engine(load_rules([tmp_path / "ack.yaml"]), MemoryStore(), lateness=0.0)
    return Worker(engine, intake, [], outputs, Outbox(None), clock="event", tick=0.05), intake


def test_each_tick_comes_on_the_engine_thread_after_the_firings_of_its_time(
        tmp_path: Path) -> None:
    seen: list[tuple[str, Any]] = []
    threads: set[str] = set()

    def deliver(firing: Firing, done: Any) -> None:
        seen.append(("firing", firing.time))
        done()

    def tick(now: datetime) -> None:
        threads.add(threading.current_thread().name)
        seen.append(("tick", now))

    outputs = Outputs(lambda firing: None, lambda: None, deliver=deliver, tick=tick)
    worker, intake = _worker(tmp_path, outputs)
    worker.start()
    try:
        intake.put(intake.register("bus", "amqp"), _batch(12))
        wait_for(lambda: any(k == "tick" for k, _ in seen), 10, "a tick")
        time.sleep(0.2)
    finally:
        worker.stop()
    first_tick = next(i for i, (kind, _) in enumerate(seen) if kind == "tick")
    assert [kind for kind, _ in seen[:first_tick]] == ["firing"] * 12
    assert all(now == T0 + timedelta(seconds=200) for kind, now in seen if kind == "tick")
    assert threads == {worker._engine_thread.name}


def test_a_batch_reaching_a_later_period_still_sends_its_storm_notice(tmp_path: Path) -> None:
    sink = Collect()
    router = Router([sink], storm=StormThrottle(StormConfig(per_rule=5, period=60.0)),
                    dead_letter_path=tmp_path / "dead.jsonl")
    outputs = Outputs(router.submit, lambda: router.close(5), deliver=router.submit,
                      tick=router.tick)
    worker, intake = _worker(tmp_path, outputs)
    worker.start()
    try:
        intake.put(intake.register("bus", "amqp"), _batch(40))
        wait_for(lambda: len(sink.got) == 6, 10, "5 alerts and the storm notice")
    finally:
        worker.stop()
    storm = sink.got[-1]
    assert storm.firing.labels["storm"] == "true" and storm.folded == 35
