"""Per-event cost against the number of loaded rules: 1, 10, 100 and 1,000, same stream.

    python bench/bench_rule_count.py [--events 30000] [--runs 3] [--before /work/main]
    python bench/bench_rule_count.py --instructions --events 10000 [--before /work/main]

The stream is bench_engine's mix. 1 rule is instance-create-stuck (the pack
rule this mix makes fire), 10 it and nine more of the pack; 100 and 1,000
add copies of all twenty pack rules (every operator, every event type) each
for a tenant of its own (``project_id: tenant-N`` added to every condition),
as a site with a rule set per customer has them. The copies never fire, so
every size from 10 up gives the same firings (checked): what grows is only
what the engine pays to find the rules an event meets.

Wall clock, best of ``--runs``, events built per batch outside the timing (as
bench_engine's batches); the first batch warms up (types seen, indexes
built). ``--before DIR`` also runs the code of another checkout (e.g. the
commit before the index) in a child process, alternating with this one, so
both are measured in the same run on the same machine. ``--instructions``
counts instructions under callgrind instead (the events all built first, the
count switched on after the first batch): the same numbers however busy the
machine is.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parents[1]
SIZES = (1, 10, 100, 1000)


def _with_tenant(where: dict[str, Any] | None, tenant: str) -> dict[str, Any]:
    return {**(where or {}), "project_id": tenant}


def tenant_copy(raw: dict[str, Any], tenant: str) -> dict[str, Any]:
    """The rule for one tenant: the same, with ``project_id: tenant`` in every condition."""
    rule = copy.deepcopy(raw)
    rule["rule"] = f"{raw['rule']}-{tenant}"
    when = rule["when"]
    if "event" in when:
        when["where"] = _with_tenant(when.get("where"), tenant)
    for name in ("count", "baseline"):
        if name in when:
            when[name]["where"] = _with_tenant(when[name].get("where"), tenant)
    for step in when.get("sequence", {}).get("steps", []):
        step["where"] = _with_tenant(step.get("where"), tenant)
    for name in ("first", "then"):
        if name in when.get("expect", {}):
            part = when["expect"][name]
            part["where"] = _with_tenant(part.get("where"), tenant)
    if "resolve" in rule:
        rule["resolve"]["where"] = _with_tenant(rule["resolve"].get("where"), tenant)
    return rule


def rule_sets(pack: Path) -> dict[int, list[dict[str, Any]]]:
    raws = [yaml.safe_load(p.read_text()) for p in sorted(pack.glob("*.yaml"))]
    # the one pack rule this mix makes fire first, so every size has firings to compare
    raws.sort(key=lambda raw: raw["rule"] != "instance-create-stuck")
    sets = {1: raws[:1], 10: raws[:10]}
    for size in SIZES[2:]:
        copies = [tenant_copy(raws[i % len(raws)], f"tenant-{i}") for i in range(size - 10)]
        sets[size] = raws[:10] + copies
    return sets


def measure(root: str, events: int, batch: int) -> dict[str, Any]:
    """One pass over every size with the engine of ``root``: µs/event and firings."""
    from bench.bench_engine import build, mixed_specs
    from engine.engine import Engine
    from engine.schema import Rule

    specs = mixed_specs(events)
    batches = [specs[at:at + batch] for at in range(0, len(specs), batch)]
    out: dict[str, Any] = {}
    for size, raws in rule_sets(HERE / "bench" / "pack").items():
        engine = Engine([Rule.model_validate(r) for r in raws])
        # the first batch untimed: each event type's index is built when the type is first seen
        firings = len(engine.process_many(build(batches[0])))
        elapsed = 0.0
        for chunk in batches[1:]:
            built = build(chunk)
            gc.disable()
            start = time.perf_counter()
            firings += len(engine.process_many(built))
            elapsed += time.perf_counter() - start
            gc.enable()
        firings += len(engine.drain())
        timed = len(specs) - len(batches[0])
        out[str(size)] = {"us": elapsed / timed * 1e6, "firings": firings}
    return out


def counted(root: str, events: int, batch: int, size: int) -> None:
    """Under callgrind: collection on only around the engine's work after the warm-up."""
    from bench.bench_engine import mixed_stream
    from engine.engine import Engine
    from engine.schema import Rule

    stream = mixed_stream(events)
    engine = Engine([Rule.model_validate(r) for r in rule_sets(HERE / "bench" / "pack")[size]])
    gc.freeze()
    firings = len(engine.process_many(stream[:batch]))
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
    firings += len(engine.process_many(stream[batch:]))
    subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)
    print(json.dumps({"firings": firings + len(engine.drain())}))


