"""Bytes per open expectation and per count-window key, with real corpus events.

    python bench/bench_memory.py [--n 20000] [--before /work/main]

The events are the real ``compute.instance.create.start`` notifications of
tests/corpus/openstack-2025.1 (a devstack 2025.1 run; each carries its
instance fact), normalized by the shipped mappings, each copied N times with
a fresh message id and instance id (and, for the count, project id) so every
copy opens an expectation or a window key of its own. Rules: the pack's
instance-create-stuck (an expectation per build), and a per-project count of
builds (a window per project, one event in each); and the expectation again
with the shipped rules (rules/) loaded beside it, which join instance facts.

Measured with tracemalloc: what the engine holds after the N events (made
while tracing, dropped before the count), less what it held before, over N.
"state" is the expectation or window with its timer, TTL entry and the
event's dedup mark; "facts" the instance fact each event carried into the
inventory. ``--before DIR`` measures another checkout
in the same run (a child process each).
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
NOTIFICATIONS = Path("tests/corpus/openstack-2025.1/notifications.jsonl")
EXPECT = "bench/pack/instance-create-stuck.yaml"
COUNT = {
    "rule": "build-burst", "severity": "warning",
    "when": {"count": {"event": "compute.instance.create.start", "at_least": 10,
                       "within": "10m", "by": ["project_id"]}},
    "alert": {"title": "{{ count }} builds in {{ event.project_id }} on {{ event.host }}"},
}


def real_events(root: Path) -> list[Any]:
    from adapters.notifications.files import events_from_file

    events = [e for e in events_from_file(root / NOTIFICATIONS)
              if e.type == "compute.instance.create.start"]
    assert events, "no compute.instance.create.start in the corpus"
    return events


def copies(events: list[Any], n: int, vary_project: bool, start: int = 0) -> list[Any]:
    """``n`` distinct builds from the real ones, in time order (the ``start``-th on)."""
    t0 = min(e.time for e in events)
    out = []
    for i in range(start, start + n):
        base = events[i % len(events)]
        inst = f"{i:08x}-{base.instance_id[9:]}"
        update: dict[str, Any] = {"id": f"{i:08x}-{base.id[9:]}", "instance_id": inst,
                                  "time": t0 + timedelta(milliseconds=i),
                                  "facts": [f.model_copy(update={"id": inst}) for f in base.facts]}
        if vary_project:
            update["project_id"] = f"{i:08x}{base.project_id[8:]}"
        out.append(base.model_copy(update=update))
    return out


def _held(engine: Any, events: list[Any], n: int, vary_project: bool) -> dict[str, float]:
    """Bytes per event of what processing ``n`` copies left in the engine, by where it lives.

    The copies are made while tracing and dropped before the count, so what the
    state keeps of them (an id string a dedup mark holds) counts, the rest not.
    """
    engine.process_many(copies(events, 50, vary_project))  # first-use allocations
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    stream = copies(events, n, vary_project, start=50)
    engine.process_many(stream)
    del stream
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    stats = after.compare_to(before, "filename")
    total = sum(s.size_diff for s in stats if not s.traceback[0].filename.endswith(
        "tracemalloc.py"))
    facts = sum(s.size_diff for s in stats if s.traceback[0].filename.endswith("inventory.py"))
    return {"total": total / n, "facts": facts / n, "state": (total - facts) / n}


def measure(root: Path, n: int) -> dict[str, Any]:
    from engine.engine import Engine
    from engine.loader import load_rules
    from engine.schema import Rule

    events = real_events(root)
    expect = _held(Engine(load_rules([HERE / EXPECT])), events, n, False)
    count = _held(Engine([Rule.model_validate(COUNT)]), events, n, True)
    # with the shipped rules loaded too, some of which join instance facts
    shipped = load_rules([root / "rules"])  # the pack of the checkout measured
    expect_all = _held(Engine([*load_rules([HERE / EXPECT]), *shipped]), events, n, False)
    return {"expect": expect, "count": count, "expect+shipped": expect_all}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--before", help="another checkout to measure in the same run")
    parser.add_argument("--inner", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        sys.path.insert(0, args.inner)
        print(json.dumps(measure(Path(args.inner), args.n)))
        return
    roots = {"after": HERE}
    if args.before:
        roots = {"before": Path(args.before).resolve(), **roots}
    print(f"bytes held per event, {args.n:,} real compute.instance.create.start copies "
          "(tracemalloc)")
    for name, root in roots.items():
        run = subprocess.run([sys.executable, __file__, "--inner", str(root), "--n", str(args.n)],
                             capture_output=True, text=True, check=True, cwd=root)
        got = json.loads(run.stdout.strip().splitlines()[-1])
        for what, label in (("expect", "open expectation"), ("count", "count-window key"),
                            ("expect+shipped", "expectation, with rules/")):
            m = got[what]
            print(f"{name:>6}: per {label:<26} {m['state']:6.0f} B state "
                  f"+ {m['facts']:5.0f} B inventory fact = {m['total']:6.0f} B")


if __name__ == "__main__":
    main()
