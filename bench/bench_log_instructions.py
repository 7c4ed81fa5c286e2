"""Raw log line -> events (and -> the shipped rules), instructions per line under callgrind.

    python bench/bench_log_instructions.py [--before /path/to/other/checkout] [--lines 10000]

The same corpus-weighted mixed stream as ``bench_parsers.py --full`` (every corpus
file its own stream, batches round-robin), counted by callgrind once warm: the
count repeats within a fraction of a percent whatever else the machine runs, so
``--before`` (another checkout's code, e.g. the commit before a change) can be
compared with this one on a busy machine. ``parse`` is raw line -> Event,
``full`` adds ``Engine.process_many`` per delivery with the shipped rules.

``--rate 150000`` also runs ``bench_parsers.py --only-full`` (CPU time, one core) on
every checkout, in the same run, and turns that rate into instructions: the
``full`` count per line that makes the given lines/s on this machine, from each
checkout's instructions and seconds per line (instructions/s is about the same
whatever the code, so the checkouts' figures agree when the machine is steady).
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve()


def _counted(root: Path, mode: str, lines: int) -> None:
    """Run once warm, then once with callgrind's instrumentation on; print the line count."""
    sys.path.insert(0, str(root))
    from adapters.logs import kind_for_origin
    from bench import bench_parsers as parsers
    from engine.engine import Engine
    from engine.loader import load_rules

    kinds = parsers._lines_by_kind()
    streams = [(name, kind_for_origin(name) or "syslog", text)
               for files in kinds.values() for name, text in files]
    batches = parsers._mixed(streams, lambda n: n, lines)
    rules = load_rules(parsers.RULES)

    def parse(engine: Engine) -> None:
        for _event in parsers._events(batches):
            pass

    def full(engine: Engine) -> None:
        for batch in batches:
            engine.process_many(list(parsers._events([batch])))
        engine.drain()

    run = parse if mode == "parse" else full
    run(Engine(rules))
    engine = Engine(rules)  # built before counting: compiling the rules is not per line
    gc.collect()
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
    run(engine)
    subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)
    print(f"LINES {sum(len(b[3]) for b in batches)}", file=sys.stderr)


def _instructions(root: Path, mode: str, lines: int) -> tuple[float, int]:
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(root)}
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null",
         sys.executable, str(HERE), "--count", mode, "--root", str(root), "--lines", str(lines)],
        capture_output=True, text=True, check=True, env=env, cwd=root)
    collected = count = None
    for line in done.stderr.splitlines():
        if "Collected :" in line:
            collected = int(line.rsplit(":", 1)[1].replace(",", ""))
        elif line.startswith("LINES "):
            count = int(line.split()[1])
    if collected is None or not count:
        raise SystemExit(f"no count in valgrind's output:\n{done.stderr}")
    return collected / count, count


def _rate(root: Path, lines: int) -> float:
    """``bench_parsers.py --only-full``'s raw line -> rules lines/s for ``root``'s code."""
    done = subprocess.run(
        [sys.executable, str(root / "bench" / "bench_parsers.py"), "--only-full",
         "--lines", str(lines)],
        capture_output=True, text=True, check=True, cwd=root,
        env={**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(root)})
    for line in done.stdout.splitlines():
        if line.startswith("raw line -> rules"):
            return float(line.split()[4].replace(",", ""))
    raise SystemExit(f"no rate in bench_parsers.py's output:\n{done.stdout}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, help="another checkout, measured alike")
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--rate", type=float, help="lines/s to express as instructions/line")
    parser.add_argument("--rate-lines", type=int, default=100_000,
                        help="lines of the wall-clock run behind --rate")
    parser.add_argument("--root", type=Path, default=HERE.parents[1], help=argparse.SUPPRESS)
    parser.add_argument("--count", choices=("parse", "full"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count:
        _counted(args.root, args.count, args.lines)
        return 0
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed")
    roots = {"after": HERE.parents[1], **({"before": args.before} if args.before else {})}
    full: dict[str, float] = {}
    for mode in ("parse", "full"):
        for label, root in roots.items():
            per, count = _instructions(root.resolve(), mode, args.lines)
            full[label] = per
            print(f"{label:6} {mode:5} {per:9,.0f} instructions/line ({count} lines)")
    if args.rate:
        for label, root in roots.items():
            rate = _rate(root.resolve(), args.rate_lines)
            print(f"{label:6} full  {rate:9,.0f} lines/s (CPU time): {args.rate:,.0f} lines/s "
                  f"is {full[label] * rate / args.rate:,.0f} instructions/line here")
    return 0


if __name__ == "__main__":
    sys.exit(main())
