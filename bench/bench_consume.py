"""Live consume bench against the local RabbitMQ (prints its figures).

1. Sustained rate: N pre-published 2.0-envelope notifications (~1.5 KB, the
   corpus' legacy compute.instance.create.end with unique ids) drained by
   (a) a bare kombu consumer (orjson decode of both layers, ack per 100 with
   multiple=True, prefetch 1000) and (b) NotificationConsumer running decode +
   normalize + Engine.process with the rule pack; alternated, median of runs.
2. Latency: a publisher at a fixed rate; per message, publish time (in the
   payload) to the moment the engine returned its firing; p50 / p99.

Usage: python bench/bench_consume.py [--messages 20000] [--runs 3] [--rate 2000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from kombu import Connection, Exchange, Producer, Queue

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.amqp import NotificationConsumer  # noqa: E402
from engine.events import Event  # noqa: E402

URL = "amqp://guest:guest@127.0.0.1:5672//"
SAMPLE = (ROOT.parent / "shared/corpus/notifications/legacy/nova"
          / "designate__compute.instance.create.end.json")


def _rule_paths() -> list[Path]:
    shipped = ROOT / "rules"
    paths = [shipped] if shipped.is_dir() else [ROOT / "tests/operator_rules"]
    return [*paths, ROOT / "bench/rules"]


def _engine() -> Any:
    from engine.engine import Engine
    from engine.loader import load_rules

    return Engine(load_rules(_rule_paths()))


def _body(template: dict[str, Any], i: int, sent_at: float | None = None) -> bytes:
    inner = dict(template, message_id=str(uuid.uuid4()),
                 timestamp=time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime()))
    payload = dict(template["payload"], instance_id=f"bench-{i}-{uuid.uuid4().hex[:8]}")
    payload.pop("payload_v6", None)
    if sent_at is not None:
        payload["bench_sent_at"] = sent_at
    inner["payload"] = payload
    inner.pop("payload_v6", None)
    return orjson.dumps({"oslo.version": "2.0", "oslo.message": orjson.dumps(inner).decode()})


def _prepublish(exchange: str, queue: str, count: int, template: dict[str, Any]) -> int:
    with Connection(URL) as conn:
        channel = conn.channel()
        ex = Exchange(exchange, type="topic", durable=False)
        Queue(queue, exchange=ex, routing_key="notifications.*", durable=True,
              channel=channel).declare()
        producer = Producer(channel, exchange=ex)
        size = 0
        for i in range(count):
            body = _body(template, i)
            size = len(body)
            producer.publish(body, routing_key="notifications.info", delivery_mode=1,
                             content_type="application/json", content_encoding="utf-8",
                             serializer=None)
    return size


def bare_kombu(queue: str, count: int) -> float:
    """Messages per second: orjson both layers, ack every 100 (multiple=True)."""
    done = 0
    last_tag = None
    with Connection(URL) as conn:
        channel = conn.channel()
        channel.basic_qos(0, 1000, False)

        def on_message(message: Any) -> None:
            nonlocal done, last_tag
            outer = orjson.loads(message.body)
            orjson.loads(outer["oslo.message"])
            done += 1
            last_tag = message.delivery_tag
            if done % 100 == 0:
                channel.basic_ack(last_tag, multiple=True)

        channel.basic_consume(queue, callback=on_message)
        start = time.perf_counter()
        while done < count:
            conn.drain_events(timeout=5)
        elapsed = time.perf_counter() - start
        if done % 100:
            channel.basic_ack(last_tag, multiple=True)
        channel.queue_delete(queue)
    return count / elapsed


def worker(exchange: str, prefix: str, count: int, use_engine: bool = True) -> tuple[float, int]:
    """Messages per second through NotificationConsumer + Engine.process, and firings."""
    engine = _engine() if use_engine else None
    state = {"done": 0, "firings": 0, "start": 0.0}
    consumer: NotificationConsumer

    def handler(batch: list[Event]) -> None:
        if not state["start"]:
            state["start"] = time.perf_counter()
        if engine is not None:
            for event in batch:
                state["firings"] += len(engine.process(event))
        state["done"] += len(batch)
        if state["done"] >= count:
            state["end"] = time.perf_counter()
            consumer.stop()

    consumer = NotificationConsumer(URL, handler, exchanges=[exchange], queue_prefix=prefix)
    consumer.run()
    with Connection(URL) as conn:
        conn.channel().queue_delete(f"{prefix}.notifications")
        conn.channel().queue_delete(f"{prefix}.dead")
    # the first batch's own processing is not in the window: count it out
    return (count - 100) / (state["end"] - state["start"]), int(state["firings"])


def latency(rate: int, seconds: float, template: dict[str, Any]) -> tuple[list[float], int]:
    tag = uuid.uuid4().hex[:8]
    exchange, prefix = f"dcbench-{tag}-nova", f"dcbench-{tag}"
    engine = _engine()
    lat: list[float] = []
    total = int(rate * seconds)
    consumer: NotificationConsumer

    def handler(batch: list[Event]) -> None:
        for event in batch:
            if engine.process(event):
                lat.append(time.time() - event.raw["payload"]["bench_sent_at"])
        if len(lat) >= total:
            consumer.stop()

    consumer = NotificationConsumer(URL, handler, exchanges=[exchange], queue_prefix=prefix)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    while consumer._channel is None:
        time.sleep(0.01)
    with Connection(URL) as conn:
        producer = Producer(conn.channel(), exchange=Exchange(exchange, type="topic",
                                                               durable=False))
        start = time.perf_counter()
        for i in range(total):
            due = start + i / rate
            while (now := time.perf_counter()) < due:
                time.sleep(min(due - now, 0.0005))
            producer.publish(_body(template, i, sent_at=time.time()),
                             routing_key="notifications.info", delivery_mode=1,
                             content_type="application/json", content_encoding="utf-8",
                             serializer=None)
    thread.join(timeout=30)
    consumer.stop()
    with Connection(URL) as conn:
        conn.channel().queue_delete(f"{prefix}.notifications")
        conn.channel().queue_delete(f"{prefix}.dead")
        conn.channel().exchange_delete(exchange)
    return lat, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--no-engine", action="store_true",
                        help="worker = decode + normalize only (no rules)")
    args = parser.parse_args()
    template = json.loads(SAMPLE.read_text())
    print(f"rules: {', '.join(str(p.relative_to(ROOT)) for p in _rule_paths())}")
    bare, ours = [], []
    size = 0
    for run in range(args.runs):
        tag = uuid.uuid4().hex[:8]
        exchange = f"dcbench-{tag}-nova"
        size = _prepublish(exchange, f"dcbench-{tag}.bare", args.messages, template)
        bare.append(bare_kombu(f"dcbench-{tag}.bare", args.messages))
        # the worker's queue must exist before publishing: declare it the same way
        _prepublish(exchange, f"dcbench-{tag}.notifications", args.messages, template)
        rate, firings = worker(exchange, f"dcbench-{tag}", args.messages, not args.no_engine)
        ours.append(rate)
        with Connection(URL) as conn:
            conn.channel().exchange_delete(exchange)
        print(f"run {run + 1}: bare kombu {bare[-1]:,.0f} msg/s, worker {rate:,.0f} msg/s "
              f"({firings} firings)")
    b, w = statistics.median(bare), statistics.median(ours)
    print(f"messages {args.messages} x {args.runs} runs, body {size} bytes")
    label = "decode+normalize only" if args.no_engine else "rules"
    print(f"median bare kombu: {b:,.0f} msg/s; median worker ({label}): {w:,.0f} msg/s; "
          f"ratio {w / b:.2f}")
    if args.no_engine:
        return 0
    lat, total = latency(args.rate, args.seconds, template)
    lat_ms = sorted(x * 1000 for x in lat)
    p50 = lat_ms[len(lat_ms) // 2]
    p99 = lat_ms[min(len(lat_ms) - 1, int(len(lat_ms) * 0.99))]
    print(f"latency at {args.rate} msg/s for {args.seconds:.0f} s: {len(lat)}/{total} alerts, "
          f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {lat_ms[-1]:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
