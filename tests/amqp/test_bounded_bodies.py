"""Against the real RabbitMQ: bodies nested too deep are dead letters, not a reconnect loop.

Before the bound, each such body crashed the engine in the snapshot an open
expectation keeps (``orjson``: recursion limit), the batch was not acked, the
consumer reconnected, and the redelivery was dropped by the dedup mark set on
the first try: lost with no dead letter.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection

from adapters.amqp import NotificationConsumer
from adapters.amqp.deadletter import REASON_HEADER
from adapters.notifications.bounds import MAX_DEPTH
from engine.engine import Engine
from engine.events import Event
from engine.loader import load_rules
from tests.amqp.support import publish_bodies, wait_until
from tests.amqp.support import start as _start
from tests.amqp.support import stop as _stop
from tests.notifications.test_bounds import START, dumps, nested
from tests.paths import CREATE_NEVER_ENDED

pytestmark = pytest.mark.rabbitmq

def _body(template: dict[str, Any], i: int, deep: bool) -> bytes:
    message = dict(template, message_id=f"msg-{i}",
                   payload=dict(template["payload"], instance_id=f"inst-{i}",
                                display_name=nested(300) if deep else f"vm-{i}"))
    return dumps({"oslo.version": "2.0", "oslo.message": dumps(message).decode()})


def test_deep_bodies_among_normal_ones_are_dead_lettered(rabbitmq_url: str, corpus: Path,
                                                         names: dict[str, str]) -> None:
    engine = Engine(load_rules([CREATE_NEVER_ENDED]))
    opened: list[Event] = []

    def handler(events: list[Event]) -> None:  # what the worker's engine thread does
        engine.process_many(events)
        opened.extend(events)

    consumer = NotificationConsumer(rabbitmq_url, handler, exchanges=[names["exchange"]],
                                    queue_prefix=names["prefix"])
    template = json.loads((corpus / START).read_text())
    deep = {i for i in range(0, 5100, 51)}  # 100 of 5,100, spread through the stream
    bodies = [_body(template, i, i in deep) for i in range(5100)]
    thread = _start(consumer)
    try:
        publish_bodies(rabbitmq_url, names["exchange"], bodies, "notifications.info")
        wait_until(lambda: consumer.stats.events + consumer.stats.dead_lettered >= 5100
                   or consumer.stats.handler_failures > 0, 120, "every body handled")
    finally:
        _stop(consumer, thread)
    stats = consumer.stats
    assert (stats.events, stats.dead_lettered) == (5000, 100)
    assert stats.handler_failures == 0 and stats.reconnects == 0
    assert len({e.instance_id for e in opened}) == 5000
    dead: list[tuple[bytes, str]] = []
    with Connection(rabbitmq_url) as conn:
        channel = conn.channel()
        while (message := channel.basic_get(f"{names['prefix']}.dead", no_ack=True)) is not None:
            dead.append((message.body, message.headers[REASON_HEADER]))
    assert sorted(dead) == sorted((bodies[i], f"nested deeper than {MAX_DEPTH} levels")
                                  for i in deep)
