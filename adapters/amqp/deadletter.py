"""The dead-letter queue: rejected bodies, unchanged, with the reason in a header.

A real, durable RabbitMQ queue (not a file) so an operator can inspect it with
the usual tools and shovel messages back once a mapping is fixed.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import kombu

# kombu ships without complete type hints: use it as Any in one place.
_kombu: Any = kombu
Exchange = _kombu.Exchange
Producer = _kombu.Producer
Queue = _kombu.Queue

DEAD_LETTER_QUEUE = "dreamcatcher.dead"
REASON_HEADER = "x-dreamcatcher-reason"
ORIGIN_HEADER = "x-dreamcatcher-origin"


class AmqpDeadLetters:
    """Publish rejected messages to ``queue`` (default exchange), confirmed, counted."""

    def __init__(self, queue: str = DEAD_LETTER_QUEUE) -> None:
        self.queue = queue
        self.counts: Counter[str] = Counter()
        self._producer: Any = None
        self._lock = threading.Lock()

    def bind(self, connection: Any) -> None:
        """(Re)attach to a live connection (opened with ``confirm_publish``) and declare."""
        channel = connection.channel()
        Queue(self.queue, durable=True, channel=channel).declare()
        self._producer = Producer(channel, exchange=Exchange(""), routing_key=self.queue)

    def put(self, origin: str, raw: Any, reason: str) -> None:
        """Publish the original body; returns once the broker confirmed it."""
        if self._producer is None:
            raise RuntimeError("dead-letter queue used before bind()")
        body = raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "replace")
        headers = {REASON_HEADER: reason[:1000], ORIGIN_HEADER: origin,
                   "x-dreamcatcher-time": datetime.now(UTC).isoformat()}
        with self._lock:
            self._producer.publish(body, headers=headers, delivery_mode=2,
                                   content_type="application/octet-stream",
                                   content_encoding="binary", serializer=None)
            self.counts[origin] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())
