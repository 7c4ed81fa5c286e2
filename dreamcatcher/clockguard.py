"""Events stamped too far in the future do not move the watermark: the intake's guard.

Applied where every source's batch enters the engine's queue (``Intake.put``),
with ``engine.skew.too_far_ahead`` as the test. The reference it is ahead of is the
worker's own (wall) clock when the batch arrives, in both clock modes: no producer
can stamp what has not happened yet, and a recorded day pushed through the live
path with ``clock: {mode: event}`` lies in the past, where gaps of hours between
events are real and must move the watermark.

Policy ``arrival`` (default): the event is processed with the reference time as
its time (its own stamp kept in ``data.stamped_time``); ``deadletter``: it goes to
the dead letters with the reason. Either way it is counted (``counts``, exported by
``dreamcatcher.telemetry`` as ``dreamcatcher_future_events``).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from engine.events import Event
from engine.skew import DEFAULT_MAX_FUTURE, FuturePolicy, latest_allowed, too_far_ahead

if TYPE_CHECKING:
    from dreamcatcher.intake import SourceState

STAMPED_TIME = "stamped_time"


class DeadLetterSink(Protocol):
    def put(self, origin: str, raw: Any, reason: str) -> None: ...


class FutureGuard:
    """Callable on a source's batch (from the source's thread): the batch to queue."""

    def __init__(self, *, max_future: float = DEFAULT_MAX_FUTURE,
                 policy: FuturePolicy = "arrival",
                 dead_letters: DeadLetterSink | None = None,
                 wall_time: Callable[[], float] = time.time) -> None:
        if policy == "deadletter" and dead_letters is None:
            raise ValueError("future_policy deadletter needs a dead-letter sink")
        self.bound = timedelta(seconds=max_future)
        self.policy = policy
        self.dead_letters = dead_letters
        self.wall_time = wall_time
        #: (source, "arrival" | "dead_lettered") -> events
        self.counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()  # counts are read by the metrics thread
        self._refresh = -math.inf  # wall clock: when to read it as a datetime again
        self._reference = self._limit = datetime.min.replace(tzinfo=UTC)

    def __call__(self, source: SourceState, events: list[Event]) -> list[Event]:
        now = self.wall_time()
        if now >= self._refresh:  # the clock read as a datetime once a second at most
            self._refresh = now + 1.0
            self._reference = datetime.fromtimestamp(now, UTC)
            self._limit = latest_allowed(self._reference, self.bound)
        limit = self._limit
        for event in events:  # the hot path: one comparison per event
            if event.__dict__["time"] > limit:
                break
        else:
            return events
        reference, bound = self._reference, self.bound
        kept: list[Event] = []
        for event in events:
            if not too_far_ahead(event.__dict__["time"], reference, bound):
                kept.append(event)
                continue
            fixed = self._handle(source.name, event, reference)
            if fixed is not None:
                kept.append(fixed)
        return kept

    def _handle(self, source: str, event: Event, reference: datetime) -> Event | None:
        ahead = (event.time - reference).total_seconds()
        against = "the worker's clock"
        if self.policy == "deadletter":
            assert self.dead_letters is not None
            raw = event.raw if event.raw is not None else event.model_dump(mode="json")
            self.dead_letters.put(
                source, raw, f"{event.type} {event.id}: stamped {ahead:.0f}s ahead of "
                f"{against} (bound {self.bound.total_seconds():g}s)")
            self._count(source, "dead_lettered")
            return None
        self._count(source, "arrival")
        return event.model_copy(update={
            "time": reference, "data": {**event.data, STAMPED_TIME: event.time.isoformat()}})

    def _count(self, source: str, action: str) -> None:
        with self._lock:
            self.counts[(source, action)] += 1

    def snapshot(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self.counts)
