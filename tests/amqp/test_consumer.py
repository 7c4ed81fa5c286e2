"""Against the real local RabbitMQ: publish as OpenStack does (oslo.messaging Notifier).

Each test uses its own exchange and queue names, so it neither steals from
nor is disturbed by anything else on the broker.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from kombu import Connection

from adapters.amqp import NotificationConsumer
from adapters.amqp.deadletter import REASON_HEADER
from engine.events import Event
from tests.amqp.support import (
    Collector,
    context,
    notifier,
    publish_bodies,
    require_rabbitmqctl,
    restart_broker,
)
from tests.amqp.support import start as _start
from tests.amqp.support import stop as _stop

pytestmark = pytest.mark.rabbitmq

LEGACY = "notifications/legacy/nova/designate__compute.instance.create.end.json"
VERSIONED = "notifications/nova-versioned-expanded/watcher__instance-create-end.json"


@pytest.mark.parametrize("driver", ["messaging", "messagingv2"])
def test_notifier_both_drivers(rabbitmq_url: str, corpus: Path, names: dict[str, str],
                               driver: str) -> None:
    collector = Collector()
    consumer = NotificationConsumer(rabbitmq_url, collector, exchanges=[names["exchange"]],
                                    queue_prefix=names["prefix"])
    thread = _start(consumer)
    try:
        legacy_notifier = notifier(rabbitmq_url, names["exchange"], driver=driver)
        legacy = json.loads((corpus / LEGACY).read_text())
        versioned = json.loads((corpus / VERSIONED).read_text())
        sent: dict[str, str] = {}
        for i in range(20):
            payload = dict(legacy["payload"], instance_id=f"inst-{i}")
            legacy_notifier.info(context(f"req-{i}"), "compute.instance.create.end", payload)
            sent[f"inst-{i}"] = f"req-{i}"
        versioned_notifier = notifier(rabbitmq_url, names["exchange"], driver=driver,
                                      publisher="nova-compute:stack01",
                                      topics=["versioned_notifications"])
        versioned_notifier.error(context("req-v"), "instance.create.end", versioned["payload"])
        events = collector.wait_for(21)
    finally:
        _stop(consumer, thread)
    assert len(events) == 21
    legacy_events = [e for e in events if e.type == "compute.instance.create.end"]
    assert {e.instance_id: e.request_id for e in legacy_events} == sent
    for event in legacy_events:
        assert uuid.UUID(event.id)  # oslo's message_id, not a derived hash
        assert event.severity == "info" and event.service == "nova" and event.host == "stack01"
        assert event.project_id == legacy["payload"]["tenant_id"]
        assert event.image_id == "e52f1321-fb9e-40fb-8057-555a850462e8"
    (v_event,) = [e for e in events if e.type == "instance.create.end"]
    assert v_event.severity == "error"
    assert v_event.instance_id == versioned["payload"]["nova_object.data"]["uuid"]
    assert v_event.request_id == "req-v"
    assert v_event.raw["publisher_id"] == "nova-compute:stack01"
    assert consumer.stats.dead_lettered == 0


def test_poison_message_goes_to_dead_letter_queue(rabbitmq_url: str, corpus: Path,
                                                  names: dict[str, str]) -> None:
    collector = Collector()
    consumer = NotificationConsumer(rabbitmq_url, collector, exchanges=[names["exchange"]],
                                    queue_prefix=names["prefix"])
    thread = _start(consumer)
    good = (corpus / LEGACY).read_bytes()
    poison = [b"\x00\xffnot json at all", b'{"oslo.version": "2.0", "oslo.message": "{"}',
              b'{"payload": {}, "priority": "INFO"}']
    try:
        publish_bodies(rabbitmq_url, names["exchange"], [*poison, good], "notifications.info")
        events = collector.wait_for(1)
    finally:
        _stop(consumer, thread)
    assert [e.type for e in events] == ["compute.instance.create.end"]  # still alive after poison
    assert consumer.stats.dead_lettered == 3
    dead: list[tuple[bytes, str]] = []
    with Connection(rabbitmq_url) as conn:
        channel = conn.channel()
        while (message := channel.basic_get(f"{names['prefix']}.dead", no_ack=True)) is not None:
            dead.append((message.body, message.headers[REASON_HEADER]))
    assert [body for body, _ in dead] == poison  # the original bytes, unchanged
    reasons = [reason for _, reason in dead]
    assert "not JSON" in reasons[0] and "oslo.message is not JSON" in reasons[1]
    assert reasons[2] == "no event_type"


def test_handler_failure_requeues_the_batch(rabbitmq_url: str, corpus: Path,
                                            names: dict[str, str]) -> None:
    collector = Collector()
    collector.fail_next = 2
    consumer = NotificationConsumer(rabbitmq_url, collector, exchanges=[names["exchange"]],
                                    queue_prefix=names["prefix"])
    thread = _start(consumer)
    legacy = json.loads((corpus / LEGACY).read_text())
    bodies = [json.dumps(dict(legacy, message_id=f"m-{i}")).encode() for i in range(50)]
    try:
        publish_bodies(rabbitmq_url, names["exchange"], bodies, "notifications.info")
        events = collector.wait_for(50)
    finally:
        _stop(consumer, thread)
    assert consumer.stats.handler_failures == 2
    assert sorted(e.id for e in events) == sorted(f"m-{i}" for i in range(50))


@pytest.mark.broker_restart
def test_broker_restart_loses_nothing_duplicates_nothing(
    rabbitmq_url: str, corpus: Path, names: dict[str, str],
) -> None:
    """Restarts the local broker (rabbitmqctl stop_app/start_app) mid-stream: the
    running consumer reconnects; nothing in its durable queue is lost or doubled."""
    require_rabbitmqctl()
    total = 3000
    collector = Collector(delay=0.003)  # slow per message: the restart lands mid-stream
    consumer = NotificationConsumer(rabbitmq_url, collector, exchanges=[names["exchange"]],
                                    queue_prefix=names["prefix"], max_backoff=1.0)
    thread = _start(consumer)  # declares the durable queue and its bindings
    service = notifier(rabbitmq_url, names["exchange"])
    legacy = json.loads((corpus / LEGACY).read_text())
    for i in range(total):
        service.info(context(f"req-{i}"), "compute.instance.create.end",
                      dict(legacy["payload"], instance_id=f"inst-{i}"))
    try:
        collector.wait_for(total // 4, timeout=30)
        restart_broker(rabbitmq_url)
        events = collector.wait_for(total, timeout=60)
    finally:
        _stop(consumer, thread)
    assert consumer.stats.reconnects >= 1
    ids = [e.instance_id for e in events]
    assert len(ids) == total, f"{len(ids)} events, {len(set(ids))} distinct"
    assert set(ids) == {f"inst-{i}" for i in range(total)}




def test_each_message_is_handed_on_at_once_and_acked_when_idle(
    rabbitmq_url: str, corpus: Path, names: dict[str, str],
) -> None:
    """A lone message neither waits for its batch to fill nor for flush_interval."""
    collector = Collector()
    consumer = NotificationConsumer(rabbitmq_url, collector, exchanges=[names["exchange"]],
                                    queue_prefix=names["prefix"], batch_size=100,
                                    flush_interval=60.0, idle_ack=0.002)
    thread = _start(consumer)
    legacy = json.loads((corpus / LEGACY).read_text())
    try:
        sent = time.monotonic()
        publish_bodies(rabbitmq_url, names["exchange"],
                        [json.dumps(dict(legacy, message_id="lone")).encode()],
                        "notifications.info")
        events = collector.wait_for(1, timeout=10)
        handed_on = time.monotonic() - sent
        deadline = time.monotonic() + 5
        while consumer.stats.batches == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        acked_while_running = consumer.stats.batches
    finally:
        _stop(consumer, thread)
    assert [e.id for e in events] == ["lone"]
    assert handed_on < 5  # far below flush_interval: not held for a batch
    assert acked_while_running == 1  # the idle ack, long before flush_interval


def test_backlog_is_handed_on_one_by_one_and_acked_in_batches(
    rabbitmq_url: str, corpus: Path, names: dict[str, str],
) -> None:
    calls: list[int] = []
    collector = Collector()

    def handler(batch: list[Event]) -> None:
        calls.append(len(batch))
        collector(batch)

    consumer = NotificationConsumer(rabbitmq_url, handler, exchanges=[names["exchange"]],
                                    queue_prefix=names["prefix"], batch_size=100)
    _stop(consumer, _start(consumer))  # declare the queue and bindings, then go away
    legacy = json.loads((corpus / LEGACY).read_text())
    publish_bodies(rabbitmq_url, names["exchange"],
                    [json.dumps(dict(legacy, message_id=f"b-{i}")).encode() for i in range(250)],
                    "notifications.info")
    consumer = NotificationConsumer(rabbitmq_url, handler, exchanges=[names["exchange"]],
                                    queue_prefix=names["prefix"], batch_size=100)
    thread = _start(consumer)
    try:
        events = collector.wait_for(250)
    finally:
        _stop(consumer, thread)
    assert sorted(e.id for e in events) == sorted(f"b-{i}" for i in range(250))
    assert set(calls) == {1}  # each message handed on as it arrives
    assert 3 <= consumer.stats.batches <= 25  # ...but acked in batches, not one by one
    with Connection(rabbitmq_url) as conn:  # and every one acked by the time it stopped
        assert conn.channel().queue_declare(f"{names['prefix']}.notifications",
                                            passive=True).message_count == 0
