"""The HTTP endpoint, scraped for real over a socket with httpx."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from pydantic import ValidationError

from dreamcatcher.httpd import Conditions, HttpConfig, OpsServer, threads_alive
from dreamcatcher.metrics import Metrics
from tests.ops.scrape import value


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def ready() -> Conditions:
    return Conditions("broker connected", "inventory seeded")


@pytest.fixture
def worker_thread() -> Iterator[tuple[threading.Thread, threading.Event]]:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="engine", daemon=True)
    thread.start()
    yield thread, stop
    stop.set()
    thread.join()


@pytest.fixture
def server(metrics: Metrics, ready: Conditions,
           worker_thread: tuple[threading.Thread, threading.Event]) -> Iterator[str]:
    thread, _ = worker_thread
    ops = OpsServer(HttpConfig(port=0), metrics, healthy=threads_alive(lambda: [thread]),
                    ready=ready)
    with ops:
        yield f"http://127.0.0.1:{ops.port}"
    assert not ops.thread.is_alive()


def test_metrics_scraped_over_http(server: str, metrics: Metrics) -> None:
    metrics.event_in("amqp", "port.update.end")
    metrics.firing("dhcp-lease-lost")
    reply = httpx.get(f"{server}/metrics", timeout=5)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain; version=")
    assert value(reply.text, "dreamcatcher_events_total", source="amqp",
                 type="port.update.end") == 1
    metrics.firing("dhcp-lease-lost")
    again = httpx.get(f"{server}/metrics", timeout=5).text
    assert value(again, "dreamcatcher_firings_total", rule="dhcp-lease-lost") == 2


def test_ready_once_every_condition_holds(server: str, ready: Conditions) -> None:
    reply = httpx.get(f"{server}/readyz", timeout=5)
    assert reply.status_code == 503
    assert reply.text.splitlines() == ["not yet: broker connected", "not yet: inventory seeded"]
    ready.set("inventory seeded")
    reply = httpx.get(f"{server}/readyz", timeout=5)
    assert (reply.status_code, reply.text) == (503, "not yet: broker connected\n")
    ready.set("broker connected")
    reply = httpx.get(f"{server}/readyz", timeout=5)
    assert (reply.status_code, reply.text) == (200, "ok\n")
    ready.set("broker connected", False)  # the broker went away: not ready again
    assert httpx.get(f"{server}/readyz", timeout=5).status_code == 503


def test_healthy_while_threads_run(
        server: str, worker_thread: tuple[threading.Thread, threading.Event]) -> None:
    thread, stop = worker_thread
    assert httpx.get(f"{server}/healthz", timeout=5).status_code == 200
    stop.set()
    thread.join()
    reply = httpx.get(f"{server}/healthz", timeout=5)
    assert (reply.status_code, reply.text) == (503, "thread engine is not running\n")


def test_unknown_path_and_head(server: str) -> None:
    assert httpx.get(f"{server}/nope", timeout=5).status_code == 404
    head = httpx.head(f"{server}/healthz", timeout=5)
    assert head.status_code == 200 and head.content == b""


def test_a_raising_probe_is_unhealthy(metrics: Metrics) -> None:
    def broken() -> tuple[bool, list[str]]:
        raise RuntimeError("boom")

    with OpsServer(HttpConfig(port=0), metrics, ready=broken) as ops:
        reply = httpx.get(f"http://127.0.0.1:{ops.port}/readyz", timeout=5)
    assert reply.status_code == 503 and "boom" in reply.text


def test_config_is_strict() -> None:
    assert HttpConfig().port == 9469 and HttpConfig().bind == "127.0.0.1"
    with pytest.raises(ValidationError):
        HttpConfig.model_validate({"port": 70000})
    with pytest.raises(ValidationError):
        HttpConfig.model_validate({"host": "0.0.0.0"})
