"""Inventory memory with and without fact expiry: N unique instances, one a second.

Run: PYTHONPATH=. python bench/bench_fact_expiry.py [N]   (default 200,000; about 30 s)

Each instance is mentioned once (a create notification's facts) and never again,
as in a cloud that churns short-lived instances; with ``max_age`` 1 h only the
last hour's facts stay. Prints facts held, store entries and the memory the
store holds (tracemalloc), and µs per event.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.engine import Engine
from engine.events import Event, FactUpdate
from tests.engine.fact_expiry import BY_HOST

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def run(n: int, max_age: float | None) -> None:
    events = [Event(id=f"e{i}", type="compute.instance.create.end",
                    time=T0 + timedelta(seconds=i),
                    facts=[FactUpdate(kind="instance", id=f"{i:08x}-8f85-4257-88b6-2e743b5a975c",
                                      fields={"host": f"cmp-{i % 500}", "state": "active"})])
              for i in range(n)]
    tracemalloc.start()
    engine = Engine([BY_HOST], lateness=0.0, fact_max_age=max_age)
    start = time.perf_counter()
    engine.process_many(events)
    took = time.perf_counter() - start
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del events
    sizes = engine.store_sizes()
    print(f"max_age {'none' if max_age is None else f'{max_age:g}s':>6}: "
          f"{sizes['facts_instance']:>7} facts held, {sizes['keys']:>7} keys, "
          f"{sizes['timers']:>7} timers, {held / 2**20:7.1f} MiB traced, "
          f"{took / n * 1e6:5.1f} µs/event")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    print(f"{n} unique instances, one per second of event time")
    run(n, None)
    run(n, 3600.0)


if __name__ == "__main__":
    main()
