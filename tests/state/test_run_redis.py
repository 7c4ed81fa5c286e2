"""``dreamcatcher run --state-url redis://...``: the worker's state outlives it."""

from __future__ import annotations

import json
import signal
import uuid
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Producer

from adapters.state import RedisStore, StateConfig
from dreamcatcher.config import load_config
from tests.notifications.test_run_cli import (
    LEGACY,
    delete_worker_queues,
    start_worker,
    wait_for_queue,
)


def test_state_section_of_the_deployment_config(tmp_path: Path) -> None:
    conf = tmp_path / "deploy.yaml"
    conf.write_text("state:\n  url: redis://127.0.0.1:6379/3\n  prefix: 'site-a:'\n"
                    "  wall_ttl_margin: 2d\n")
    state = load_config(conf).state
    assert state == StateConfig(url="redis://127.0.0.1:6379/3", prefix="site-a:",
                                wall_ttl_margin=172800.0)
    assert StateConfig().url is None  # memory by default
    with pytest.raises(ValueError, match="redis://"):
        StateConfig(url="http://127.0.0.1:6379")


@pytest.mark.rabbitmq
def test_a_restarted_worker_remembers_what_the_first_one_saw(
        rabbitmq_url: str, redis_url: str, corpus: Path, tmp_path: Path) -> None:
    rule = tmp_path / "created.yaml"
    rule.write_text(
        "rule: created\nseverity: info\nwhen: {event: compute.instance.create.end}\n"
        "alert: {title: 'built {{ event.instance_id }}'}\n"
    )
    tag = uuid.uuid4().hex[:8]
    exchange, prefix, state_prefix = f"dctest-{tag}-nova", f"dctest-{tag}", f"dctest:{tag}:"
    store = RedisStore.from_url(redis_url, state_prefix)
    legacy = json.loads((corpus / LEGACY).read_text())
    args = ("--rules", str(rule), "--format", "json",
            "--state-url", redis_url, "--state-prefix", state_prefix)

    def one_worker(message_ids: list[str], expected: int) -> tuple[list[str], str]:
        proc = start_worker(exchange, prefix, *args)
        try:
            with Connection(rabbitmq_url) as conn:
                wait_for_queue(conn, f"{prefix}.notifications")
                producer = Producer(conn.channel(),
                                    exchange=Exchange(exchange, type="topic", durable=False))
                for mid in message_ids:
                    producer.publish(json.dumps(dict(legacy, message_id=mid)),
                                     routing_key="notifications.info")
            assert proc.stdout is not None
            alerts = [json.loads(proc.stdout.readline()) for _ in range(expected)]
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=15) == 0
            return [a["event_ids"][0] for a in alerts], proc.stdout.read()
        finally:
            if proc.poll() is None:
                proc.kill()

    try:
        first, rest = one_worker(["m-0"], 1)
        assert first == ["m-0"] and rest.strip() == ""
        assert store.client.exists(store.prefix + "k:once:m-0")  # the dedup mark is in Redis
        # a new process: m-0 again (a redelivery) is remembered, m-1 is new
        second, rest = one_worker(["m-0", "m-1"], 1)
        assert second == ["m-1"] and rest.strip() == ""
    finally:
        store.clear()
        store.close()
        delete_worker_queues(rabbitmq_url, prefix)
