"""One bounded queue from every source to the engine thread, and what each source has reached.

A source puts its events here from its own thread and blocks while the queue is
full: that is the backpressure (a TCP syslog sender and a file follower slow
down, the AMQP consumer stops taking deliveries, so the broker keeps them).

The engine may fire a timer only once no source can still bring an event that
would have prevented it. Each source therefore says whether it has a backlog
(``caught_up``), and the intake keeps, per source, the newest event time the
engine has *processed*: the watermark is held at the oldest such time among the
sources still busy, so a worker started on a queue of held-up notifications
fires no absence whose ``then`` is still in that queue.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dreamcatcher.clockguard import FutureGuard
from engine.events import Event

_BLOCKED = -math.inf


class BatchFailed(RuntimeError):
    """Raised by a barrier: a batch was not processed, so it must not be acknowledged."""


@dataclass
class SourceState:
    """What the engine thread knows of one source; ``caught_up`` is the source's own answer."""

    name: str
    kind: str
    caught_up: Callable[[], bool]
    queued: int = 0  # batches handed over and not yet processed
    processed_time: float = _BLOCKED  # newest event time the engine has processed
    events: int = 0
    failed: bool = False  # the engine could not process a batch: the barrier raises
    cond: threading.Condition = field(default_factory=threading.Condition)

    def busy(self) -> bool:
        return self.queued > 0 or not self.caught_up()


@dataclass
class Item:
    """A batch of one source's events, or a control message (``kind``) for the engine thread."""

    kind: str  # "events" | "call"
    source: SourceState | None = None
    events: list[Event] = field(default_factory=list)
    call: Callable[[], None] | None = None
    created: float = field(default_factory=time.monotonic)  # for the ack latency


class Intake:
    """The queue and the sources' states; sources call ``put``, the engine thread ``get``."""

    def __init__(self, maxsize: int = 1024) -> None:
        self._queue: queue.Queue[Item] = queue.Queue(maxsize=maxsize)
        self.sources: list[SourceState] = []
        #: events stamped too far ahead do not move the watermark (``dreamcatcher.clockguard``)
        self.guard: FutureGuard | None = None

    def register(self, name: str, kind: str,
                 caught_up: Callable[[], bool] = lambda: True) -> SourceState:
        state = SourceState(name, kind, caught_up)
        self.sources.append(state)
        return state

    def put(self, source: SourceState, events: list[Event]) -> None:
        """Hand a batch on; blocks while the engine is behind (backpressure)."""
        if self.guard is not None and events:
            events = self.guard(source, events)
        if not events:
            return
        with source.cond:
            source.queued += 1
        self._queue.put(Item("events", source, events))

    def call(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the engine thread, in order with the events (reload, stop)."""
        self._queue.put(Item("call", call=fn))

    def get(self, timeout: float) -> Item | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def done(self, item: Item, newest: float) -> None:
        """The engine thread processed ``item`` (its effects are stored): wake its barrier."""
        source = item.source
        if source is None:
            return
        with source.cond:
            source.queued -= 1
            source.events += len(item.events)
            if newest > source.processed_time:
                source.processed_time = newest
            source.cond.notify_all()

    def failed(self, item: Item) -> None:
        """The engine could not process ``item``: its barrier opens, but raises, so the
        source does not acknowledge the batch (the broker redelivers, the follower
        reads it again)."""
        source = item.source
        if source is None:
            return
        with source.cond:
            source.queued -= 1
            source.failed = True
            source.cond.notify_all()

    def barrier(self, source: SourceState, timeout: float | None = None) -> None:
        """Block until everything ``source`` handed on has been processed (before an ack)."""
        with source.cond:
            if not source.cond.wait_for(lambda: source.queued == 0, timeout):
                raise TimeoutError(f"{source.name}: the engine did not catch up in {timeout}s")
            if source.failed:
                source.failed = False
                raise BatchFailed(f"{source.name}: the engine failed on a batch; "
                                  "it is not acknowledged and comes again")

    def depth(self) -> int:
        return self._queue.qsize()

    def hold(self, lateness: float) -> float:
        """The watermark cap: the oldest processed time among busy sources, less the
        lateness; ``inf`` when none is busy."""
        cap = math.inf
        for source in self.sources:
            if source.busy():
                cap = min(cap, source.processed_time - lateness)
        return cap

    def all_caught_up(self) -> bool:
        return self._queue.empty() and not any(s.busy() for s in self.sources)
