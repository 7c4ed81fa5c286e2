"""The engine on the Redis store: bench_engine's 20-rule pack and mixed stream.

    python bench/bench_redis_store.py [--events 30000] [--url redis://127.0.0.1:6379/14]
                                      [--batches 0,100]

Prints events/s on the RedisStore (a fresh prefix, removed at the end) next to
the memory store on the same events in the same run, Redis round trips per
event (requests the client sent) and CPU per event on each side. Batch 0 is
one operation at a time; batch N stages N events in a transaction committed
at once, as the live worker does. The engine process is pinned to one core;
Redis runs wherever it runs.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.state import RedisStore
from bench.bench_engine import PACK, mixed_stream
from bench.common import pin_one_core
from engine.engine import Engine
from engine.events import Event
from engine.loader import load_rules
from engine.schema import Rule
from engine.store import StateStore


def run(rules: list[Rule], events: list[Event],
        store: StateStore | None, batch: int = 0) -> tuple[float, float, int]:
    """Wall seconds, this process's CPU seconds, firings."""
    engine = Engine(rules, store)
    start, cpu = time.perf_counter(), time.process_time()
    firings = 0
    if batch:
        assert store is not None
        for i in range(0, len(events), batch):
            store.begin()
            firings += len(engine.process_many(events[i:i + batch]))
            store.commit()
        store.begin()
        firings += len(engine.drain())
        store.commit()
    else:
        for event in events:
            firings += len(engine.process(event))
        firings += len(engine.drain())
    return time.perf_counter() - start, time.process_time() - cpu, firings


def server_cpu(store: RedisStore) -> float:
    info = store.client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


class RoundTrips:
    """Counts requests sent on redis-py connections (a pipeline is one)."""

    count = 0

    @classmethod
    def install(cls) -> None:
        send = redis.connection.AbstractConnection.send_packed_command

        def counted(self: Any, *args: Any, **kwargs: Any) -> None:
            cls.count += 1
            send(self, *args, **kwargs)

        redis.connection.AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batches", default="0,100",
                        help="events per transaction, comma-separated (0: none)")
    args = parser.parse_args()
    pin_one_core()
    rules = load_rules(PACK)
    events = mixed_stream(args.events)
    gc.freeze()
    n = len(events)
    best_mem, mem_firings = 0.0, 0
    for _ in range(args.runs):
        elapsed, _, mem_firings = run(rules, events, None)
        best_mem = max(best_mem, n / elapsed)
    print(f"engine: {len(rules)} rules, {n:,} mixed events, {mem_firings} firings")
    print(f"memory store (best of {args.runs}, one core): {best_mem:,.0f} events/s")
    RoundTrips.install()
    for batch in (int(b) for b in args.batches.split(",")):
        best, trips, conflicts, client_us, server_us = 0.0, 0.0, 0, 0.0, 0.0
        size: dict[str, int] = {}
        for _ in range(args.runs):
            store = RedisStore.from_url(args.url, f"dcbench:{uuid.uuid4().hex}:")
            try:
                before, server_before = RoundTrips.count, server_cpu(store)
                elapsed, cpu, firings = run(rules, events, store, batch)
                trips = (RoundTrips.count - before) / n
                server_us = (server_cpu(store) - server_before) / n * 1e6
                client_us = cpu / n * 1e6
                size = store.size()
                conflicts = store.conflicts
            finally:
                store.clear()
                store.close()
            assert firings == mem_firings, (firings, mem_firings)
            best = max(best, n / elapsed)
        mode = f"transactions of {batch} events" if batch else "one operation at a time"
        print(f"redis store, {mode} (best of {args.runs}, one core): {best:,.0f} events/s "
              f"({best_mem / best:.0f}x slower than memory), {trips:.2f} round trips/event, "
              f"{conflicts} conflicts, size at end {size}")
        print(f"  CPU per event, last run: client {client_us:.0f} us, Redis server "
              f"{server_us:.0f} us (the server's counter: other clients count too)")


if __name__ == "__main__":
    main()
