"""One delivery thread per sink: a bounded queue, retries with back-off, dead letters.

A slow or dead chat service must never stall event processing, and must never
make alerts vanish: ``offer`` never blocks, and whatever cannot be delivered
(queue full, retries used up, permanent error, shutdown) goes to the dead-letter
file with the reason, and is counted.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from adapters.alerting.notice import Notice
from adapters.alerting.sinks.base import DeliveryError, Sink
from adapters.deadletter import DeadLetters

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off with full jitter, capped; wall-clock time only."""

    attempts: int = 5
    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 30.0

    def delay(self, attempt: int) -> float:
        """Pause before retry number ``attempt`` (1-based)."""
        ceiling = min(self.maximum, self.initial * self.factor ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


class SinkWorker:
    """Delivers notices to one sink from its own thread."""

    def __init__(self, sink: Sink, dead: DeadLetters, *, queue_size: int = 1000,
                 retry: RetryPolicy | None = None,
                 on_settled: Callable[[Notice], None] | None = None) -> None:
        self.sink = sink
        #: told once per offered notice when it is sent or dead-lettered (the outbox)
        self.on_settled = on_settled
        self.dead = dead
        self.retry = retry or RetryPolicy()
        self.counts: Counter[str] = Counter()
        self._queue: queue.Queue[Notice | None] = queue.Queue(maxsize=queue_size)
        self._closing = threading.Event()
        self._deadline = float("inf")
        self._state = threading.Lock()
        self._inflight: Notice | None = None
        self._abandoned = False
        self._thread = threading.Thread(target=self._run, name=f"sink-{sink.name}", daemon=True)
        self._thread.start()

    def offer(self, notice: Notice, wait: float = 0.0) -> bool:
        """Queue ``notice``, waiting up to ``wait`` seconds for room; a queue still full
        dead-letters it instead."""
        if self._closing.is_set():
            self._give_up(notice, "router closed")
            return False
        try:
            if wait > 0:
                self._queue.put(notice, timeout=wait)
            else:
                self._queue.put_nowait(notice)
        except queue.Full:
            self.counts["queue_full"] += 1
            self._give_up(notice, f"queue full ({self._queue.maxsize})")
            return False
        self.counts["queued"] += 1
        return True

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self, timeout: float) -> None:
        """Stop taking notices, deliver what is queued until ``timeout``, dead-letter the rest."""
        self._deadline = time.monotonic() + timeout
        self._closing.set()
        self._queue.put(None)
        self._thread.join(timeout + 1.0)
        with self._state:  # stuck in a send: keep that notice too (it may arrive twice)
            if self._thread.is_alive() and self._inflight is not None:
                self._give_up(self._inflight, "still sending at shutdown (outcome unknown)")
            self._abandoned = True
        while True:  # the thread is stuck in a send: keep what it never reached
            try:
                left = self._queue.get_nowait()
            except queue.Empty:
                break
            if left is not None:
                self._give_up(left, "not delivered before shutdown")
        self.sink.close()

    def _give_up(self, notice: Notice, reason: str) -> None:
        self.counts["dead_lettered"] += 1
        self.dead.put(f"alert-sink:{self.sink.name}", notice.as_json(), reason)
        log.warning("alert not delivered", sink=self.sink.name, notice=notice.id, reason=reason)
        if self.on_settled is not None:
            self.on_settled(notice)

    def _run(self) -> None:
        while True:
            notice = self._queue.get()
            if notice is None:
                return
            if time.monotonic() >= self._deadline:
                self._give_up(notice, "not delivered before shutdown")
                continue
            with self._state:
                if self._abandoned:
                    self._give_up(notice, "not delivered before shutdown")
                    continue
                self._inflight = notice
            self._deliver(notice)

    def _deliver(self, notice: Notice) -> None:
        try:
            self._attempts(notice)
        finally:
            with self._state:
                self._inflight = None

    def _settle(self, notice: Notice, reason: str | None) -> None:
        """Count the outcome unless close() already dead-lettered this notice."""
        with self._state:
            if self._abandoned and self._inflight is notice:
                return
            if reason is None:
                self.counts["sent"] += 1
                if self.on_settled is not None:
                    self.on_settled(notice)
            else:
                self._give_up(notice, reason)

    def _attempts(self, notice: Notice) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                self.sink.send(notice)
            except DeliveryError as exc:
                error, retryable = str(exc), exc.retryable
            except Exception as exc:  # a sink bug must not kill the thread
                error, retryable = f"{type(exc).__name__}: {exc}", True
            else:
                self._settle(notice, None)
                return
            if not retryable or attempt >= self.retry.attempts:
                why = "permanent error" if not retryable else f"gave up after {attempt} attempts"
                self._settle(notice, f"{why}: {error}")
                return
            pause = self.retry.delay(attempt)
            if time.monotonic() + pause >= self._deadline:
                self._settle(notice, f"not delivered before shutdown: {error}")
                return
            self.counts["retries"] += 1
            resume = time.monotonic() + pause
            if self._closing.wait(pause):  # woken by close(): is there time left?
                if resume >= self._deadline:
                    self._settle(notice, f"not delivered before shutdown: {error}")
                    return
                time.sleep(max(0.0, resume - time.monotonic()))
