"""OpenStack's standard second consumer: an extra topic in the services'
``[oslo_messaging_notifications] topics``, whose queues the notifier declares itself.

The worker consumes ``dreamcatcher.<priority>`` (declared only passively: the
service's own declare decides its arguments). Each test has a vhost of its own.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from adapters.amqp import NotificationConsumer
from adapters.amqp.consumer import publisher_queues
from tests.amqp.support import (
    Collector,
    context,
    notifier,
    queue_count,
    require_rabbitmqctl,
    restart_broker,
    start,
    stop,
    wait_until,
)

pytestmark = pytest.mark.rabbitmq

LEGACY = "notifications/legacy/nova/designate__compute.instance.create.end.json"
TOPICS = ["notifications", "dreamcatcher"]


def _publish(service: object, payload: dict[str, object], tag: str, count: int) -> set[str]:
    sent = set()
    for i in range(count):
        instance = f"{tag}-{i}"
        service.info(context(f"req-{instance}"), "compute.instance.create.end",  # type: ignore[attr-defined]
                     dict(payload, instance_id=instance))
        sent.add(instance)
    return sent


def _worker(url: str, collector: Collector, **options: object) -> NotificationConsumer:
    return NotificationConsumer(url, collector, own_queue=False,
                                queues=publisher_queues("dreamcatcher"), **options)  # type: ignore[arg-type]


def test_queue_declared_later_by_the_publisher_is_consumed(vhost_url: str,
                                                           corpus: Path) -> None:
    payload = json.loads((corpus / LEGACY).read_text())["payload"]
    collector = Collector()
    consumer = _worker(vhost_url, collector, refresh_interval=0.3)
    thread = start(consumer)  # no service has published yet: no such queues
    try:
        wait_until(lambda: consumer.caught_up, 5, "caught_up with nothing to read")
        assert queue_count(vhost_url, "dreamcatcher.info") is None  # we did not declare it
        sent = _publish(notifier(vhost_url, "nova", topics=TOPICS), payload, "late", 20)
        events = collector.wait_for(20, timeout=15)
    finally:
        stop(consumer, thread)
    assert {e.instance_id for e in events} == sent and len(events) == 20


@pytest.mark.broker_restart
@pytest.mark.timeout(300)
@pytest.mark.parametrize("durable", [False, True], ids=["transient", "amqp_durable_queues"])
def test_broker_restart_while_worker_is_stopped_loses_nothing(vhost_url: str, corpus: Path,
                                                              durable: bool) -> None:
    """Restarts the local RabbitMQ (rabbitmqctl stop_app, then start_app, always; waits
    until it is back). Services publish with ``topics = notifications,dreamcatcher``
    while the worker is stopped: after the restart and, with ``amqp_durable_queues``,
    before it too. The worker started afterwards gets every one of them, once."""
    require_rabbitmqctl()
    payload = json.loads((corpus / LEGACY).read_text())["payload"]
    nova = notifier(vhost_url, "nova", topics=TOPICS, durable=durable)
    cinder = notifier(vhost_url, None, topics=TOPICS, durable=durable,
                      publisher="volume.host-2")
    sent: set[str] = set()
    if durable:  # a transient queue cannot outlive the broker: nothing to expect from it
        sent |= _publish(nova, payload, "nova-before", 100)
        sent |= _publish(cinder, payload, "cinder-before", 100)
        assert (queue_count(vhost_url, "dreamcatcher.info") or 0) >= 200
    restart_broker(vhost_url)
    sent |= _publish(nova, payload, "nova-after", 100)
    sent |= _publish(cinder, payload, "cinder-after", 100)
    wait_until(lambda: (queue_count(vhost_url, "dreamcatcher.info") or 0) >= len(sent), 30,
               f"{len(sent)} notifications waiting in dreamcatcher.info "
               f"(has {queue_count(vhost_url, 'dreamcatcher.info')})")
    collector = Collector()
    consumer = _worker(vhost_url, collector)
    thread = start(consumer)
    try:
        events = collector.wait_for(len(sent), timeout=30)
        wait_until(lambda: consumer.caught_up, 10, "caught_up after the backlog")
    finally:
        stop(consumer, thread)
    received = {e.instance_id for e in events}
    lost = sent - received
    assert not lost, f"{len(lost)} of {len(sent)} lost, e.g. {sorted(lost)[:5]}"
    # a notifier may publish a message twice when its connection drops mid-publish (it
    # retries, unconfirmed): the copies share the message id, which the engine dedups
    assert len({e.id for e in events}) == len(sent)
    time.sleep(0.1)
    assert queue_count(vhost_url, "dreamcatcher.info") == 0
