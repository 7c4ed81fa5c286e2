"""``dreamcatcher run`` as a real process: prints events, exits cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Producer

from adapters.amqp.consumer import kombu_url

LEGACY = "notifications/legacy/nova/designate__compute.instance.create.end.json"


def start_worker(exchange: str, prefix: str, *extra: str) -> subprocess.Popen[str]:
    """``dreamcatcher run`` as a real process on its own exchange and queue prefix."""
    return subprocess.Popen(
        [sys.executable, "-m", "dreamcatcher.cli", "run",
         "--transport-url", "rabbit://guest:guest@127.0.0.1:5672/",
         "--exchanges", exchange, "--queue-prefix", prefix, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[2], env={**os.environ, "PYTHONPATH": "."},
    )


def wait_for_queue(conn: Connection, queue: str, timeout: float = 15.0) -> None:
    """Wait until the worker under test has declared and bound its queue."""
    channel = conn.channel()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if channel.queue_declare(queue, passive=True):
                return
        except conn.channel_errors:
            channel = conn.channel()
        time.sleep(0.1)


def delete_worker_queues(url: str, prefix: str) -> None:
    """Remove the queues a test worker declared (its notifications and dead letters)."""
    with Connection(url) as conn:
        channel = conn.channel()
        for queue in (f"{prefix}.notifications", f"{prefix}.dead"):
            try:
                channel.queue_delete(queue)
            except conn.channel_errors:
                channel = conn.channel()


def test_kombu_url() -> None:
    assert kombu_url("rabbit://u:p@h1:5672/") == "amqp://u:p@h1:5672/"
    assert kombu_url("rabbit://u:p@h1:5672,u:p@h2:5672/nova") == (
        "amqp://u:p@h1:5672/nova;amqp://u:p@h2:5672/nova")
    assert kombu_url("amqp://guest:guest@127.0.0.1:5672//") == "amqp://guest:guest@127.0.0.1:5672//"
    with pytest.raises(ValueError):
        kombu_url("localhost")


@pytest.mark.rabbitmq
def test_run_prints_events_and_stops_on_sigterm(rabbitmq_url: str, corpus: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    exchange, prefix = f"dctest-{tag}-nova", f"dctest-{tag}"
    proc = start_worker(exchange, prefix, "--print-events")
    try:
        with Connection(rabbitmq_url) as conn:
            wait_for_queue(conn, f"{prefix}.notifications")
            time.sleep(0.3)
            legacy = json.loads((corpus / LEGACY).read_text())
            producer = Producer(conn.channel(),
                                exchange=Exchange(exchange, type="topic", durable=False))
            for i in range(5):
                producer.publish(json.dumps(dict(legacy, message_id=f"cli-{i}")),
                                 routing_key="notifications.info")
        assert proc.stdout is not None
        lines = [json.loads(proc.stdout.readline()) for _ in range(5)]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        with Connection(rabbitmq_url) as conn:
            channel = conn.channel()
            remaining = channel.queue_declare(f"{prefix}.notifications", passive=True)
            for queue in (f"{prefix}.notifications", f"{prefix}.dead"):
                channel.queue_delete(queue)
            channel.exchange_delete(exchange)
    assert [line["id"] for line in lines] == [f"cli-{i}" for i in range(5)]
    assert lines[0]["type"] == "compute.instance.create.end"
    assert lines[0]["instance_id"] == "3e301a55-fbbe-478d-92d0-eefabf135c38"
    assert remaining.message_count == 0  # all acked before exit


@pytest.mark.rabbitmq
def test_run_turns_live_notifications_into_alerts(
    rabbitmq_url: str, corpus: Path, tmp_path: Path
) -> None:
    """A real notification on the bus reaches the rules and comes out as an alert."""
    rule = tmp_path / "created.yaml"
    rule.write_text(
        "rule: created\nseverity: info\nwhen: {event: compute.instance.create.end}\n"
        "alert: {title: 'built {{ event.instance_id }} on {{ event.host }}'}\n"
    )
    tag = uuid.uuid4().hex[:8]
    exchange, prefix = f"dctest-{tag}-nova", f"dctest-{tag}"
    proc = start_worker(exchange, prefix, "--rules", str(rule), "--format", "json")
    try:
        with Connection(rabbitmq_url) as conn:
            wait_for_queue(conn, f"{prefix}.notifications")
            legacy = json.loads((corpus / LEGACY).read_text())
            producer = Producer(conn.channel(),
                                exchange=Exchange(exchange, type="topic", durable=False))
            for i in range(2):
                producer.publish(json.dumps(dict(legacy, message_id=f"alert-{i}")),
                                 routing_key="notifications.info")
            # a redelivery of the first message (same id) must not alert again
            producer.publish(json.dumps(dict(legacy, message_id="alert-0")),
                             routing_key="notifications.info")
        assert proc.stdout is not None
        alerts = [json.loads(proc.stdout.readline()) for _ in range(2)]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        rest = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        delete_worker_queues(rabbitmq_url, prefix)
    instance = legacy["payload"]["instance_id"]
    assert [a["rule"] for a in alerts] == ["created", "created"]
    assert alerts[0]["title"] == f"built {instance} on {legacy['payload']['host']}"
    assert [a["event_ids"] for a in alerts] == [["alert-0"], ["alert-1"]]
    assert rest.strip() == ""  # the redelivered message fired nothing
