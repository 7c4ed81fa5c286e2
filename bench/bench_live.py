"""The live worker with all three source kinds under bad-day traffic, at increasing rates.

One worker in this process (the shipped rules plus one probe rule per source
kind) reads the real local RabbitMQ (its own exchange and queue), a syslog TCP
listener and a followed file. A second process sends the load: the bad day's
notifications (fresh message ids) published with kombu in the messaging v2
envelope, its syslog lines over one TCP connection, its API log lines appended
to the file, each at a steady rate, plus 10 probes per second per kind whose
send time is in their text. The probe's alert arriving at the worker's output
gives the publish-to-alert latency for that kind.

    python bench/bench_live.py      # 0.5x, 1x, 1.5x, 2x of 2,000 msg/s + 20,000 lines/s
    python bench/bench_live.py --scales 1 --seconds 20

A rate is sustained when the worker ends the run with no backlog (its queue,
the broker's queue and the file drained within 2 s of the senders stopping).
File latency includes the follower's poll interval (``--poll``, 10 ms here).
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import socket
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from adapters.deadletter import DeadLetters
from adapters.logs import UnparsedStats
from dreamcatcher.intake import Intake
from dreamcatcher.outbox import Outbox
from dreamcatcher.outputs import Outputs
from dreamcatcher.resources import demo_day, shipped_rules
from dreamcatcher.sourceconfig import (
    AmqpSource,
    FileSource,
    SourcesConfig,
    SyslogSource,
)
from dreamcatcher.sources import build_sources
from dreamcatcher.worker import Worker
from engine.engine import Engine
from engine.firing import Firing
from engine.loader import load_rules

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
PROBES = """\
rule: probe-amqp
severity: info
when: {event: compute.instance.pause.end}
alert: {title: "probe {{ event.instance_id }}", group_by: [event.id]}
---
rule: probe-syslog
severity: info
when: {event: switch.stp.bpdu_guard, where: {data.interface: {startswith: probe}}}
alert: {title: "probe {{ event.data.interface }}", group_by: [event.id]}
---
rule: probe-file
severity: info
when: {event: nova.api.request, where: {data.status: 418}}
alert: {title: "probe {{ event.data.path }}", group_by: [event.id]}
"""


def _traffic() -> tuple[list[dict[str, Any]], list[str], list[tuple[str, str]]]:
    files = {p.name: p for p in demo_day("bad-day")}
    notes = [orjson.loads(line) for line in files["notifications.jsonl"].read_bytes().splitlines()
             if line.strip()]
    # without their stamps: the sender stamps each line as it sends it (event time = now)
    syslog = [line.split(" ", 1)[1] for line in files["syslog.log"].read_text().splitlines()
              if line]
    api = [line.split(" ", 1)[1].split(" ", 4) for line in
           files["nova-api.log"].read_text().splitlines() if line]
    return notes, syslog, [(f" {a[0]} {a[1]} ", a[4]) for a in api]


def _syslog_line(rest: str) -> str:
    """As a sender puts it on the wire: a PRI (user.info), its stamp, newline-framed."""
    return f"<14>{_stamp()} {rest}"


def _api_line(parts: tuple[str, str]) -> str:
    """As the central rsyslog writes nova-api's line: its stamp, then oslo.log's own."""
    now = time.time()
    oslo = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}"
    return f"{_stamp()}{parts[0]}{oslo} {parts[1]}"


def _stamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}+00:00"


def _sender(exchange: str, port: int, path: str, scale: float, seconds: float,
            probes_per_second: float, go: Any) -> None:
    """The load, in its own process: three paced streams and the probes."""
    from kombu import Connection, Exchange, Producer

    notes, syslog, api = _traffic()
    go.wait()
    end = time.monotonic() + seconds

    def amqp() -> None:
        with Connection(AMQP_URL) as conn:
            producer = Producer(conn.channel(),
                                exchange=Exchange(exchange, type="topic", durable=False))
            rate, n, start = 2000 * scale, 0, time.monotonic()
            probe_every = max(1, int(rate / probes_per_second))
            while time.monotonic() < end:
                note = dict(notes[n % len(notes)], message_id=str(uuid.uuid4()),
                            timestamp=time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime()))
                if n % probe_every == 0:
                    note = dict(note, event_type="compute.instance.pause.end",
                                payload={"instance_id": f"{time.time():.6f}"},
                                timestamp=time.strftime("%Y-%m-%d %H:%M:%S.000000",
                                                        time.gmtime()))
                body = orjson.dumps({"oslo.version": "2.0",
                                     "oslo.message": orjson.dumps(note).decode()})
                producer.publish(body, routing_key="notifications.info")
                n += 1
                ahead = start + n / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)

    def lines(write: Any, pool: list[Any], render: Any, probe: Any) -> None:
        rate, n, start = 10000 * scale, 0, time.monotonic()
        step = 0.01
        last_probe = 0.0
        while time.monotonic() < end:
            due = int((time.monotonic() - start + step) * rate) - n
            chunk = [render(pool[(n + i) % len(pool)]) for i in range(max(due, 0))]
            now = time.time()
            if now - last_probe >= 1 / probes_per_second:
                chunk.append(probe(now))
                last_probe = now
            write("".join(line + "\n" for line in chunk).encode())
            n += max(due, 0)
            time.sleep(step)

    sock = socket.create_connection(("127.0.0.1", port))

    def syslog_probe(now: float) -> str:
        return (f"<12>{_stamp()} SW-1 Stp: %SPANTREE-4-BLOCK_BPDUGUARD: Received BPDU packet on "
                f"probe{now:.6f} with BPDU guard enabled. Disabling interface. "
                "(source mac fa:16:3e:00:00:01)")

    def file_probe(now: float) -> str:
        return (f"{_stamp()} ctl-1 nova-api[1]: {time.strftime('%Y-%m-%d %H:%M:%S')}.000 1 INFO "
                "nova.osapi_compute.wsgi.server [None req-00000000-0000-0000-0000-000000000000 "
                "u p - - default default] 10.0.0.1 \"GET /probe/"
                f"{now:.6f} HTTP/1.1\" status: 418 len: 1 time: 0.001")

    fh = open(path, "ab", buffering=0)  # noqa: SIM115
    threads = [threading.Thread(target=amqp),
               threading.Thread(target=lines,
                                args=(sock.sendall, syslog, _syslog_line, syslog_probe)),
               threading.Thread(target=lines, args=(fh.write, api, _api_line, file_probe))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sock.close()
    fh.close()


def run_level(scale: float, seconds: float, poll: float) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    exchange, prefix = f"bench-{tag}-nova", f"bench-{tag}"
    tmp = Path(tempfile.mkdtemp(prefix="bench-live-"))
    api_log = tmp / "nova-api.log"
    api_log.write_text("")
    probes = tmp / "probes.yaml"
    probes.write_text(PROBES)
    port = _free_port()
    conf = SourcesConfig(
        amqp=AmqpSource(transport_url="rabbit://guest:guest@127.0.0.1:5672/",
                        exchanges=[exchange], queue_prefix=prefix),
        syslog=[SyslogSource(port=port, protocols=["tcp"])],
        files=[FileSource(path=api_log, kind="nova-api")],
        poll_interval=poll,
    )
    arrived: dict[str, list[float]] = {"amqp": [], "syslog": [], "file": []}

    def deliver(firing: Firing, done: Any) -> None:
        if firing.rule.startswith("probe-"):
            sent = float(firing.title.split()[-1].rsplit("/", 1)[-1].removeprefix("probe"))
            arrived[firing.rule.removeprefix("probe-")].append(time.time() - sent)
        done()

    engine = Engine(load_rules([shipped_rules(), probes]))
    intake = Intake()
    sources = build_sources(conf, intake, dead=DeadLetters(None), stats=UnparsedStats(),
                            idle=1.0)
    outputs = Outputs(lambda f: None, lambda: None, deliver=deliver)
    worker = Worker(engine, intake, sources, outputs, Outbox(None), clock="event")
    gc.freeze()  # as `dreamcatcher run` does
    worker.start()
    time.sleep(1.0)  # queue declared and bound, listener up
    go = multiprocessing.Event()
    sender = multiprocessing.Process(target=_sender, args=(exchange, port, str(api_log), scale,
                                                           seconds, 10.0, go))
    sender.start()
    go.set()
    started = time.monotonic()
    sender.join()
    sent_for = time.monotonic() - started
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and not (intake.all_caught_up()
                                               and all(s.caught_up() for s in sources)):
        time.sleep(0.05)
    kept_up = intake.all_caught_up() and all(s.caught_up() for s in sources)
    events = worker.stats.events
    by_source = {state.kind: state.events for state in intake.sources}
    worker.shutdown()
    _cleanup(exchange, prefix)
    return {"scale": scale, "events": events, "seconds": sent_for, "kept_up": kept_up,
            "by_source": by_source,
            "latency": {k: _p(v) for k, v in arrived.items()}}


def _p(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {"n": len(ordered), "p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cleanup(exchange: str, prefix: str) -> None:
    from kombu import Connection

    with Connection(AMQP_URL) as conn:
        channel = conn.channel()
        for queue in (f"{prefix}.notifications", f"{prefix}.dead"):
            channel.queue_delete(queue)
        channel.exchange_delete(exchange)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[0.5, 1.0, 1.5, 2.0],
                        help="multiples of 2,000 msg/s + 20,000 lines/s")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--poll", type=float, default=0.01, help="file follower poll (s)")
    args = parser.parse_args()
    print(f"{'load':>24} {'events/s':>9} {'kept up':>8}  p50/p99 ms: amqp | syslog | file")
    for scale in args.scales:
        r = run_level(scale, args.seconds, args.poll)
        lat = r["latency"]
        cells = " | ".join(f"{lat[k].get('p50_ms', 0):.1f}/{lat[k].get('p99_ms', 0):.1f}"
                           for k in ("amqp", "syslog", "file"))
        load = f"{2000 * scale:,.0f} msg/s + {20000 * scale:,.0f} l/s"
        print(f"{load:>24} {r['events'] / r['seconds']:>9,.0f} {'yes' if r['kept_up'] else 'NO':>8}"
              f"  {cells}   events: {r['by_source']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
