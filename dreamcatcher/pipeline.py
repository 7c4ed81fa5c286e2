"""Events through the engine to whoever takes the firings: one path for replay and live."""

from __future__ import annotations

import heapq
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import islice

from dreamcatcher.progress import Progress
from engine.engine import Engine
from engine.events import Event
from engine.firing import Firing

FiringHandler = Callable[[Firing], None]


def merge_by_time(streams: Iterable[Iterable[Event]]) -> Iterator[Event]:
    """Several time-ordered streams merged as if they had arrived live."""
    return heapq.merge(*streams, key=lambda e: e.time)


class LiveBatches:
    """Events of a live input (a pipe, stdin), handed over in batches of whatever
    has arrived: a reader thread queues each event as its line is read, and a
    batch ends as soon as the queue runs dry, so no event waits for 511 more.

    Regular files do not come through here: their events are batched by count
    with no per-event thread hand-off.
    """

    _END = object()

    def __init__(self, events: Iterable[Event], batch: int = 512) -> None:
        self.events = events
        self.batch = batch

    def __iter__(self) -> Iterator[Event]:
        for chunk in self.batches():
            yield from chunk

    def batches(self) -> Iterator[list[Event]]:
        """Blocks only while nothing at all is ready; a reader's exception is re-raised."""
        ready: queue.SimpleQueue[object] = queue.SimpleQueue()

        def read() -> None:
            try:
                for event in self.events:
                    ready.put(event)
            except BaseException as exc:  # handed to the consumer, raised there
                ready.put(exc)
            finally:
                ready.put(self._END)

        threading.Thread(target=read, name="dreamcatcher-input", daemon=True).start()
        while True:
            item = ready.get()
            chunk: list[Event] = []
            while True:
                if item is self._END:
                    if chunk:
                        yield chunk
                    return
                if isinstance(item, BaseException):
                    if chunk:  # what was read before the failure still counts
                        yield chunk
                    raise item
                chunk.append(item)  # type: ignore[arg-type]
                if len(chunk) >= self.batch:
                    break
                try:
                    item = ready.get_nowait()
                except queue.Empty:
                    break
            yield chunk


class Pipeline:
    """Feeds events to the engine and hands every firing on, in order."""

    def __init__(self, engine: Engine, on_firing: FiringHandler) -> None:
        self.engine = engine
        self.on_firing = on_firing
        self.events = 0
        self.firings = 0

    def _emit(self, firings: list[Firing]) -> None:
        for firing in firings:
            self.firings += 1
            self.on_firing(firing)

    def handle_batch(self, events: list[Event]) -> None:
        """A batch's effects are in the store when this returns (ack after it)."""
        self.events += len(events)
        self._emit(self.engine.process_many(events))

    def tick(self, now: datetime | float) -> None:
        """Advance the clock without events (live mode fires absences this way)."""
        self._emit(self.engine.advance(now))

    def run(self, events: Iterable[Event], progress: Progress | None = None,
            drain: bool = True, batch: int = 512) -> None:
        """Every event in order, handed over ``batch`` at a time (alerts come out in order)."""
        chunks: Iterator[list[Event]]
        if isinstance(events, LiveBatches):
            chunks = events.batches()
        else:
            source = iter(events)
            chunks = iter(lambda: list(islice(source, batch)), [])
        for chunk in chunks:
            self.handle_batch(chunk)
            if progress is not None:
                progress.update(self.events, self.firings)
        if drain:
            self._emit(self.engine.drain())
        if progress is not None:
            progress.done(self.events, self.firings)
