"""A wrong clock cannot move event time: events stamped too far ahead (dreamcatcher.clockguard).

The probe: one notification stamped an hour ahead fired 200 of 200 open
expectations at once, falsely, and then none of 200 new absences fired on time
(the watermark stayed an hour ahead). Here the real worker thread runs on the
wall clock; its events come through the intake as a source hands them on.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.deadletter import DeadLetters
from dreamcatcher.clockguard import STAMPED_TIME, FutureGuard
from dreamcatcher.intake import Intake, SourceState
from dreamcatcher.metrics import Metrics
from dreamcatcher.outbox import Outbox
from dreamcatcher.outputs import Outputs
from dreamcatcher.sourceconfig import ClockConfig
from dreamcatcher.worker import Worker
from engine.engine import Engine
from engine.events import Event
from engine.firing import Firing
from engine.loader import load_rules
from engine.skew import too_far_ahead

WITHIN = 3.0
RULE = f"""\
rule: volume-never-created
summary: a volume create started and never ended
severity: warning
when:
  expect:
    first: {{event: volume.create.start}}
    then: {{event: volume.create.end}}
    within: {WITHIN:g}s
    by: [volume_id]
alert:
  title: "volume {{{{ event.volume_id }}}} was never created"
"""


def _starts(prefix: str, n: int, at: datetime) -> list[Event]:
    return [Event(id=f"{prefix}-{i}", type="volume.create.start", time=at,
                  volume_id=f"{prefix}-{i}") for i in range(n)]


class _Fired:
    """The worker's delivery: each firing with the wall time it was handed on."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[tuple[float, Firing]] = []

    def deliver(self, firing: Firing, done: Any) -> None:
        with self.lock:
            self.seen.append((time.time(), firing))
        done()

    def of(self, prefix: str) -> list[float]:
        with self.lock:
            return [at for at, f in self.seen if f.title.startswith(f"volume {prefix}-")]

    def count(self) -> int:
        with self.lock:
            return len(self.seen)


def _worker(tmp_path: Path, guard: FutureGuard | None) -> tuple[Worker, Intake, SourceState,
                                                                _Fired]:
    (tmp_path / "rule.yaml").write_text(RULE)
    intake = Intake()
    intake.guard = guard
    source = intake.register("bus", "amqp")
    fired = _Fired()
    outputs = Outputs(lambda firing: None, lambda: None, deliver=fired.deliver)
    worker = Worker(Engine(load_rules([tmp_path / "rule.yaml"]), lateness=1.0), intake, [],
                    outputs, Outbox(None), clock="wall", tick=0.1)
    worker.start()
    return worker, intake, source, fired


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.02)


def test_an_hour_ahead_stamp_fires_nothing_and_the_next_absences_fire_on_time(
        tmp_path: Path) -> None:
    guard = FutureGuard()  # the defaults: 5 minutes, policy arrival
    worker, intake, bus, fired = _worker(tmp_path, guard)
    try:
        opened = time.time()
        intake.put(bus, _starts("a", 200, datetime.fromtimestamp(opened, UTC)))
        skewed = Event(id="wrong-clock", type="volume.create.start", volume_id="skewed",
                       time=datetime.fromtimestamp(opened, UTC) + timedelta(hours=1))
        intake.put(bus, [skewed])
        time.sleep(1.0)
        assert fired.count() == 0  # before the guard: 200 false absences here
        _wait(lambda: len(fired.of("a")) == 200, WITHIN + 5, "the 200 absences")
        assert min(fired.of("a")) >= opened + WITHIN  # on time, not early
        assert max(fired.of("a")) <= opened + WITHIN + 2.0
        again = time.time()
        intake.put(bus, _starts("b", 200, datetime.fromtimestamp(again, UTC)))
        _wait(lambda: len(fired.of("b")) == 200, WITHIN + 5, "the next 200 absences")
        assert again + WITHIN <= min(fired.of("b")) <= max(fired.of("b")) <= again + WITHIN + 2
    finally:
        worker.stop()
        worker.shutdown(10)
    assert guard.snapshot() == {("bus", "arrival"): 1}
    # the skewed event was processed at its arrival time: its own absence fired with them
    [skewed_at] = [at for at, f in fired.seen if f.title == "volume skewed was never created"]
    assert skewed_at <= opened + WITHIN + 2.0


def test_policy_deadletter_refuses_it_with_the_reason() -> None:
    dead = DeadLetters(None)
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    guard = FutureGuard(max_future=300, policy="deadletter",
                        dead_letters=dead, wall_time=now.timestamp)
    source = Intake().register("bus", "amqp")
    events = [Event(id="ok", type="t", time=now + timedelta(seconds=299)),
              Event(id="far", type="t", time=now + timedelta(hours=1), raw={"body": 1})]
    assert [e.id for e in guard(source, events)] == ["ok"]
    assert [(r["origin"], r["reason"], r["raw"]) for r in dead.kept] == [
        ("bus", "t far: stamped 3600s ahead of the worker's clock (bound 300s)", {"body": 1})]
    assert guard.snapshot() == {("bus", "dead_lettered"): 1}


def test_policy_arrival_keeps_the_stamp_in_the_data() -> None:
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    guard = FutureGuard(wall_time=now.timestamp)
    source = Intake().register("bus", "amqp")
    batch = [Event(id="far", type="t", time=now + timedelta(hours=1), data={"k": 1})]
    [event] = guard(source, batch)
    assert event.time == now
    assert event.data == {"k": 1, STAMPED_TIME: "2026-03-02T09:00:00+00:00"}
    assert batch[0].data == {"k": 1}  # the source's own event is not changed


