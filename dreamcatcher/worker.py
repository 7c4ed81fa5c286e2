"""The live worker: every source into one engine on one thread, one clock, a clean stop.

Threads: one per source (each puts batches into the ``Intake``), one engine
thread (the only one that touches the engine and the outbox's writes), the
router's sink threads and the remediation thread. The order of a batch on the
engine thread is what makes an ack safe: process (state stored), journal the
firings in the outbox, tell the source (its barrier opens, it acks), then hand
the firings to the router.

Time: event time, the watermark held at the oldest event time any source with a
backlog has reached (``Intake.hold``); in ``wall`` mode, once every source is
caught up and the queue is empty, the wall clock moves it, so an absence fires
with no further event, but never while a backlog is being read.

Stop (SIGTERM): the sources stop taking input and hand on what they hold, the
engine thread finishes the queue (the consumer acks), the router drains its
sinks, remediation finishes, the outbox closes. Anything not delivered by then
is in the dead letters or still in the outbox, delivered at the next start.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dreamcatcher.intake import Intake, Item
from dreamcatcher.outbox import Outbox
from dreamcatcher.outputs import Outputs
from dreamcatcher.sources import Source
from engine.engine import Engine
from engine.firing import Firing

log = logging.getLogger(__name__)


@dataclass
class WorkerStats:
    events: int = 0
    firings: int = 0
    redelivered_firings: int = 0  # journalled by an earlier run, delivered at start
    ticks: int = 0
    reloads: int = 0
    reload_failures: int = 0


class Worker:
    """Owns the engine thread: ``start()``, then ``shutdown()`` once ``stop()`` (signal-safe)
    was asked for (``wait_stop``)."""

    def __init__(self, engine: Engine, intake: Intake, sources: list[Source],
                 outputs: Outputs, outbox: Outbox, *, clock: str = "wall", tick: float = 1.0,
                 drain_at_exit: bool = False,
                 wall_time: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.intake = intake
        self.sources = sources
        self.outputs = outputs
        self.outbox = outbox
        self.clock = clock
        self.tick = tick
        self.drain_at_exit = drain_at_exit
        self.wall_time = wall_time
        self.stats = WorkerStats()
        self._stopping = threading.Event()
        self._finished = threading.Event()
        self._engine_thread = threading.Thread(target=self._engine_loop, name="engine",
                                               daemon=True)
        assert outputs.deliver is not None
        self._deliver = outputs.deliver
        #: told of each processed batch and each firing handed on (metrics, --print-events)
        self.on_batch: list[Callable[[Item, list[Firing]], None]] = []
        self.on_firing: list[Callable[[Firing], None]] = []

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        for firing in self.outbox.pending():  # an earlier run journalled, never settled
            self.stats.redelivered_firings += 1
            self._hand_on(firing)
        self._engine_thread.start()
        for source in self.sources:
            source.start()

    def stop(self) -> None:
        """Ask for a clean stop (from a signal handler: only sets a flag)."""
        self._stopping.set()

    def shutdown(self, timeout: float = 30.0) -> None:
        for source in self.sources:
            source.stop()
        for source in self.sources:
            source.join(timeout)
        self.intake.call(self._finished.set)  # after everything the sources handed on
        self._engine_thread.join(timeout)
        if self.drain_at_exit:
            self._emit(self.engine.drain())
        self.outputs.close()
        self.outbox.close()

    def wait_stop(self, timeout: float) -> bool:
        """True once ``stop()`` was asked for (the main thread's loop)."""
        return self._stopping.wait(timeout)

    def alive(self) -> bool:
        return self._engine_thread.is_alive()

    def threads(self) -> list[threading.Thread]:
        """The threads whose death makes the worker unhealthy (``/healthz``)."""
        return [self._engine_thread, *(t for s in self.sources for t in s.threads())]

    # -- the engine thread --------------------------------------------------------------
    def _engine_loop(self) -> None:
        intake = self.intake
        next_tick = time.monotonic() + self.tick
        while not self._finished.is_set():
            item = intake.get(timeout=max(0.0, next_tick - time.monotonic()))
            if item is not None:
                if item.kind == "call" and item.call is not None:
                    item.call()
                else:
                    self._process(item, self.engine)
            now = time.monotonic()
            if now >= next_tick:
                self._on_tick()
                next_tick = now + self.tick

    def _process(self, item: Item, engine: Engine) -> None:
        engine.hold = self.intake.hold(engine.lateness)
        events = item.events
        try:
            firings = engine.process_many(events)
            fresh = self.outbox.put(firings)
        except Exception:
            # the source's barrier raises for this batch: its input is not acknowledged
            # and comes again (redelivery, file offset not committed)
            log.exception("engine failed on a batch of %d events from %s", len(events),
                          item.source.name if item.source else "?")
            self.intake.failed(item)
            return
        newest = max(e.time.timestamp() for e in events)
        self.intake.done(item, newest)
        self.stats.events += len(events)
        for hook in self.on_batch:
            hook(item, firings)
        for firing in fresh:
            self._hand_on(firing)

    def _on_tick(self) -> None:
        engine = self.engine
        self.stats.ticks += 1
        try:
            firings = engine.set_hold(self.intake.hold(engine.lateness))
            if self.clock == "wall" and self.intake.all_caught_up():
                firings += engine.set_hold(math.inf)
                firings += engine.advance(self.wall_time())
            self._emit(firings)
        except Exception:  # a store error: the next tick tries again, the worker lives on
            log.exception("the clock tick failed; retrying at the next one")

    def _emit(self, firings: Iterable[Firing]) -> None:
        for firing in self.outbox.put(list(firings)):
            self._hand_on(firing)

    def _hand_on(self, firing: Firing) -> None:
        self.stats.firings += 1
        for hook in self.on_firing:
            hook(firing)
        fid = firing.id
        self._deliver(firing, lambda: self.outbox.done(fid))

    # -- reload ---------------------------------------------------------------------------
    def swap_engine(self, make: Callable[[Engine], Engine]) -> None:
        """Replace the engine on the engine thread, in order with the events (SIGHUP)."""
        def swap() -> None:
            try:
                fresh = make(self.engine)
            except Exception as exc:
                self.stats.reload_failures += 1
                log.error("reload refused, the running rules stay: %s", exc)
                return
            self.engine = fresh
            self.stats.reloads += 1
            log.info("rules reloaded: %d rules", len(fresh.rules))
        self.intake.call(swap)
