"""A worker started on a backlog: no absence fires whose ``then`` is still in the queue.

The worker was down for a while; 10,000 notifications wait in its queue, old
by the wall clock: 5,000 boots that started and finished (each ``end`` 10 s
after its ``start``), and 100 that never finished. Only the 100 may alert. The
failure this guards against: the wall clock moving event time past the
deadlines while the backlog is still being read (measured before the fix:
2,656 of 5,000 false absences).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection, Exchange, Producer

from tests.live.proc import WorkerProcess, jsonl, wait_for, write_config

LEGACY = "notifications/legacy/nova/designate__compute.instance.create.{}.json"
RULE = """\
rule: boot-never-finished
severity: warning
when:
  expect:
    first: {event: compute.instance.create.start}
    then: {event: compute.instance.create.end}
    by: [instance_id]
    within: 60s
alert:
  title: "boot of {{ event.instance_id }} never finished"
  group_by: [event.instance_id]
"""


def _notification(template: dict[str, Any], instance: str, at: datetime) -> str:
    body = json.loads(json.dumps(template))
    body["message_id"] = str(uuid.uuid4())
    body["timestamp"] = at.strftime("%Y-%m-%d %H:%M:%S.%f")
    body["payload"]["instance_id"] = instance
    return json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(body)})


@pytest.mark.rabbitmq
def test_a_backlog_fires_no_absence_whose_then_is_in_it(
    rabbitmq_url: str, corpus: Path, tmp_path: Path
) -> None:
    start = json.loads((corpus / LEGACY.format("start")).read_text())
    end = json.loads((corpus / LEGACY.format("end")).read_text())
    tag = uuid.uuid4().hex[:8]
    exchange, prefix = f"dctest-{tag}-nova", f"dctest-{tag}"
    (tmp_path / "rule.yaml").write_text(RULE)
    sink = tmp_path / "alerts.jsonl"
    config = write_config(tmp_path / "deploy.yaml", {
        "sources": {"amqp": {"transport_url": "rabbit://guest:guest@127.0.0.1:5672/",
                             "exchanges": [exchange], "queue_prefix": prefix}},
        "rules": [str(tmp_path / "rule.yaml")],
        "clock": {"mode": "wall", "tick": "0.2s"},
        "alerting": {"sinks": [{"type": "jsonl", "url": str(sink)}]},
    })
    base = datetime.now(UTC) - timedelta(hours=2)
    never = {f"never-{n:03d}" for n in range(100)}
    try:
        # the worker declares and binds its queue, then goes down
        with WorkerProcess("--config", str(config), log=tmp_path / "first.log") as worker:
            worker.wait_running()
            assert worker.terminate() == 0, worker.stderr()
        with Connection(rabbitmq_url) as conn:
            producer = Producer(conn.channel(),
                                exchange=Exchange(exchange, type="topic", durable=False))
            boots = [f"boot-{n:05d}" for n in range(5000)]
            at = base
            for n, instance in enumerate(boots):
                at = base + timedelta(seconds=n * 0.5)
                producer.publish(_notification(start, instance, at),
                                 routing_key="notifications.info")
                producer.publish(_notification(end, instance, at + timedelta(seconds=10)),
                                 routing_key="notifications.info")
            for instance in sorted(never):
                producer.publish(_notification(start, instance, at),
                                 routing_key="notifications.info")
            channel = conn.channel()
            wait_for(lambda: channel.queue_declare(f"{prefix}.notifications", passive=True)
                     .message_count == 10_100, 30, "10,100 messages in the queue")
        with WorkerProcess("--config", str(config), log=tmp_path / "second.log") as worker:
            worker.wait_running()
            wait_for(lambda: len(jsonl(sink)) >= 100, 120, "the 100 real absences")
            time.sleep(2.0)  # a false one would show by now
            assert worker.terminate() == 0, worker.stderr()
    finally:
        with Connection(rabbitmq_url) as conn:
            channel = conn.channel()
            for queue in (f"{prefix}.notifications", f"{prefix}.dead"):
                channel.queue_delete(queue)
            channel.exchange_delete(exchange)
    fired = {a["firing"]["title"].split()[2] for a in jsonl(sink)}
    assert fired == never
    assert len(jsonl(sink)) == 100
