"""Instructions per event of bench_engine's mix, counted by callgrind: the same
number on any machine, busy or idle, so changes compare where seconds cannot.

    python bench/bench_instructions.py [--events 40000] [--warm 5000]

Runs itself under ``valgrind --tool=callgrind`` with collection switched on
only around ``Engine.process_many`` (the events are built, and the first
``--warm`` of them processed, before counting starts). Needs valgrind.

The inner run is this interpreter as started (``sys.executable``, not the file
it links to): a venv's ``bin/python`` is a symlink to the base interpreter, and
only through the link does Python find the venv (``pyvenv.cfg``) and its packages.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_engine import PACK, mixed_stream
from engine.engine import Engine
from engine.loader import load_rules


def _counted(events: int, warm: int, prefix: str | None) -> None:
    """The inner run: collection on around the timed loop only."""
    if prefix is not None and sys.prefix != prefix:
        sys.exit(f"the counted run found {sys.prefix}, not {prefix}: wrong interpreter")
    stream = mixed_stream(events)
    engine = Engine(load_rules(PACK))
    gc.freeze()
    engine.process_many(stream[:warm])
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
    engine.process_many(stream[warm:])
    subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--warm", type=int, default=5_000)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        _counted(args.events, args.warm, args.prefix)
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={tmp}/cg.out", sys.executable,
             __file__, "--inner", "--events", str(args.events), "--warm", str(args.warm),
             "--prefix", sys.prefix],
            capture_output=True, text=True, check=False)
    if run.returncode:
        sys.exit(f"the counted run failed:\n{run.stderr[-2000:]}")
    found = re.search(r"Collected : (\d+)", run.stderr)
    if found is None:
        sys.exit(f"no count in valgrind's output:\n{run.stderr}")
    counted = args.events - args.warm
    print(f"engine, bench_engine mix: {int(found.group(1)) / counted:,.0f} instructions/event "
          f"(callgrind, {counted:,} events after {args.warm:,} warm-up, process_many)")


if __name__ == "__main__":
    main()
