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
    proc = subprocess.Popen(
        [sys.executable, "-m", "dreamcatcher.cli", "run",
         "--transport-url", "rabbit://guest:guest@127.0.0.1:5672/",
         "--exchanges", exchange, "--queue-prefix", prefix],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[2], env={**os.environ, "PYTHONPATH": "."},
    )
    try:
        with Connection(rabbitmq_url) as conn:
            channel = conn.channel()
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:  # wait for the worker to bind its queue
                try:
                    if channel.queue_declare(f"{prefix}.notifications", passive=True):
                        break
                except conn.channel_errors:
                    channel = conn.channel()
                time.sleep(0.1)
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
