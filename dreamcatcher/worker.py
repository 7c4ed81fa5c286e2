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
from datetime import UTC, datetime
from typing import Any

from dreamcatcher.intake import Intake, Item
from dreamcatcher.outbox import Outbox
from dreamcatcher.outputs import Outputs
from dreamcatcher.sources import Source
from engine.engine import Engine, EventFailed
from engine.events import Event
from engine.firing import Firing
from engine.store import StoreConflict, StoreUnavailable

log = logging.getLogger(__name__)

_CONFLICT_REDOS = 5  # a batch redone this often on other writers' changes is failed
_BACKOFF_FIRST = 0.1  # seconds before the first retry of an unreachable store
_BACKOFF_LAST = 5.0


class _Stopping(Exception):
    """A stop was asked for while waiting on the store: leave the batch unacknowledged."""


@dataclass
class WorkerStats:
    events: int = 0
    firings: int = 0
    redelivered_firings: int = 0  # journalled by an earlier run, delivered at start
    ticks: int = 0
    reloads: int = 0
    reload_failures: int = 0
    store_errors: int = 0  # failed calls to the state store (each retried)
    poison_events: int = 0  # events the engine failed on: dead-lettered, the batch went on


class Worker:
    """Owns the engine thread: ``start()``, then ``shutdown()`` once ``stop()`` (signal-safe)
    was asked for (``wait_stop``)."""

    def __init__(self, engine: Engine, intake: Intake, sources: list[Source],
                 outputs: Outputs, outbox: Outbox, *, clock: str = "wall", tick: float = 1.0,
                 drain_at_exit: bool = False,
                 wall_time: Callable[[], float] = time.time,
                 dead_letter: Callable[[str, Any, str], None] | None = None) -> None:
        self.engine = engine
        self.intake = intake
        self.sources = sources
        self.outputs = outputs
        self.outbox = outbox
        self.clock = clock
        self.tick = tick
        self.drain_at_exit = drain_at_exit
        self.wall_time = wall_time
        #: (origin, raw, reason): where an event the engine fails on goes (None: the
        #: whole batch fails and comes again)
        self.dead_letter = dead_letter
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
        #: told of each failed call to the state store, with where it failed (metrics)
        self.on_store_error: list[Callable[[str], None]] = []
        self.store_ok = True  # False from a store failure until a commit succeeds (/readyz)

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
            self._drain()
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
        for attempt in range(1, _CONFLICT_REDOS + 1):
            try:
                fresh = self._transaction(engine, lambda: self._engine_takes(engine, events),
                                          "batch")
                break
            except StoreConflict as exc:  # another writer: redo on what it wrote
                log.warning("batch redone (%d/%d): %s", attempt, _CONFLICT_REDOS, exc)
            except _Stopping:
                self.intake.failed(item)  # not acknowledged: it comes again at the next start
                return
            except Exception:
                # the source's barrier raises for this batch: its input is not acknowledged
                # and comes again (redelivery, file offset not committed)
                log.exception("engine failed on a batch of %d events from %s", len(events),
                              item.source.name if item.source else "?")
                self.intake.failed(item)
                return
        else:
            self.intake.failed(item)
            return
        newest = max(e.time.timestamp() for e in events)
        self.intake.done(item, newest)
        self.stats.events += len(events)
        for hook in self.on_batch:
            hook(item, fresh)
        for firing in fresh:
            self._hand_on(firing)
        self._clock_outputs(engine)

    def _engine_takes(self, engine: Engine, events: list[Event]) -> list[Firing]:
        """``process_many``; an event the engine fails on is a dead letter with the error
        and the rest of the batch goes on, so one poison event never loops its source."""
        firings: list[Firing] = []
        rest = events
        while True:
            try:
                return firings + engine.process_many(rest)
            except EventFailed as failed:
                if self.dead_letter is None:
                    raise
                firings += failed.firings
                log.error("the engine failed on event %s (%s): dead-lettered: %s",
                          failed.event.id, failed.event.type, failed)
                self.dead_letter("engine", failed.event.model_dump(mode="json"),
                                 f"the engine failed on this event: {failed}")
                self.stats.poison_events += 1
                at = next(i for i, e in enumerate(rest) if e is failed.event)
                rest = rest[at + 1:]

    def _transaction(self, engine: Engine, work: Callable[[], list[Firing]],
                     where: str) -> list[Firing]:
        """``work`` on staged state, its firings journalled, then the state committed: a
        crash before the commit redoes the work (the journal knows its firings), one after
        finds it done. A store that cannot be reached is waited for, with back-off, the
        work redone while nothing was journalled and the commit retried after."""
        store = engine.store
        backoff = _BACKOFF_FIRST
        while True:
            mark = engine.clock_mark()
            store.begin()
            try:
                firings = work()
            except StoreUnavailable as exc:
                store.abort()
                engine.rewind(mark)
                backoff = self._store_down(where, exc, backoff)
                continue
            except BaseException:
                store.abort()
                engine.rewind(mark)
                raise
            break
        fresh = self.outbox.put(firings)
        while True:
            try:
                store.commit()
            except StoreUnavailable as exc:
                try:
                    backoff = self._store_down("commit", exc, backoff)
                except _Stopping:
                    # maybe applied, maybe not: the journal keeps the firings for the
                    # next start, which redoes the input or finds it done
                    store.abort()
                    engine.rewind(mark)
                    raise
                continue
            except BaseException:
                store.abort()
                engine.rewind(mark)
                self.outbox.withdraw(fresh)  # never handed on: the redo journals its own
                raise
            break
        if not self.store_ok:
            self.store_ok = True
            log.info("the state store is reachable again")
        return fresh

    def _store_down(self, where: str, exc: Exception, backoff: float) -> float:
        """Count, log, mark unready and wait; ``_Stopping`` once a stop is asked for."""
        self.stats.store_errors += 1
        for hook in self.on_store_error:
            hook(where)
        if self.store_ok:
            log.error("the state store failed (%s): %s; retrying with back-off", where, exc)
        self.store_ok = False
        if self._stopping.wait(backoff):
            raise _Stopping from exc
        return min(backoff * 2, _BACKOFF_LAST)

    def _on_tick(self) -> None:
        engine = self.engine
        self.stats.ticks += 1

        def tick() -> list[Firing]:
            firings = engine.set_hold(self.intake.hold(engine.lateness))
            if self.clock == "wall" and self.intake.all_caught_up():
                firings += engine.set_hold(math.inf)
                firings += engine.advance(self.wall_time())
            return firings

        try:
            fresh = self._transaction(engine, tick, "tick")
        except (StoreConflict, _Stopping):
            return  # the next tick does it again
        except Exception:  # the worker lives on; the next tick tries again
            log.exception("the clock tick failed; retrying at the next one")
            return
        for firing in fresh:
            self._hand_on(firing)
        self._clock_outputs(engine)

    def _clock_outputs(self, engine: Engine) -> None:
        """Give the outputs the engine's clock for what waits on time (a storm period's
        summary), on this thread after the firings it covers: a tick from another thread
        could run ahead of them, close an empty period and leave their storm unsaid."""
        if self.outputs.tick is not None and engine.newest > -math.inf:
            self.outputs.tick(datetime.fromtimestamp(engine.newest, UTC))

    def _emit(self, firings: Iterable[Firing]) -> None:
        for firing in self.outbox.put(list(firings)):
            self._hand_on(firing)

    def _drain(self) -> None:
        """``--drain-at-exit``: every armed deadline fired, committed like a tick."""
        try:
            fresh = self._transaction(self.engine, self.engine.drain, "drain")
        except (StoreConflict, _Stopping, StoreUnavailable):
            log.error("the deadlines could not be drained: the state store is unavailable")
            return
        for firing in fresh:
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
