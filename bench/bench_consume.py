"""Live consume bench against the local RabbitMQ (prints its figures).

What issue 6 asks, measured the way it says:

1. Sustained rate: ``--messages`` (50,000) notifications pre-published in the
   oslo 2.0 envelope, bus-shaped (``_context_*`` keys, ``message_id``,
   ``timestamp``) from a mix of corpus payloads (nova legacy and versioned,
   neutron, cinder; ~1.5 KB each), drained by (a) a bare kombu consumer
   (orjson of both layers, ack every 100 with ``multiple=True``, prefetch
   1000; stock kombu, the issue's baseline, and for reference the same on the
   worker's buffered transport) and (b) the worker: ``NotificationConsumer`` wired as ``dreamcatcher
   run`` wires it (a lock, ``Pipeline`` over an ``Engine`` with the shipped
   rules). Same messages, alternated, each rate from the first delivery to
   the last; medians of ``--runs``. The worker maps only the fields the
   rules read, as ``dreamcatcher run`` does. Its time inside
   ``Engine.process_many`` (what the pipeline calls) is measured too, and the
   offline cost per stage (decode, normalize, engine) of the same messages.
   The ratio the issue asks about is the worker over bare kombu on the *same*
   buffered transport. ``--before PATH`` also runs the worker of another
   checkout (e.g. the commit before a change) in a child process, on its own
   copy of the same messages, in the same rounds.
2. Latency: a publisher in another process (as an OpenStack service would
   be) sends ``compute.instance.create.end`` at ``--rate`` for ``--seconds``;
   per message, publish time to the moment the alert (``Firing``) reaches
   the pipeline's firing handler. ``bench/rules/`` adds one alert per build
   so every message has a latency. A bare kombu consumer (decode only) is
   measured the same way in the same run, for reference.

Usage: python bench/bench_consume.py [--messages 50000] [--runs 3] [--rate 2000] [--seconds 5]
                                    [--before /path/to/checkout] [--skip-latency]
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from kombu import Connection, Exchange, Producer, Queue


def _root() -> Path:
    """This checkout, or with ``--worker-of PATH`` (the ``--before`` child) that one."""
    if "--worker-of" in sys.argv:
        return Path(sys.argv[sys.argv.index("--worker-of") + 1]).resolve()
    return Path(__file__).resolve().parents[1]


ROOT = _root()
sys.path.insert(0, str(ROOT))

from adapters.amqp import NotificationConsumer  # noqa: E402
from adapters.amqp.transport import BufferedAmqpTransport  # noqa: E402
from adapters.notifications.decode import decode_body  # noqa: E402
from adapters.notifications.normalize import normalize  # noqa: E402
from bench.common import CORPUS  # noqa: E402
from dreamcatcher.pipeline import Pipeline  # noqa: E402
from engine.engine import Engine  # noqa: E402
from engine.events import Event  # noqa: E402
from engine.firing import Firing  # noqa: E402
from engine.loader import load_rules  # noqa: E402
from engine.schema import Rule  # noqa: E402

URL = "amqp://guest:guest@127.0.0.1:5672//"
NOTIFICATIONS = CORPUS / "notifications"
#: The rate mix: ordinary lifecycle traffic of the four services.
MIX = (
    "nova-versioned-expanded/watcher__instance-update.json",
    "legacy/nova/watcher__scenario3_notfound_legacy_instance-update.json",
    "legacy/nova/searchlight__server_group__compute.instance.delete.end.json",
    "legacy/neutron/searchlight__ports__port.create.end.json",
    "legacy/neutron/searchlight__networks__network.update.end.json",
    "legacy/cinder/searchlight__snapshots__snapshot.create.end.json",
)
LATENCY_SAMPLE = "legacy/nova/designate__compute.instance.create.end.json"
ACK_EVERY = 100
WATCHDOG = 60.0  # seconds without progress before a run is declared stuck


def _rule_paths(bench_rule: bool) -> list[Path]:
    return [ROOT / "rules", *([ROOT / "bench/rules"] if bench_rule else [])]


def _template(rel: str) -> dict[str, Any]:
    message = json.loads((NOTIFICATIONS / rel).read_text())
    return {"event_type": message["event_type"], "publisher_id": message["publisher_id"],
            "priority": message.get("priority", "INFO"), "payload": message["payload"]}


def _context(request_id: str) -> dict[str, Any]:
    """The oslo.context keys a service puts on the bus (flattened with ``_context_``).

    A trimmed set (no service catalog, no token), so the mean body is ~1.5 KB.
    """
    ctx = {"request_id": request_id, "global_request_id": None,
           "user_id": "f7b01aaf29cc446383f83f04396d6f3f",
           "project_id": "a9434954adf940a3bdbdaab99e8751bb", "is_admin": False,
           "roles": ["member"], "timestamp": "2018-05-29T20:12:38.640725"}
    return {f"_context_{key}": value for key, value in ctx.items()}


def _unique(payload: dict[str, Any], i: int) -> dict[str, Any]:
    """Give the payload's main identifier a fresh value, so the inventory grows."""
    payload = dict(payload)
    suffix = f"{i:012d}"
    if "instance_id" in payload:
        payload["instance_id"] = f"bench-inst-{suffix}"
    if "volume_id" in payload:
        payload["volume_id"] = f"bench-vol-{suffix}"
    if isinstance(payload.get("port"), dict):
        payload["port"] = dict(payload["port"], id=f"bench-port-{suffix}")
    data = payload.get("nova_object.data")
    if isinstance(data, dict):
        payload["nova_object.data"] = dict(data, uuid=f"bench-inst-{suffix}")
    return payload


