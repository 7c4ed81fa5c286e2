"""The live worker's operations side: metrics, ``/metrics`` ``/healthz`` ``/readyz``,
systemd's notify socket (ready, reloading, stopping, watchdog) and the inventory pull.

Readiness: the inventory is seeded (the dumps at start; the first pull when one is
configured) and, with a bus source, the broker is connected.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from adapters.alerting.silences import SilenceFile
from adapters.deadletter import DeadLetters
from adapters.logs import UnparsedStats
from dreamcatcher.ackapi import ack_routes
from dreamcatcher.config import DeploymentConfig
from dreamcatcher.errors import RuntimeFailure
from dreamcatcher.httpd import Conditions, OpsServer, threads_alive
from dreamcatcher.metrics import Metrics
from dreamcatcher.sdnotify import Notifier
from dreamcatcher.sources import AmqpIntake, SyslogIntake
from dreamcatcher.telemetry import WorkerTelemetry
from dreamcatcher.worker import Worker

log = logging.getLogger(__name__)


class Operations:
    """Metrics, the HTTP endpoint, systemd's notify socket and the inventory pull."""

    def __init__(self, telemetry: WorkerTelemetry, server: OpsServer | None,
                 ready: Conditions) -> None:
        self.telemetry = telemetry
        self.server = server
        self.ready = ready
        self.notifier = Notifier()
        self._stop = threading.Event()
        self._last_sync = 0.0

    def started(self, config: DeploymentConfig, worker: Worker) -> None:
        pull = config.inventory.pull
        if pull is None:
            self.ready.set("inventory seeded")
        else:
            from adapters.inventory.pull import InventoryPuller

            def apply(facts: list[Any]) -> None:
                def load() -> None:  # on the engine thread, in order with the events
                    engine = worker.engine
                    engine.load_facts(facts, max(engine.newest, 0.0))
                    self.ready.set("inventory seeded")
                worker.intake.call(load)

            InventoryPuller(pull).run_every(apply, self._stop)
        self.notifier.ready("running")
        self.notifier.start_watchdog(worker.alive)

    def sync(self) -> None:
        now = time.monotonic()
        if now - self._last_sync >= 1.0:
            self._last_sync = now
            self.telemetry.sync()

    def close(self) -> None:
        self._stop.set()
        if self.server is not None:
            self.server.close()
        self.notifier.close()


def operations(config: DeploymentConfig, worker: Worker, sources: list[Any],
               stats: UnparsedStats, dead: DeadLetters, router_stats: Any) -> Operations:
    """Metrics hooked into the worker, the endpoint started (when configured)."""
    metrics = Metrics()
    amqp = next((s for s in sources if isinstance(s, AmqpIntake)), None)
    telemetry = WorkerTelemetry(
        metrics, worker.intake, lambda: worker.engine, stats, router_stats=router_stats,
        consumer_stats=(lambda: amqp.consumer.stats) if amqp is not None else None,
        queue_depths=(lambda: {"amqp": float(amqp.consumer.queue_depth or 0)})
        if amqp is not None else None)
    listeners = {s.name: s.server.udp_socket for s in sources
                 if isinstance(s, SyslogIntake) and s.server.udp_socket is not None}
    if listeners:
        metrics.watch_udp_sockets(lambda: listeners)
    worker.on_batch.append(telemetry.on_batch)
    worker.on_firing.append(telemetry.on_firing)
    worker.on_store_error.append(metrics.store_error)
    dead.on_put = telemetry.dead_letter
    ready = Conditions("inventory seeded")

    def readiness() -> tuple[bool, list[str]]:
        ok, reasons = ready()
        reasons = list(reasons)
        if amqp is not None and not amqp.connected():
            ok, reasons = False, [*reasons, "not yet: broker connected"]
        if not worker.store_ok:
            ok, reasons = False, [*reasons, "the state store is unreachable (retrying)"]
        return ok, reasons

    server = None
    if config.http is not None:
        try:
            acks = config.alerting.silences_path
            server = OpsServer(config.http, metrics, ready=readiness,
                               healthy=threads_alive(worker.threads),
                               posts=ack_routes(config.http, SilenceFile(acks) if acks else None),
                               ).start()
        except OSError as exc:
            raise RuntimeFailure("http", f"cannot listen on {config.http.bind}:"
                                 f"{config.http.port}: {exc}") from None
    return Operations(telemetry, server, ready)
