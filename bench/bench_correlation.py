"""`expect` correlation at 1,000 and 1,000,000 open expectations, and durable-rules beside it.

    python bench/bench_correlation.py [--steady 100000] [--durable-open 100000]

Workload: N `first` events are opened (one per key); then each step sends the
`then` for the oldest open key and a `first` for a new key, so N stay open.
Reports per-event cost at both sizes (and their ratio), lost matches, and the
memory per open expectation. durable-rules 2.0.28 runs the same workload in a
child process (so a crash is reported, not fatal).
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import pin_one_core, rss_mb
from engine.engine import Engine
from engine.events import Event
from engine.schema import Rule

RULE = Rule.model_validate({
    "rule": "corr", "severity": "warning",
    "when": {"expect": {"first": {"event": "job.start"}, "then": {"event": "job.end"},
                        "within": "1d", "by": ["request_id"]}},
    "alert": {"title": "{{ event.request_id }} never ended"},
})
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def event(kind: str, key: int, seq: int) -> Event:
    return Event(id=f"{kind}-{key}", type=f"job.{kind}", time=T0 + timedelta(microseconds=seq),
                 request_id=f"req-{key:08d}", project_id="p1")


def dreamcatcher_run(open_n: int, steady: int) -> dict[str, float]:
    engine = Engine([RULE], lateness=0.0)
    gc.collect()
    before = rss_mb()
    for k in range(open_n):
        engine.process(event("start", k, k))
    gc.collect()
    per_open = (rss_mb() - before) * 2**20 / open_n
    batch = [(event("end", k, open_n + 2 * k), event("start", open_n + k, open_n + 2 * k + 1))
             for k in range(steady)]
    gc.freeze()
    fired = 0
    start = time.perf_counter()
    for end, new in batch:
        fired += len(engine.process(end))
        fired += len(engine.process(new))
    elapsed = time.perf_counter() - start
    gc.unfreeze()
    leftover = engine.drain()
    open_keys = {f.event_ids[0] for f in leftover}
    expected_open = {f"start-{k}" for k in range(steady, open_n + steady)}
    lost = len(open_keys - expected_open) + len(expected_open - open_keys) + fired
    return {"rate": 2 * steady / elapsed, "us": elapsed / (2 * steady) * 1e6,
            "per_open": per_open, "lost": lost}


def _durable_child(open_n: int, steady: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    from durable.engine import MessageObservedException
    from durable.lang import c, m, post, ruleset, when_all

    matched = [0]
    refused = [0]

    def send(message: dict[str, object]) -> None:
        try:
            post(name, message)
        except MessageObservedException:  # a distinct event taken for a duplicate
            refused[0] += 1

    name = f"corr{open_n}"
    with ruleset(name):
        @when_all(c.first << (m.t == "start"), c.second << ((m.t == "end") & (m.k == c.first.k)))
        def _match(_c: object) -> None:
            matched[0] += 1

    for k in range(open_n):
        send({"t": "start", "k": k})
    start = time.perf_counter()
    for k in range(steady):
        send({"t": "end", "k": k})
        send({"t": "start", "k": open_n + k})
    elapsed = time.perf_counter() - start
    out.put({"rate": 2 * steady / elapsed, "us": elapsed / (2 * steady) * 1e6,
             "lost": steady - matched[0], "refused": refused[0], "rss_mb": rss_mb()})


def durable_run(open_n: int, steady: int, timeout: float) -> dict[str, object]:
    ctx = mp.get_context("fork")
    out: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    proc = ctx.Process(target=_durable_child, args=(open_n, steady, out))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.kill()
        return {"status": f"did not finish in {timeout:.0f}s"}
    if proc.exitcode != 0:
        return {"status": f"crashed (exit code {proc.exitcode})"}
    result: dict[str, object] = out.get()
    result["status"] = "survived"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steady", type=int, default=100_000, help="then+first pairs timed")
    parser.add_argument("--large", type=int, default=1_000_000, help="open expectations")
    parser.add_argument("--durable-open", type=int, default=100_000)
    parser.add_argument("--durable-timeout", type=float, default=120.0)
    args = parser.parse_args()
    pin_one_core()
    small = dreamcatcher_run(1_000, args.steady)
    large = dreamcatcher_run(args.large, args.steady)
    print(f"dreamcatcher expect, 1,000 open: {small['rate']:,.0f} events/s "
          f"({small['us']:.2f} us/event), lost matches {small['lost']:.0f}")
    print(f"dreamcatcher expect, {args.large:,} open: {large['rate']:,.0f} events/s "
          f"({large['us']:.2f} us/event), lost matches {large['lost']:.0f}")
    print(f"per-event cost ratio large/small: {large['us'] / small['us']:.2f}")
    print(f"memory per open expectation (RSS delta / N, incl. its dedup mark): "
          f"{large['per_open']:.0f} bytes")
    for open_n in (1_000, args.durable_open):
        steady = min(args.steady, open_n)
        result = durable_run(open_n, steady, args.durable_timeout)
        if result["status"] != "survived":
            print(f"durable-rules 2.0.28, {open_n:,} open: {result['status']}")
            continue
        print(f"durable-rules 2.0.28, {open_n:,} open: {result['rate']:,.0f} events/s "
              f"({result['us']:.2f} us/event), lost matches {result['lost']} of {steady:,}, "
              f"distinct events refused as 'already observed' {result['refused']}, "
              f"RSS {result['rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