def test_with_the_event_clock_a_recorded_past_day_keeps_its_gaps() -> None:
    """``clock: {mode: event}`` back-tests a recorded day: hours between events are
    real and pass; only a stamp ahead of the real clock is skewed."""
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    guard = FutureGuard(wall_time=now.timestamp)
    bus = Intake().register("bus", "amqp")
    day = [Event(id=f"e{i}", type="t", time=now - timedelta(days=1, hours=9 - 3 * i))
           for i in range(4)]
    assert guard(bus, day) == day
    ahead = Event(id="w", type="t", time=now + timedelta(hours=1))
    assert [e.time for e in guard(bus, [ahead])] == [now]
    assert guard.snapshot() == {("bus", "arrival"): 1}


def test_the_bound_is_a_pure_test() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    bound = timedelta(minutes=5)
    assert not too_far_ahead(now + bound, now, bound)
    assert too_far_ahead(now + bound + timedelta(microseconds=1), now, bound)
    assert not too_far_ahead(now - timedelta(days=1), now, bound)  # late is not skewed
    assert not too_far_ahead(now + timedelta(days=1), None, bound)


def test_config_and_metrics(tmp_path: Path) -> None:
    clock = ClockConfig.model_validate({"max_future": "10m", "future_policy": "deadletter"})
    assert (clock.max_future, clock.future_policy) == (600.0, "deadletter")
    assert (ClockConfig().max_future, ClockConfig().future_policy) == (300.0, "arrival")
    from dreamcatcher.telemetry import WorkerTelemetry

    metrics, intake = Metrics(), Intake()
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    intake.guard = FutureGuard(wall_time=now.timestamp)
    bus = intake.register("bus", "amqp")
    engine = Engine([])
    telemetry = WorkerTelemetry(metrics, intake, lambda: engine, _NoStats())  # type: ignore[arg-type]
    intake.put(bus, [Event(id="far", type="t", time=now + timedelta(hours=1))])
    telemetry.sync()
    assert ('dreamcatcher_future_events_total{action="arrival",source="bus"} 1.0'
            in metrics.render().decode())


class _NoStats:
    def as_dict(self) -> dict[str, dict[str, int]]:
        return {}

    def limits(self) -> dict[tuple[str, str], int]:
        return {}


def test_a_running_worker_dead_letters_a_future_stamp_by_its_config(tmp_path: Path) -> None:
    """``dreamcatcher run`` with ``clock: {max_future: 5m, future_policy: deadletter}``:
    a syslog line stamped an hour ahead is a dead letter with the reason and counted in
    ``/metrics``; the line stamped now is an alert."""
    import socket

    import httpx

    from tests.live.proc import ACK_RULE, WorkerProcess, free_port, jsonl, wait_for, write_config

    port, http_port = free_port(), free_port()
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "ack.yaml").write_text(ACK_RULE)
    sink, dead = tmp_path / "alerts.jsonl", tmp_path / "dead.jsonl"
    config = write_config(tmp_path / "deploy.yaml", {
        "sources": {"syslog": [{"bind": "127.0.0.1", "port": port}]},
        "rules": [str(tmp_path / "rules")],
        "clock": {"mode": "wall", "max_future": "5m", "future_policy": "deadletter"},
        "alerting": {"sinks": [{"type": "jsonl", "url": str(sink)}]},
        "http": {"bind": "127.0.0.1", "port": http_port},
    })

    def line(at: datetime, n: int) -> bytes:
        return (f"<30>1 {at.isoformat()} net-1 dnsmasq-dhcp 2438 - - DHCPACK(tap{n}) "
                f"10.0.0.{n} fa:16:3e:00:00:{n:02x} host-{n}").encode()

    with WorkerProcess("--config", str(config), "--dead-letters", str(dead),
                       log=tmp_path / "worker.log") as worker:
        worker.wait_running()
        now = datetime.now(UTC)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(line(now + timedelta(hours=1), 2), ("127.0.0.1", port))
            udp.sendto(line(now, 1), ("127.0.0.1", port))
        wait_for(lambda: len(jsonl(sink)) >= 1 and len(jsonl(dead)) >= 1, 30,
                 "the alert and the dead letter")
        scraped: list[str] = []

        def counted() -> bool:  # the worker's telemetry syncs about once a second
            scraped[:] = httpx.get(f"http://127.0.0.1:{http_port}/metrics",
                                   timeout=5).text.splitlines()
            return any(m.startswith("dreamcatcher_future_events_total{") for m in scraped)

        wait_for(counted, 10, "the future event in /metrics")
        assert worker.terminate() == 0, worker.stderr()
    assert [a["firing"]["title"] for a in jsonl(sink)] == ["ack fa:16:3e:00:00:01 on net-1"]
    [rejected] = jsonl(dead)
    assert "stamped 3600s ahead of the worker's clock (bound 300s)" in rejected["reason"]
    assert "DHCPACK(tap2)" in str(rejected["raw"])
    assert [m for m in scraped if m.startswith("dreamcatcher_future_events_total{")] == [
        'dreamcatcher_future_events_total{action="dead_lettered",source="syslog:1"} 1.0']
