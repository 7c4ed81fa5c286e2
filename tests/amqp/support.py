"""Helpers for the consumer's tests against the real local RabbitMQ.

Services publish through a real ``oslo_messaging.Notifier``, as OpenStack does.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from kombu import Connection, Exchange, Producer

from adapters.amqp import NotificationConsumer
from engine.events import Event
from tests.conftest import IN_CI


class Collector:
    """The handler: records every batch; can be told to fail or to be slow."""

    def __init__(self, delay: float = 0.0) -> None:
        self.events: list[Event] = []
        self.lock = threading.Lock()
        self.delay = delay
        self.fail_next = 0

    def __call__(self, batch: list[Event]) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("engine store unavailable")
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.events.extend(batch)

    def count(self) -> int:
        with self.lock:
            return len(self.events)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Event]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.events) >= count:
                    break
            time.sleep(0.02)
        time.sleep(0.2)  # let any stray duplicate show up
        with self.lock:
            return list(self.events)


def start(consumer: NotificationConsumer) -> threading.Thread:
    """Run the consumer on a thread; return once it is bound and consuming."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            consumer.run()
        except BaseException as exc:  # surfaced by the wait below
            errors.append(exc)
            raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while consumer._channel is None and time.monotonic() < deadline and not errors:
        time.sleep(0.02)
    if errors:
        raise errors[0]
    assert consumer._channel is not None, "consumer not consuming within 10 s"
    return thread


def stop(consumer: NotificationConsumer, thread: threading.Thread) -> None:
    consumer.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.02)


def oslo_url(url: str) -> str:
    """kombu ``amqp://u:p@h:5672//`` or ``.../vhost`` → oslo.messaging ``rabbit://``."""
    _, _, rest = url.partition("://")
    hosts, _, vhost = rest.partition("/")
    return f"rabbit://{hosts}/{'' if vhost == '/' else vhost}"


def notifier(url: str, exchange: str | None, *, driver: str = "messagingv2",
             publisher: str = "compute.stack01", topics: Sequence[str] = ("notifications",),
             durable: bool = False) -> Any:
    """A real Notifier; ``exchange`` is the service's ``control_exchange`` (``None``: unset).

    ``durable`` is the service's ``[oslo_messaging_rabbit] amqp_durable_queues``.
    """
    import oslo_messaging
    from oslo_config import cfg

    oslo_messaging.set_transport_defaults(control_exchange=exchange or "openstack")
    conf = cfg.ConfigOpts()
    conf([], project="dreamcatcher-test")
    transport_url = oslo_url(url)
    if durable:
        transport_url += "?amqp_durable_queues=true"
    transport = oslo_messaging.get_notification_transport(conf, url=transport_url)
    oslo_messaging.set_transport_defaults(control_exchange="openstack")
    return oslo_messaging.Notifier(transport, publisher_id=publisher, driver=driver,
                                   topics=list(topics))


def context(request_id: str) -> Any:
    from oslo_context import context as oslo_context

    return oslo_context.RequestContext(request_id=request_id, project_id="proj-1",
                                       user_id="user-1")


def publish_bodies(url: str, exchange: str, bodies: list[bytes], key: str) -> None:
    with Connection(url) as conn:
        producer = Producer(conn.channel(),  # declared as oslo.messaging does (not durable)
                            exchange=Exchange(exchange, type="topic", durable=False))
        for body in bodies:
            producer.publish(body, routing_key=key, delivery_mode=2)


def rabbitmqctl(*args: str, timeout: float = 120) -> str:
    done = subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, text=True,
                          timeout=timeout)
    return done.stdout


def queue_count(url: str, queue: str) -> int | None:
    """Messages ready in ``queue`` (``None``: no such queue)."""
    from adapters.amqp.queues import passive_count

    with Connection(url) as conn:
        conn.connect()
        return passive_count(conn, queue)


def restart_broker(url: str, timeout: float = 120) -> None:
    """``rabbitmqctl stop_app`` then ``start_app``, always, and wait until it takes
    connections again. Every client of the local broker is disconnected meanwhile."""
    try:
        rabbitmqctl("stop_app", timeout=timeout)
        time.sleep(1.0)
    finally:
        rabbitmqctl("start_app", timeout=timeout)
    rabbitmqctl("await_startup", timeout=timeout)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with Connection(url, connect_timeout=2) as conn:
                conn.connect()
                return
        except Exception as exc:
            if time.monotonic() > deadline:
                raise AssertionError(f"broker not back {timeout:.0f}s after start_app: "
                                     f"{exc}") from exc
            time.sleep(0.5)


def require_rabbitmqctl() -> None:
    try:
        rabbitmqctl("status", timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        reason = f"rabbitmqctl not usable here: {exc}"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: broker tests must run, not skip)")
        pytest.skip(reason)