def bus_body(template: dict[str, Any], i: int, message_id: str | None = None) -> bytes:
    """One notification as messagingv2 puts it on the wire."""
    inner = {**_context(f"req-{uuid.uuid4()}"), **template,
             "payload": _unique(template["payload"], i),
             "message_id": message_id or str(uuid.uuid4()),
             "_unique_id": uuid.uuid4().hex,
             "timestamp": time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())}
    return orjson.dumps({"oslo.version": "2.0", "oslo.message": orjson.dumps(inner).decode()})


def _publish(producer: Any, body: bytes) -> None:
    producer.publish(body, routing_key="notifications.info", delivery_mode=1,
                     content_type="application/json", content_encoding="utf-8",
                     serializer=None)


def _prepublish(exchange: str, queues: list[str], bodies: list[bytes]) -> None:
    """Every body into every queue (bound before publishing, so none is lost)."""
    with Connection(URL) as conn:
        channel = conn.channel()
        ex = Exchange(exchange, type="topic", durable=False)
        for queue in queues:
            Queue(queue, exchange=ex, routing_key="notifications.*", durable=True,
                  channel=channel).declare()
        producer = Producer(channel, exchange=ex)
        for body in bodies:
            _publish(producer, body)


def _cleanup(queues: list[str], exchange: str | None = None) -> None:
    with Connection(URL) as conn:
        for queue in queues:
            conn.channel().queue_delete(queue)
        if exchange:
            conn.channel().exchange_delete(exchange)


