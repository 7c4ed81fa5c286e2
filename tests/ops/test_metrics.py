"""The worker's metrics: counts by label, bounded label values, scrape-time callbacks."""

from __future__ import annotations

import random
import socket
import time

import pytest
from prometheus_client import CollectorRegistry, Counter, generate_latest

from dreamcatcher.metrics import Metrics, kernel_udp_drops, reason_class
from tests.ops.scrape import samples, value


def test_counts_by_label() -> None:
    m = Metrics()
    for _ in range(3):
        m.event_in("amqp", "instance.create.end")
    m.event_in("syslog", "switch.stp.bpdu_guard")
    m.unparsed("syslog", 2)
    m.ignored("files", 5)
    m.firing("bpdu-guard-trip")
    m.notice("chat", "delivered")
    m.notice("chat", "dead_lettered")
    m.delivery_failure("chat")
    m.udp_dropped("syslog-udp", 4)
    text = m.render().decode()
    assert value(text, "dreamcatcher_events_total", source="amqp",
                 type="instance.create.end") == 3
    assert value(text, "dreamcatcher_events_total", source="syslog",
                 type="switch.stp.bpdu_guard") == 1
    assert value(text, "dreamcatcher_log_lines_unparsed_total", source="syslog") == 2
    assert value(text, "dreamcatcher_log_lines_ignored_total", source="files") == 5
    assert value(text, "dreamcatcher_firings_total", rule="bpdu-guard-trip") == 1
    assert value(text, "dreamcatcher_notices_total", sink="chat", outcome="delivered") == 1
    assert value(text, "dreamcatcher_notices_total", sink="chat", outcome="dead_lettered") == 1
    assert value(text, "dreamcatcher_delivery_failures_total", sink="chat") == 1
    assert value(text, "dreamcatcher_udp_dropped_total", listener="syslog-udp") == 4


@pytest.mark.parametrize(("reason", "expected"), [
    ("not JSON: unexpected character: line 1 column 1 (char 0)", "not json"),
    ("syslog parse failed: ValueError('bad PRI <999>')", "syslog parse failed"),
    ("cinder parser failed: KeyError('x')", "cinder parser failed"),
    ("no mapping for event type foo.bar from exchange nova and a lot more", "no mapping for"),
    ("", "unknown"),
])
def test_reason_class(reason: str, expected: str) -> None:
    assert reason_class(reason) == expected


def test_dead_letters_by_reason_class_not_free_text() -> None:
    m = Metrics()
    for i in range(50):
        m.dead_letter(f"not JSON: unexpected character at byte {i}")
    m.dead_letter("syslog parse failed: ValueError('x')")
    found = {labels: v for (name, labels), v in samples(m.render().decode()).items()
             if name == "dreamcatcher_dead_letters_total"}
    assert found == {(("reason", "not json"),): 50, (("reason", "syslog parse failed"),): 1}


def test_label_values_are_bounded() -> None:
    m = Metrics(max_series=10)
    for i in range(100):
        m.event_in("amqp", f"made.up.{i}")
    events = {labels: v for (name, labels), v in samples(m.render().decode()).items()
              if name == "dreamcatcher_events_total"}
    assert len(events) == 11  # ten kept, one "other"
    assert events[(("source", "other"), ("type", "other"))] == 90
    assert sum(events.values()) == 100


def test_ack_latency_histogram() -> None:
    m = Metrics()
    for seconds in (0.0003, 0.002, 0.002, 0.2):
        m.ack_latency(seconds)
    text = m.render().decode()
    assert value(text, "dreamcatcher_ack_latency_seconds_count") == 4
    assert value(text, "dreamcatcher_ack_latency_seconds_bucket", le="0.0025") == 3
    assert value(text, "dreamcatcher_ack_latency_seconds_bucket", le="0.1") == 3
    assert value(text, "dreamcatcher_ack_latency_seconds_sum") == pytest.approx(0.2043)


def test_callbacks_read_at_scrape_time() -> None:
    m = Metrics()
    sizes = {"fact": 3, "timer": 1}
    depth = {"amqp": 0}
    m.watch_store(lambda: sizes)
    m.watch_queues(lambda: depth)
    m.watch_lag(lambda: 1.5)
    text = m.render().decode()
    assert value(text, "dreamcatcher_store_entries", kind="fact") == 3
    assert value(text, "dreamcatcher_queue_depth", source="amqp") == 0
    assert value(text, "dreamcatcher_watermark_lag_seconds") == 1.5
    sizes["fact"] = 7
    depth["amqp"] = 12_000
    text = m.render().decode()
    assert value(text, "dreamcatcher_store_entries", kind="fact") == 7
    assert value(text, "dreamcatcher_queue_depth", source="amqp") == 12_000


def test_a_failing_callback_does_not_break_the_scrape() -> None:
    m = Metrics()
    m.watch_store(lambda: 1 // 0)  # type: ignore[arg-type,return-value]
    m.firing("r")
    text = m.render().decode()
    assert value(text, "dreamcatcher_firings_total", rule="r") == 1
    assert value(text, "dreamcatcher_store_entries", kind="fact") is None


def test_two_instances_do_not_share_counts() -> None:
    a, b = Metrics(), Metrics()
    a.firing("r")
    assert value(b.render().decode(), "dreamcatcher_firings_total", rule="r") is None


def test_kernel_udp_drops_seen_on_a_real_socket() -> None:
    """A receiver that does not read: the kernel drops datagrams once its buffer is full."""
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    rx.bind(("127.0.0.1", 0))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        assert kernel_udp_drops(rx) == 0
        for _ in range(500):
            tx.sendto(b"<14>x" * 200, rx.getsockname())
        time.sleep(0.1)
        drops = kernel_udp_drops(rx)
        assert 0 < drops <= 500
        m = Metrics()
        m.watch_udp_sockets(lambda: {"syslog-udp": rx})
        assert value(m.render().decode(), "dreamcatcher_udp_kernel_dropped_total",
                     listener="syslog-udp") == drops
    finally:
        rx.close()
        tx.close()


def test_cached_children_count_as_the_plain_code() -> None:
    """The speed trick (children bound once, looked up in a dict) against prometheus_client's
    own ``labels(...).inc()`` on the same sequence."""
    rng = random.Random(13)
    sequence = [(rng.choice(["amqp", "syslog", "files"]), f"type.{rng.randrange(40)}")
                for _ in range(5000)]
    m = Metrics()
    plain_registry = CollectorRegistry()
    plain = Counter("dreamcatcher_events", "plain", ["source", "type"], registry=plain_registry)
    for source, event_type in sequence:
        m.event_in(source, event_type)
        plain.labels(source, event_type).inc()

    def counts(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        return {k: v for k, v in samples(text).items() if k[0] == "dreamcatcher_events_total"}

    assert counts(m.render().decode()) == counts(generate_latest(plain_registry).decode())
    assert sum(counts(m.render().decode()).values()) == len(sequence)
