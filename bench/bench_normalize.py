"""Notification normalization, µs per message: this checkout against another, same run.

    python bench/bench_normalize.py [--before /work/main] [--rounds 5] [--instructions]

Two sets of real messages: every corpus notification as stored (``tests/corpus/
notifications/**``, bare samples and listener shapes, and the bus recordings of
``openstack-2025.1/notifications.jsonl``), and the consume bench's bus mix
(``bench_consume.bus_body``: oslo 2.0 envelope, ``_context_*`` keys, message_id,
timestamp) decoded first. Each is normalized with every field (``wanted`` None,
what ``replay --print-events`` does) and with the fields the shipped rules read
(``engine.reads.fields_read``, what ``dreamcatcher run`` does). ``--before``
runs the same measurement in a child process on another checkout's code (e.g.
the commit before this change), alternating rounds with this one, so both see the
same machine load; the figure is the best round. ``--instructions`` counts
instructions under callgrind instead (the same on a busy or an idle machine).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
FALLBACK = datetime(2020, 1, 1, tzinfo=UTC)


def _messages(root: Path, corpus: Path) -> dict[str, list[Any]]:
    """The two message sets, decoded by ``root``'s code."""
    from adapters.notifications import decode_body, load_sample
    from adapters.notifications.files import decode_document

    stored = []
    for path in sorted(corpus.glob("notifications/**/*.json")):
        try:
            message = decode_body(load_sample(path))
        except Exception:  # common payload fragments, not notifications
            continue
        if isinstance(message.get("event_type"), str):
            stored.append(message)
    for line in (corpus / "openstack-2025.1/notifications.jsonl").read_text().splitlines():
        stored.append(decode_document(line))
    from bench.bench_consume import MIX, _template, bus_body

    templates = [_template(rel) for rel in MIX]
    bus = [decode_body(bus_body(templates[i % len(templates)], i)) for i in range(3000)]
    return {"corpus": stored, "bus": bus}


def _wanted(root: Path) -> Any:
    try:
        from engine.reads import fields_read
    except ImportError:
        return None
    from engine.loader import load_rules

    return fields_read(load_rules([HERE.parents[1] / "rules"]))


def _runner(root: Path) -> Any:
    """``measure(set_name, with_wanted) -> µs`` on ``root``'s code."""
    sys.path.insert(0, str(root))
    import inspect

    from adapters.notifications import normalize

    corpus = HERE.parents[1] / "tests" / "corpus"
    sets = _messages(root, corpus)
    takes_wanted = "wanted" in inspect.signature(normalize).parameters
    wanted = _wanted(root) if takes_wanted else None

    def run(name: str, pruned: bool, warm: bool = True) -> float:
        kwargs: dict[str, Any] = {"fallback_time": FALLBACK}
        if pruned and takes_wanted:
            kwargs["wanted"] = wanted
        messages = sets[name]
        for message in messages if warm else ():  # plans generated, caches filled
            normalize(message, **kwargs)
        clock = time.perf_counter
        start = clock()
        for message in messages:
            normalize(message, **kwargs)
        return (clock() - start) / len(messages) * 1e6

    return run, sets, takes_wanted


CASES = (("corpus", False), ("corpus", True), ("bus", False), ("bus", True))


def _child(root: Path, rounds: int) -> None:
    """One round per line on stdout, when the parent asks (a line on stdin)."""
    run, _, takes_wanted = _runner(root)
    print(json.dumps({"wanted": takes_wanted}), flush=True)
    for _ in range(rounds):
        sys.stdin.readline()
        print(json.dumps([run(name, pruned) for name, pruned in CASES]), flush=True)


def _counted(root: Path, name: str, pruned: bool) -> None:
    run, _, _ = _runner(root)
    run(name, pruned)
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
    run(name, pruned, warm=False)
    subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)


def _instructions(root: Path, name: str, pruned: bool, count: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={tmp}/cg.out", sys.executable, str(HERE), "--count",
             name, "--pruned" if pruned else "--all", "--root", str(root)],
            capture_output=True, text=True, check=True)
    for line in done.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1]) / count
    raise SystemExit(f"no count in valgrind's output:\n{done.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, help="another checkout, measured alike")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--instructions", action="store_true")
    parser.add_argument("--root", type=Path, default=HERE.parents[1], help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count", help=argparse.SUPPRESS)
    parser.add_argument("--pruned", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--all", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.root, args.rounds)
        return 0
    if args.count:
        _counted(args.root, args.count, args.pruned)
        return 0
    roots = {"after": HERE.parents[1], **({"before": args.before} if args.before else {})}
    if args.instructions:
        if shutil.which("valgrind") is None:
            sys.exit("valgrind is not installed")
        sys.path.insert(0, str(HERE.parents[1]))
        sizes = {k: len(v) for k, v in _messages(HERE.parents[1], HERE.parents[1] / "tests"
                                                 / "corpus").items()}
        for label, root in roots.items():
            for name, pruned in CASES:
                per = _instructions(root, name, pruned, sizes[name])
                print(f"{label:6} {name:6} {'rules fields' if pruned else 'all fields':12} "
                      f"{per:,.0f} instructions/message")
        return 0
    children = {
        label: subprocess.Popen([sys.executable, str(HERE), "--child", "--root", str(root),
                                 "--rounds", str(args.rounds)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for label, root in roots.items()}
    best: dict[str, list[float]] = {}
    pruning = {}
    for label, child in children.items():
        assert child.stdout is not None
        pruning[label] = json.loads(child.stdout.readline())["wanted"]
    for _ in range(args.rounds):
        for label, child in children.items():  # alternate: both see the same load
            assert child.stdin is not None and child.stdout is not None
            child.stdin.write("\n")
            child.stdin.flush()
            figures = json.loads(child.stdout.readline())
            best[label] = [min(a, b) for a, b in zip(best.get(label, figures), figures,
                                                     strict=True)]
    for child in children.values():
        child.wait()
    print(f"normalize, us per message (best of {args.rounds} rounds, alternated):")
    for label, figures in best.items():
        for (name, pruned), us in zip(CASES, figures, strict=True):
            what = "rules' fields" if pruned and pruning[label] else "all fields"
            print(f"  {label:6} {name:6} {what:13} {us:6.2f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