class _Window:
    """First and last delivery times of a run, and a stuck-run watchdog."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.done = 0
        self.first = self.last = 0.0

    def tick(self, n: int = 1) -> bool:
        """Count ``n`` deliveries handled now; True once the run has them all."""
        now = time.perf_counter()
        if not self.done:
            self.first = now
        self.last = now
        self.done += n
        return self.done >= self.count

    def rate(self) -> float:
        return (self.done - 1) / (self.last - self.first)


def bare_kombu(queue: str, count: int, transport: Any = None) -> float:
    """Messages per second: orjson both layers, ack every 100 (multiple=True)."""
    window = _Window(count)
    with Connection(URL, transport=transport) as conn:
        channel = conn.channel()
        channel.basic_qos(0, 1000, False)
        last_tag: Any = None

        def on_message(message: Any) -> None:
            nonlocal last_tag
            orjson.loads(orjson.loads(message.body)["oslo.message"])
            last_tag = message.delivery_tag
            window.tick()
            if window.done % ACK_EVERY == 0:
                channel.basic_ack(last_tag, multiple=True)

        channel.basic_consume(queue, callback=on_message)
        while window.done < count:
            conn.drain_events(timeout=WATCHDOG)
        channel.basic_ack(last_tag, multiple=True)
    return window.rate()


def _timed(func: Callable[[list[Event]], list[Firing]],
           spent: list[float]) -> Callable[..., Any]:
    clock = time.perf_counter

    def process(events: list[Event]) -> list[Firing]:
        start = clock()
        try:
            return func(events)
        finally:
            spent[0] += clock() - start

    return process


def _worker(rules: list[Rule], engine: Engine, on_firing: Callable[[Firing], None],
            exchange: str, prefix: str, count: int) -> tuple[NotificationConsumer, _Window]:
    """The consumer as ``dreamcatcher run`` builds it (a lock, shared with the clock,
    around the pipeline), stopping itself once ``count`` messages were handled."""
    pipeline = Pipeline(engine, on_firing)
    lock = threading.Lock()
    window = _Window(count)
    consumer: NotificationConsumer

    def handler(batch: list[Event]) -> None:
        with lock:
            pipeline.handle_batch(batch)
        if window.tick(len(batch)):
            consumer.stop()

    consumer = NotificationConsumer(URL, handler, exchanges=[exchange], queue_prefix=prefix,
                                    **_normalizer(rules))
    return consumer, window


def _normalizer(rules: list[Rule]) -> dict[str, Any]:
    """As ``dreamcatcher run`` wires it: only the fields the rules read are mapped
    (nothing, on a checkout from before that existed)."""
    try:
        from adapters.notifications import normalizer
        from engine.reads import fields_read
    except ImportError:
        return {}
    return {"normalizer": normalizer(fields_read(rules))}


def _run_consumer(consumer: NotificationConsumer, window: _Window) -> None:
    """``consumer.run()`` in this thread, stopped by a watchdog if the run gets stuck.

    ``gc.freeze()`` first, as ``dreamcatcher run`` does.
    """
    gc.freeze()
    def watchdog() -> None:
        seen = -1
        while consumer_thread_alive[0]:
            time.sleep(WATCHDOG / 4)
            if window.done == seen:
                print(f"  stuck at {window.done}/{window.count}: stopping", file=sys.stderr)
                consumer.stop()
                return
            seen = window.done

    consumer_thread_alive = [True]
    guard = threading.Thread(target=watchdog, daemon=True)
    guard.start()
    try:
        consumer.run()
    finally:
        consumer_thread_alive[0] = False


def worker(exchange: str, prefix: str, count: int) -> tuple[float, float, int]:
    """Messages per second through the worker, its µs per message in
    ``Engine.process_many`` (what the pipeline calls), firings."""
    rules = load_rules(_rule_paths(bench_rule=False))
    engine = Engine(rules)
    spent = [0.0]
    engine.process_many = _timed(engine.process_many, spent)  # type: ignore[method-assign]
    firings = [0]

    def on_firing(firing: Firing) -> None:
        firings[0] += 1

    consumer, window = _worker(rules, engine, on_firing, exchange, prefix, count)
    _run_consumer(consumer, window)
    if window.done < count or consumer.stats.dead_lettered:
        raise SystemExit(f"worker run incomplete: {window.done}/{count}, {consumer.stats}")
    return window.rate(), spent[0] / window.done * 1e6, firings[0]


def offline_costs(bodies: list[bytes]) -> dict[str, float]:
    """µs per message of each stage on the same bodies, no broker (min of 3 passes)."""
    best: dict[str, float] = {}
    rules = load_rules(_rule_paths(bench_rule=False))
    to_event = _normalizer(rules).get("normalizer", lambda message, _: normalize(message))
    for _ in range(3):
        engine = Engine(rules)
        clock = time.perf_counter
        spent = {"decode": 0.0, "normalize": 0.0, "engine": 0.0}
        for body in bodies:
            t0 = clock()
            message = decode_body(body)
            t1 = clock()
            event = to_event(message, None)
            t2 = clock()
            if event is not None:
                engine.process_many([event])  # as the pipeline hands each delivery on
            t3 = clock()
            spent["decode"] += t1 - t0
            spent["normalize"] += t2 - t1
            spent["engine"] += t3 - t2
        for stage, total in spent.items():
            best[stage] = min(best.get(stage, 1e9), total / len(bodies) * 1e6)
    return best


# -- latency -------------------------------------------------------------------------
def _publisher(exchange: str, rate: int, total: int, ready: Any) -> None:
    """Another process, as a service would be: ``total`` messages at ``rate`` per second."""
    template = _template(LATENCY_SAMPLE)
    with Connection(URL) as conn:
        producer = Producer(conn.channel(), exchange=Exchange(exchange, type="topic",
                                                               durable=False))
        ready.wait()
        start = time.perf_counter()
        for i in range(total):
            due = start + i / rate
            while (now := time.perf_counter()) < due:
                time.sleep(min(due - now, 0.0005))
            # the publish time travels in the message id (it comes back in the firing)
            _publish(producer, bus_body(template, i, message_id=f"{time.time():.6f}/{i}"))


def _sent_at(message_id: str) -> float:
    return float(message_id.split("/", 1)[0])


def _with_publisher(exchange: str, rate: int, total: int,
                    consume: Callable[[Any], None]) -> None:
    ready = multiprocessing.get_context("spawn").Event()
    proc = multiprocessing.get_context("spawn").Process(
        target=_publisher, args=(exchange, rate, total, ready), daemon=True)
    proc.start()
    try:
        consume(ready)
    finally:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.terminate()


def _declare_exchange(exchange: str) -> None:
    with Connection(URL) as conn:
        Exchange(exchange, type="topic", durable=False)(conn.channel()).declare()


def latency_bare(rate: int, seconds: float) -> list[float]:
    """Publish → decoded by a bare kombu consumer, seconds per message."""
    tag = uuid.uuid4().hex[:8]
    exchange, queue = f"dcbench-{tag}-nova", f"dcbench-{tag}.bare"
    total = int(rate * seconds)
    lat: list[float] = []

    def consume(ready: Any) -> None:
        with Connection(URL) as conn:
            channel = conn.channel()
            Queue(queue, exchange=Exchange(exchange, type="topic", durable=False),
                  routing_key="notifications.*", channel=channel).declare()
            channel.basic_qos(0, 1000, False)

            def on_message(message: Any) -> None:
                inner = orjson.loads(orjson.loads(message.body)["oslo.message"])
                lat.append(time.time() - _sent_at(inner["message_id"]))
                if len(lat) % ACK_EVERY == 0:
                    channel.basic_ack(message.delivery_tag, multiple=True)

            channel.basic_consume(queue, callback=on_message)
            ready.set()
            while len(lat) < total:
                conn.drain_events(timeout=WATCHDOG)

    _declare_exchange(exchange)
    try:
        _with_publisher(exchange, rate, total, consume)
    finally:
        _cleanup([queue], exchange)
    return lat


def latency_worker(rate: int, seconds: float) -> tuple[list[float], int]:
    """Publish → the alert produced by the worker (shipped rules + the bench rule)."""
    tag = uuid.uuid4().hex[:8]
    exchange, prefix = f"dcbench-{tag}-nova", f"dcbench-{tag}"
    total = int(rate * seconds)
    lat: list[float] = []

    def on_firing(firing: Firing) -> None:
        lat.append(time.time() - _sent_at(firing.event_ids[-1]))

    rules = load_rules(_rule_paths(bench_rule=True))
    consumer, window = _worker(rules, Engine(rules), on_firing, exchange, prefix, total)

    def consume(ready: Any) -> None:
        def release() -> None:
            while consumer._channel is None:
                time.sleep(0.01)
            ready.set()

        threading.Thread(target=release, daemon=True).start()
        _run_consumer(consumer, window)

    _declare_exchange(exchange)
    try:
        _with_publisher(exchange, rate, total, consume)
    finally:
        _cleanup([f"{prefix}.notifications", f"{prefix}.dead"], exchange)
    return lat, total


def _percentiles(lat: list[float]) -> str:
    ms = sorted(x * 1000 for x in lat)
    p50 = ms[len(ms) // 2]
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {ms[-1]:.2f} ms"


def _worker_elsewhere(root: Path, exchange: str, prefix: str, count: int) -> float:
    """``worker()`` run by another checkout's code, in a child process: its rate."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker-of", str(root),
         "--worker-queue", exchange, prefix, str(count)],
        capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"worker of {root} failed:\n{done.stderr}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["rate"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--skip-rate", action="store_true", help="latency only")
    parser.add_argument("--skip-latency", action="store_true", help="rate only")
    parser.add_argument("--before", type=Path,
                        help="another checkout whose worker is measured in the same rounds")
    parser.add_argument("--worker-of", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker-queue", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_queue:  # the --before child: this process runs that checkout's code
        exchange, prefix, count = args.worker_queue
        rate, _, _ = worker(exchange, prefix, int(count))
        print(json.dumps({"rate": rate}))
        return 0
    if not args.skip_rate:
        templates = [_template(rel) for rel in MIX]
        bodies = [bus_body(templates[i % len(templates)], i) for i in range(args.messages)]
        mean = statistics.mean(len(b) for b in bodies)
        print(f"rate: {args.messages:,} messages x {args.runs} runs, mean body {mean:,.0f} "
              f"bytes, mix of {len(MIX)} types; worker rules: rules/")
        bare, ours, engine_us, buffered, before = [], [], [], [], []
        for run in range(args.runs):
            tag = uuid.uuid4().hex[:8]
            exchange, prefix = f"dcbench-{tag}-nova", f"dcbench-{tag}"
            queues = [f"{prefix}.bare", f"{prefix}.notifications", f"{prefix}.bare-buffered"]
            if args.before:
                queues.append(f"{prefix}-before.notifications")
            try:
                _prepublish(exchange, queues, bodies)
                bare.append(bare_kombu(queues[0], args.messages))
                buffered.append(bare_kombu(queues[2], args.messages, BufferedAmqpTransport))
                rate, per_msg, firings = worker(exchange, prefix, args.messages)
                if args.before:
                    before.append(_worker_elsewhere(args.before, exchange, f"{prefix}-before",
                                                    args.messages))
            finally:
                _cleanup([*queues, f"{prefix}.dead", f"{prefix}-before.dead"], exchange)
            ours.append(rate)
            engine_us.append(per_msg)
            print(f"  run {run + 1}: bare kombu {bare[-1]:,.0f} msg/s, bare kombu on our "
                  f"buffered transport {buffered[-1]:,.0f} msg/s, worker {rate:,.0f} msg/s"
                  f" ({1e6 / rate:.0f} us/msg, of which Engine.process_many {per_msg:.1f} us;"
                  f" {firings} firings)"
                  + (f"; worker of {args.before}: {before[-1]:,.0f} msg/s" if before else ""))
        b, w = statistics.median(bare), statistics.median(ours)
        bb = statistics.median(buffered)
        print(f"median bare kombu {b:,.0f} msg/s; median worker {w:,.0f} msg/s; "
              f"ratio {w / b:.2f}; Engine.process_many {statistics.median(engine_us):.1f} "
              f"us/msg of {1e6 / w:.0f}")
        print(f"  bare kombu on the worker's buffered transport: {bb:,.0f} msg/s; "
              f"worker / that = {w / bb:.2f}")
        if before:
            wb = statistics.median(before)
            print(f"  worker of {args.before}: {wb:,.0f} msg/s; / buffered bare kombu = "
                  f"{wb / bb:.2f}")
        costs = offline_costs(bodies[: min(len(bodies), 20_000)])
        print("offline per message: " + ", ".join(f"{k} {v:.1f} us" for k, v in costs.items()))
    if args.skip_latency:
        return 0
    lat_bare = latency_bare(args.rate, args.seconds)
    print(f"latency at {args.rate} msg/s for {args.seconds:.0f} s, publisher in another "
          f"process:\n  bare kombu (decoded): {len(lat_bare)} messages, "
          f"{_percentiles(lat_bare)}")
    lat, total = latency_worker(args.rate, args.seconds)
    print(f"  worker (alert produced): {len(lat)}/{total} alerts, {_percentiles(lat)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
