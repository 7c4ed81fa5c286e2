"""Remediation on its own thread, so a hook that takes its whole timeout never holds the
engine: the engine thread only queues the firing.

The queue is bounded; when it is full the engine thread waits (backpressure that
reaches the sources) rather than drop an action request: each request is either
run, dry-run, refused or rate-limited, and always audited.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from adapters.remediation.remediator import Remediator
from engine.firing import Firing

log = logging.getLogger(__name__)

Done = Callable[[], None]


class RemediationWorker:
    """``submit(firing, done)``: the firing's actions run (or dry-run) later, then ``done()``."""

    def __init__(self, remediator: Remediator, maxsize: int = 256) -> None:
        self.remediator = remediator
        self._queue: queue.Queue[tuple[Firing, Done | None] | None] = queue.Queue(maxsize)
        self._thread = threading.Thread(target=self._run, name="remediation", daemon=True)
        self._thread.start()

    def submit(self, firing: Firing, done: Done | None = None) -> None:
        self._queue.put((firing, done))

    def pending(self) -> int:
        return self._queue.qsize()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            firing, done = item
            try:
                self.remediator.handle(firing)
            except Exception:  # a remediation bug must not stop the next requests
                log.exception("remediation of %s failed", firing.id)
            if done is not None:
                done()

    def close(self, timeout: float = 30.0) -> None:
        """Run what is queued (the audit is written as each finishes), then stop."""
        self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("remediation still running at shutdown; %d requests not run",
                        self._queue.qsize())
