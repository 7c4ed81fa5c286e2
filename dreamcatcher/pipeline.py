"""Events through the engine to whoever takes the firings: one path for replay and live."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import islice

from dreamcatcher.progress import Progress
from engine.engine import Engine
from engine.events import Event
from engine.firing import Firing

__all__ = ["Pipeline", "Progress", "merge_by_time"]

FiringHandler = Callable[[Firing], None]


def merge_by_time(streams: Iterable[Iterable[Event]]) -> Iterator[Event]:
    """Several time-ordered streams merged as if they had arrived live."""
    return heapq.merge(*streams, key=lambda e: e.time)


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
        source = iter(events)
        while chunk := list(islice(source, batch)):
            self.handle_batch(chunk)
            if progress is not None:
                progress.update(self.events, self.firings)
        if drain:
            self._emit(self.engine.drain())
        if progress is not None:
            progress.done(self.events, self.firings)