def _instructions(root: str, events: int, batch: int, size: int) -> dict[str, Any]:
    """Instructions per event (after the warm-up batch) with ``size`` rules loaded."""
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={tmp}/cg.out", sys.executable, __file__,
             "--inner-cg", root, "--size", str(size), "--events", str(events),
             "--batch", str(batch)],
            capture_output=True, text=True, check=True, cwd=root)
    found = re.search(r"Collected : (\d+)", run.stderr)
    if found is None:
        sys.exit(f"no count in valgrind's output:\n{run.stderr}")
    firings = json.loads(run.stdout.strip().splitlines()[-1])["firings"]
    return {"us": int(found.group(1)) / (events - batch), "firings": firings}


def _child(root: str, events: int, batch: int) -> dict[str, Any]:
    run = subprocess.run(
        [sys.executable, __file__, "--inner", root, "--events", str(events), "--batch", str(batch)],
        capture_output=True, text=True, check=True, cwd=root)
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", help="another checkout to measure in the same run")
    parser.add_argument("--instructions", action="store_true",
                        help="callgrind instruction counts instead of wall clock (valgrind)")
    parser.add_argument("--inner", help=argparse.SUPPRESS)
    parser.add_argument("--inner-cg", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner_cg:
        sys.path.insert(0, args.inner_cg)
        counted(args.inner_cg, args.events, args.batch, args.size)
        return
    if args.inner:
        sys.path.insert(0, args.inner)
        from bench.common import pin_one_core

        pin_one_core()
        print(json.dumps(measure(args.inner, args.events, args.batch)))
        return
    roots = {"after": str(HERE)}
    if args.before:
        roots = {"before": str(Path(args.before).resolve()), **roots}
    best: dict[str, dict[str, float]] = {name: {} for name in roots}
    firings: dict[str, dict[str, int]] = {name: {} for name in roots}
    if args.instructions:
        if shutil.which("valgrind") is None:
            sys.exit("valgrind is not installed")
        for name, root in roots.items():
            for size in SIZES:
                got = _instructions(root, args.events, args.batch, size)
                best[name][str(size)] = got["us"]
                firings[name][str(size)] = got["firings"]
        unit, fmt, how = "ins", "{:9,.0f}", "callgrind instructions per event"
    else:
        for _ in range(args.runs):
            for name, root in roots.items():  # alternating, so both see the same machine
                for size, got in _child(root, args.events, args.batch).items():
                    best[name][size] = min(best[name].get(size, float("inf")), got["us"])
                    firings[name][size] = got["firings"]
        unit, fmt, how = "us", "{:7.2f}", f"best of {args.runs} (wall clock, one core)"
    print(f"per-event cost by rules loaded, bench_engine mix, {args.events:,} events, {how}")
    for name in roots:
        curve = best[name]
        row = "  ".join(f"{size:>5} rules {fmt.format(curve[str(size)])} {unit}"
                        for size in SIZES)
        print(f"{name:>6}: {row}  | 1000/10 = {curve['1000'] / curve['10']:.1f}x")
        same = {firings[name][str(s)] for s in SIZES[1:]}
        assert len(same) == 1, f"{name}: the tenant copies changed the firings: {firings[name]}"
        print(f"        firings {firings[name]['1']} (1 rule), {same.pop()} (10 and up)")
    if args.before:
        for size in SIZES:
            ratio = best["after"][str(size)] / best["before"][str(size)]
            print(f"{size:>5} rules: after/before {ratio:.2f}")


if __name__ == "__main__":
    main()
