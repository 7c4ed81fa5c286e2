"""Engine alone: a realistic 20-rule pack over a mixed stream of ready-made events.

    python bench/bench_engine.py [--events 300000] [--batch 1000] [--runs 3]

Prints events/s on one core, twice: with events handed over in batches just
built (as a consumer or log follower hands them to a worker's engine), and
with every event built long before (the engine then also waits on memory for
each cold event). Building the events is never timed.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import pin_one_core
from engine.engine import Engine
from engine.events import Event, FactUpdate
from engine.loader import load_rules
from engine.schema import Rule

PACK = Path(__file__).parent / "pack"


def mixed_specs(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """Roughly a busy cloud's mix: API access lines dominate, lifecycles pair up.

    Keyword arguments of each ``Event``, in time order, so a run can build its
    events when it wants them (``build``).
    """
    rng = random.Random(seed)
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    projects = [f"p{i:02d}" for i in range(40)]
    out: list[dict[str, Any]] = []
    i = 0
    while len(out) < n:
        i += 1
        t = t0 + timedelta(milliseconds=10 * i)
        roll = rng.random()
        project = rng.choice(projects)
        eid = f"ev-{i}"
        if roll < 0.40:
            status = 200 if rng.random() > 0.01 else 503
            out.append(dict(id=eid, type="nova.api.request", time=t, project_id=project,
                             service="nova-api", request_id=f"req-{i}",
                             instance_id=f"inst-{rng.randrange(5000)}",
                             data={"method": "GET", "path": "/v2.1/servers/detail",
                                   "status": status, "length": 1893,
                                   "duration": rng.random(), "action": "servers.detail"}))
        elif roll < 0.50:
            inst = f"inst-{i}"
            out.append(dict(id=eid, type="compute.instance.create.start", time=t,
                             instance_id=inst, project_id=project, severity="info",
                             facts=[FactUpdate(kind="instance", id=inst,
                                               fields={"host": f"cmp{i % 50}", "state": "building",
                                                       "image_base_hash": f"h{i % 30}"})]))
            if rng.random() > 0.01:  # one build in a hundred hangs: instance-create-stuck fires
                out.append(dict(id=eid + "e", type="compute.instance.create.end",
                                 time=t + timedelta(seconds=30), instance_id=inst,
                                 project_id=project, severity="info"))
        elif roll < 0.55:
            vol = f"vol-{i}"
            out.append(dict(id=eid, type="volume.create.start", time=t, volume_id=vol))
            out.append(dict(id=eid + "e", type="volume.create.end", time=t + timedelta(seconds=5),
                             volume_id=vol, data={"status": "available"}))
        elif roll < 0.65:
            mac = f"fa:16:3e:00:{(i >> 8) & 255:02x}:{i & 255:02x}"
            out.append(dict(id=eid, type="dnsmasq.dhcp.request", time=t, mac=mac))
            out.append(dict(id=eid + "a", type="dnsmasq.dhcp.ack", time=t, mac=mac))
        elif roll < 0.70:
            port = f"port-{i}"
            out.append(dict(id=eid, type="port.create.end", time=t, port_id=port,
                             project_id=project,
                             facts=[FactUpdate(kind="port", id=port,
                                               fields={"mac": f"fa:16:3e:{i:06x}"[:17]})]))
        elif roll < 0.80:
            out.append(dict(id=eid, type="haproxy.request", time=t, host="lb1",
                             data={"status": 200, "backend": "cinder"}))
        elif roll < 0.85:
            out.append(dict(id=eid, type="cinder.api.request", time=t, project_id=project,
                             data={"method": "POST", "path": f"/v2/{project}/volumes"}))
        else:
            out.append(dict(id=eid, type="nova.imagecache.image_checking", time=t,
                             image_base_hash=f"h{i % 30}"))
    out.sort(key=lambda e: e["time"])
    return out[:n]


def build(specs: list[dict[str, Any]]) -> list[Event]:
    return [Event(**spec) for spec in specs]


def mixed_stream(n: int, seed: int = 7) -> list[Event]:
    """``mixed_specs`` built into events."""
    return build(mixed_specs(n, seed))


def run_batches(rules: list[Rule], specs: list[dict[str, Any]], batch: int) -> tuple[float, int]:
    """Seconds spent in the engine, and firings: each batch is built, then timed.

    This is how a worker meets events: a consumer or a log follower hands
    over a batch it has just decoded, still in the CPU's caches.
    """
    engine = Engine(rules)
    elapsed = 0.0
    firings = 0
    for at in range(0, len(specs), batch):
        events = build(specs[at:at + batch])
        start = time.perf_counter()
        firings += len(engine.process_many(events))
        elapsed += time.perf_counter() - start
    start = time.perf_counter()
    firings += len(engine.drain())
    return elapsed + time.perf_counter() - start, firings


def run_prebuilt(rules: list[Rule], events: list[Event]) -> tuple[float, int, Engine]:
    """Seconds and firings over events all built beforehand, handed over in one call.

    Hundreds of thousands of events built long before are mostly out of the
    CPU's caches: this adds the memory latency of reading them to the engine.
    """
    engine = Engine(rules)
    start = time.perf_counter()
    firings = len(engine.process_many(events)) + len(engine.drain())
    return time.perf_counter() - start, firings, engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=1_000, help="events per consumer batch")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    pin_one_core()
    rules = load_rules(PACK)
    specs = mixed_specs(args.events)
    gc.freeze()  # the input is not state: keep the collector off it
    n = len(specs)
    hot = float("inf")
    for _ in range(args.runs):
        elapsed, firings = run_batches(rules, specs, args.batch)
        hot = min(hot, elapsed)
    events = mixed_stream(args.events)
    gc.freeze()
    cold = float("inf")
    for _ in range(args.runs):
        elapsed, cold_firings, engine = run_prebuilt(rules, events)
        cold = min(cold, elapsed)
    assert cold_firings == firings, (cold_firings, firings)
    print(f"engine: {len(rules)} rules, {n:,} mixed events, {firings} firings, one core, "
          f"best of {args.runs}")
    print(f"batches of {args.batch:,} just built (as a worker gets them): "
          f"{n / hot:,.0f} events/s ({hot / n * 1e6:.2f} us/event)")
    print(f"all {n:,} built beforehand, in one call (cold caches): "
          f"{n / cold:,.0f} events/s ({cold / n * 1e6:.2f} us/event)")
    print(f"store size at end: {engine.store.size()}")


if __name__ == "__main__":
    main()
