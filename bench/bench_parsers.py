"""Raw line -> Event throughput per parser kind and for a mixed stream, one core.

Input is the real corpus (``/work/shared/corpus/logs`` or $DREAMCATCHER_CORPUS),
each file's lines repeated to the sample size. Prints lines per CPU-second
(``time.process_time``, so other load on the machine does not count) per kind,
then the mixed stream: every corpus file as its own stream, read in batches
round-robin (as followers deliver them), weighted as the corpus is (two
thirds nova-api) and with every file weighted equally (200 lines a round).

    python bench/bench_parsers.py [--lines 200000]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.logs import kind_for_origin, parse_lines

CORPUS = Path(os.environ.get("DREAMCATCHER_CORPUS", "/work/shared/corpus")) / "logs"


def _lines_by_kind() -> dict[str, list[tuple[str, list[str]]]]:
    kinds: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    for path in sorted(CORPUS.glob("*.log")):
        kind = kind_for_origin(str(path))
        assert kind is not None
        kinds[kind].append((path.name, path.read_text().splitlines()))
    return kinds


def _rate(batches: list[tuple[str, str, list[str]]]) -> tuple[float, int, int]:
    """lines/s over ``(origin, kind, lines)`` batches, events produced."""
    total = sum(len(b[2]) for b in batches)
    events = 0
    start = time.process_time()  # CPU time of this process: one core, not wall time
    for origin, kind, lines in batches:
        for _ in parse_lines(lines, origin, kind, year=2020):
            events += 1
    elapsed = time.process_time() - start
    return total / elapsed, total, events


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=200_000)
    args = ap.parse_args()
    kinds = _lines_by_kind()
    print(f"python {sys.version.split()[0]}, one process, {args.lines} lines per figure")
    print(f"{'kind':<14} {'lines/s':>10} {'events/line':>12}")
    for kind, files in sorted(kinds.items()):
        pool = list(itertools.chain.from_iterable(lines for _, lines in files))
        sample = list(itertools.islice(itertools.cycle(pool), args.lines))
        batches = [(f"{kind}.log", kind, sample[i:i + 1000]) for i in range(0, len(sample), 1000)]
        rate, total, events = _rate(batches)
        print(f"{kind:<14} {rate:>10,.0f} {events / total:>12.2f}")
    streams = [(name, kind_for_origin(name) or "syslog", lines)
               for files in kinds.values() for name, lines in files]
    weights: tuple[tuple[str, Callable[[int], int]], ...] = (
        ("mixed (corpus weights)", lambda n: n), ("mixed (files equal)", lambda n: 100))
    for label, weight in weights:
        cycles = {name: itertools.cycle(lines) for name, _, lines in streams}
        per_round = {name: max(1, 2 * weight(len(lines))) for name, _, lines in streams}
        batches: list[tuple[str, str, list[str]]] = []
        count = 0
        while count < args.lines:
            for name, kind, _ in streams:
                chunk = list(itertools.islice(cycles[name], per_round[name]))
                batches.append((name, kind, chunk))
                count += len(chunk)
        rate, total, events = _rate(batches)
        print(f"{label:<24} {rate:>10,.0f} lines/s  ({total} lines, {events} events)")


if __name__ == "__main__":
    main()
