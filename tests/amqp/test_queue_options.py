"""The operator's queue options, as the real broker applies them, and a clash with
an existing queue as one clear error instead of a reconnect loop."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from adapters.amqp import NotificationConsumer
from adapters.amqp.queues import QueueMismatch, QueueOptions
from tests.amqp.support import (
    Collector,
    publish_bodies,
    queue_count,
    rabbitmqctl,
    require_rabbitmqctl,
    start,
    stop,
    wait_until,
)

pytestmark = pytest.mark.rabbitmq

LEGACY = "notifications/legacy/nova/designate__compute.instance.create.end.json"


def _bodies(corpus: Path, count: int, tag: str = "m") -> list[bytes]:
    legacy = json.loads((corpus / LEGACY).read_text())
    return [json.dumps(dict(legacy, message_id=f"{tag}-{i}")).encode() for i in range(count)]


def _declare(url: str, names: dict[str, str], **options: object) -> None:
    """Start a consumer (it declares and binds its queue) and stop it again."""
    consumer = NotificationConsumer(url, Collector(), exchanges=[names["exchange"]],
                                    queue_prefix=names["prefix"], **options)  # type: ignore[arg-type]
    stop(consumer, start(consumer))


def _drain(url: str, names: dict[str, str], count: int, **options: object) -> list[str]:
    collector = Collector()
    consumer = NotificationConsumer(url, collector, exchanges=[names["exchange"]],
                                    queue_prefix=names["prefix"], **options)  # type: ignore[arg-type]
    thread = start(consumer)
    try:
        events = collector.wait_for(count, timeout=10)
    finally:
        stop(consumer, thread)
    return sorted(e.id for e in events)


def test_options_become_queue_arguments() -> None:
    assert QueueOptions().arguments() == {}  # unset: declared exactly as before
    assert QueueOptions(message_ttl=3600, max_length=100_000, overflow="reject-publish",
                        queue_type="quorum", single_active_consumer=True).arguments() == {
        "x-message-ttl": 3_600_000, "x-max-length": 100_000, "x-overflow": "reject-publish",
        "x-queue-type": "quorum", "x-single-active-consumer": True}
    for bad in ({"overflow": "drop-tail"}, {"queue_type": "stream"}, {"message_ttl": 0},
                {"max_length": 0}):
        with pytest.raises(ValueError):
            QueueOptions(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("overflow", "kept"), [("drop-head", range(5, 10)),
                                                ("reject-publish", range(5))])
def test_max_length_bounds_a_stopped_workers_queue(rabbitmq_url: str, corpus: Path,
                                                   names: dict[str, str], overflow: str,
                                                   kept: range) -> None:
    options = {"max_length": 5, "overflow": overflow}
    _declare(rabbitmq_url, names, **options)
    publish_bodies(rabbitmq_url, names["exchange"], _bodies(corpus, 10), "notifications.info")
    queue = f"{names['prefix']}.notifications"
    wait_until(lambda: queue_count(rabbitmq_url, queue) == 5, 5, "5 messages in the queue")
    assert _drain(rabbitmq_url, names, 5, **options) == sorted(f"m-{i}" for i in kept)


def test_message_ttl_expires_waiting_messages(rabbitmq_url: str, corpus: Path,
                                              names: dict[str, str]) -> None:
    _declare(rabbitmq_url, names, message_ttl=0.5)
    queue = f"{names['prefix']}.notifications"
    publish_bodies(rabbitmq_url, names["exchange"], _bodies(corpus, 3), "notifications.info")
    assert queue_count(rabbitmq_url, queue) == 3
    wait_until(lambda: queue_count(rabbitmq_url, queue) == 0, 10, "the messages to expire")


def test_quorum_queue_with_single_active_consumer(rabbitmq_url: str, corpus: Path,
                                                  names: dict[str, str]) -> None:
    require_rabbitmqctl()
    options = {"queue_type": "quorum", "single_active_consumer": True}
    active, standby = Collector(), Collector()
    first = NotificationConsumer(rabbitmq_url, active, exchanges=[names["exchange"]],
                                 queue_prefix=names["prefix"], **options)  # type: ignore[arg-type]
    second = NotificationConsumer(rabbitmq_url, standby, exchanges=[names["exchange"]],
                                  queue_prefix=names["prefix"], **options)  # type: ignore[arg-type]
    first_thread = start(first)
    # the first to register is the active one: let it finish before the standby comes
    wait_until(lambda: first.caught_up, 30, "the first consumer to be consuming")
    second_thread = start(second)
    wait_until(lambda: second.connected, 30, "the standby to connect")
    queue = f"{names['prefix']}.notifications"
    try:
        listed = rabbitmqctl("list_queues", "name", "type", "arguments", "--no-table-headers",
                             "-q")
        (line,) = [row for row in listed.splitlines() if row.startswith(queue + "\t")]
        assert line.split("\t")[1] == "quorum"
        assert "x-single-active-consumer" in line
        publish_bodies(rabbitmq_url, names["exchange"], _bodies(corpus, 20, "a"),
                       "notifications.info")
        assert len(active.wait_for(20)) == 20
        assert standby.count() == 0  # one active consumer only
        stop(first, first_thread)  # the standby takes over
        publish_bodies(rabbitmq_url, names["exchange"], _bodies(corpus, 20, "b"),
                       "notifications.info")
        assert sorted(e.id for e in standby.wait_for(20)) == sorted(f"b-{i}" for i in range(20))
    finally:
        first.stop()
        stop(second, second_thread)
    assert active.count() == 20


def test_changed_options_are_one_clear_error(rabbitmq_url: str, names: dict[str, str]) -> None:
    _declare(rabbitmq_url, names, max_length=100, message_ttl=60)
    consumer = NotificationConsumer(rabbitmq_url, Collector(), exchanges=[names["exchange"]],
                                    queue_prefix=names["prefix"], max_length=50,
                                    single_active_consumer=True)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            consumer.run()
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(timeout=20)
    if thread.is_alive():
        consumer.stop()
        pytest.fail("run() still going 20 s after a queue clash: a retry loop")
    assert time.monotonic() - started < 10
    (error,) = outcome
    assert isinstance(error, QueueMismatch)
    queue = f"{names['prefix']}.notifications"
    assert error.queue == queue and error.vhost == "/"
    assert {(m.argument, m.wanted, m.current) for m in error.mismatches} == {
        ("x-max-length", "50", "100"), ("x-message-ttl", "not set", "60000"),
        ("x-single-active-consumer", "True", "not set")}
    assert queue in str(error) and "x-max-length: configured 50, queue has 100" in str(error)
    assert consumer.stats.reconnects == 0
    assert queue_count(rabbitmq_url, queue) == 0  # the queue itself is left as it was


def test_other_durability_is_named_too(rabbitmq_url: str, names: dict[str, str]) -> None:
    queue = f"{names['prefix']}.notifications"
    from kombu import Connection

    with Connection(rabbitmq_url) as conn:  # someone made it transient, with a limit
        conn.channel().queue_declare(queue, durable=False, auto_delete=False,
                                     arguments={"x-max-length": 10})
    consumer = NotificationConsumer(rabbitmq_url, Collector(), exchanges=[names["exchange"]],
                                    queue_prefix=names["prefix"])
    with pytest.raises(QueueMismatch) as caught:
        consumer.run()
    assert {(m.argument, m.wanted, m.current) for m in caught.value.mismatches} == {
        ("durable", "True", "False"), ("x-max-length", "not set", "10")}
