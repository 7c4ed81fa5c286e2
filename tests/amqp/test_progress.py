"""``caught_up``, ``queue_depth`` and ``last_event_time``: what lets a worker move its
clock from the wall clock only once no backlog is left to read."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.amqp import NotificationConsumer
from tests.amqp.support import Collector, publish_bodies, start, stop, wait_until

pytestmark = pytest.mark.rabbitmq

LEGACY = "notifications/legacy/nova/designate__compute.instance.create.end.json"
BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _bodies(corpus: Path, count: int, tag: str) -> list[bytes]:
    """Notifications one second apart in event time."""
    legacy = json.loads((corpus / LEGACY).read_text())
    return [json.dumps(dict(legacy, message_id=f"{tag}-{i}", timestamp=(
        BASE + timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S.%f"))).encode()
        for i in range(count)]


class Sampler:
    """Reads ``caught_up`` then the handled count, as another thread would, every 5 ms."""

    def __init__(self, consumer: NotificationConsumer, collector: Collector) -> None:
        self.samples: list[tuple[bool, int]] = []
        self.depths: list[int | None] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(consumer, collector),
                                        daemon=True)
        self._thread.start()

    def _run(self, consumer: NotificationConsumer, collector: Collector) -> None:
        while not self._stop.is_set():
            flag = consumer.caught_up  # first: True must imply everything was handled
            self.samples.append((flag, collector.count()))
            self.depths.append(consumer.queue_depth)
            time.sleep(0.005)

    def close(self) -> list[tuple[bool, int]]:
        self._stop.set()
        self._thread.join()
        return self.samples


def _consumer(url: str, names: dict[str, str], collector: Collector,
              **options: float) -> NotificationConsumer:
    return NotificationConsumer(url, collector, exchanges=[names["exchange"]],
                                queue_prefix=names["prefix"], **options)


def test_backlog_is_not_caught_up_until_drained(rabbitmq_url: str, corpus: Path,
                                                names: dict[str, str]) -> None:
    total = 2000
    declared = _consumer(rabbitmq_url, names, Collector())
    stop(declared, start(declared))  # the queue and its bindings, then the worker is down
    publish_bodies(rabbitmq_url, names["exchange"], _bodies(corpus, total, "b"),
                   "notifications.info")
    collector = Collector(delay=0.001)  # ~2 s or more to drain
    consumer = _consumer(rabbitmq_url, names, collector, refresh_interval=0.3)
    assert not consumer.caught_up and consumer.queue_depth is None
    assert consumer.last_event_time is None
    thread = start(consumer)
    depth_at_start = consumer.queue_depth
    sampler = Sampler(consumer, collector)
    try:
        wait_until(lambda: consumer.caught_up, 60, "caught_up after the backlog")
    finally:
        samples = sampler.close()
        stop(consumer, thread)
    assert depth_at_start == total  # from the declare at setup
    assert collector.count() == total
    early = [count for flag, count in samples if flag and count < total]
    assert not early, f"caught_up with only {early[0]} of {total} handled"
    assert sum(1 for flag, _ in samples if not flag) > 10  # it was seen not caught up
    assert consumer.queue_depth == 0
    midway = {depth for depth in sampler.depths if depth is not None and 0 < depth < total}
    assert midway, "queue_depth not refreshed while draining"
    assert consumer.last_event_time == (BASE + timedelta(seconds=total - 1)).timestamp()


def test_idle_queue_is_caught_up_and_a_burst_clears_it(rabbitmq_url: str, corpus: Path,
                                                       names: dict[str, str]) -> None:
    collector = Collector(delay=0.002)
    consumer = _consumer(rabbitmq_url, names, collector, busy_after=0.2)
    thread = start(consumer)
    try:
        wait_until(lambda: consumer.caught_up, 5, "caught_up on an empty queue")
        assert consumer.queue_depth == 0
        burst = 600  # >= 1.2 s of handling: longer than busy_after without an idle gap
        sampler = Sampler(consumer, collector)
        publish_bodies(rabbitmq_url, names["exchange"], _bodies(corpus, burst, "c"),
                       "notifications.info")
        wait_until(lambda: collector.count() == burst, 30, "the burst handled")
        wait_until(lambda: consumer.caught_up, 5, "caught_up after the burst")
        samples = sampler.close()
    finally:
        stop(consumer, thread)
    assert any(not flag and 0 < count < burst for flag, count in samples), \
        "caught_up stayed True through a burst"
