"""Raw line -> Event throughput per parser kind and for a mixed stream, one core.

Input is the real corpus (``tests/corpus/logs`` or $DREAMCATCHER_CORPUS),
each file's lines repeated to the sample size. Prints lines per CPU-second
(``time.process_time``, so other load on the machine does not count) per kind,
then the mixed stream: every corpus file as its own stream, read in batches
round-robin (as followers deliver them), weighted as the corpus is (two
thirds nova-api) and with every file weighted equally (200 lines a round).

``--full`` adds the whole path raw line -> Event -> ``Engine.process`` with the
shipped rules (``rules/``) over the corpus-weighted mixed stream, and beside it
the same stream parse-only and engine-only (events parsed beforehand), so the
share of each stage is visible.

    python bench/bench_parsers.py [--lines 200000] [--full] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.logs import kind_for_origin, parse_lines
from bench.common import CORPUS, pin_one_core
from engine.engine import Engine
from engine.events import Event
from engine.loader import load_rules

LOGS = CORPUS / "logs"
RULES = Path(__file__).resolve().parents[1] / "rules"
#: (origin, kind, first position, lines): one follower delivery.
Batch = tuple[str, str, int, list[str]]


def _lines_by_kind() -> dict[str, list[tuple[str, list[str]]]]:
    kinds: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    for path in sorted(LOGS.glob("*.log")):
        kind = kind_for_origin(str(path))
        assert kind is not None
        kinds[kind].append((path.name, path.read_text().splitlines()))
    if not kinds:  # the mixed stream would wait for lines forever
        sys.exit(f"no corpus logs in {LOGS}; set DREAMCATCHER_CORPUS")
    return kinds


def _events(batches: list[Batch]) -> Iterator[Event]:
    """Every batch parsed as its stream's next lines (positions go on, ids stay unique)."""
    for origin, kind, start, lines in batches:
        yield from parse_lines(lines, origin, kind, year=2020, start_position=start)


def _rate(batches: list[Batch]) -> tuple[float, int, int]:
    """Best lines/s (CPU time) over ``--repeat`` runs of the batches, events produced."""
    total = sum(len(b[3]) for b in batches)
    best = float("inf")
    events = 0
    for _ in range(REPEAT):
        events = 0
        start = time.process_time()  # CPU time of this process: one core, not wall time
        for _event in _events(batches):
            events += 1
        best = min(best, time.process_time() - start)
    return total / best, total, events


def _mixed(streams: list[tuple[str, str, list[str]]], weight: Callable[[int], int],
           n: int) -> list[Batch]:
    """Round-robin batches over all streams until ``n`` lines, ``weight(len)`` lines a round."""
    cycles = {name: itertools.cycle(lines) for name, _, lines in streams}
    per_round = {name: max(1, 2 * weight(len(lines))) for name, _, lines in streams}
    offsets = dict.fromkeys(cycles, 0)
    batches: list[Batch] = []
    count = 0
    while count < n:
        for name, kind, _ in streams:
            chunk = list(itertools.islice(cycles[name], per_round[name]))
            batches.append((name, kind, offsets[name], chunk))
            offsets[name] += len(chunk)
            count += len(chunk)
    return batches


def _full(batches: list[Batch]) -> None:
    """Raw lines -> events -> rules, and the two halves alone, best of ``--repeat``.

    Each follower delivery's events go to the engine in one ``process_many``
    call, as ``Pipeline.handle_batch`` hands them over. Parse-only counts events
    without keeping them; the engine-only run gets the events parsed
    beforehand, frozen out of the garbage collector's sight as
    ``bench_engine.py`` does, since they are its input.
    """
    rules = load_rules(RULES)
    parse_rate, total, events = _rate(batches)
    parsed = [list(_events([batch])) for batch in batches]
    gc.freeze()
    engine_s = full_s = float("inf")
    for _ in range(REPEAT):
        engine = Engine(rules)
        start = time.process_time()
        for delivery in parsed:
            engine.process_many(delivery)
        engine.drain()
        engine_s = min(engine_s, time.process_time() - start)
    del parsed, engine
    gc.unfreeze()
    gc.collect()
    firings = 0
    for _ in range(REPEAT):
        engine = Engine(rules)
        firings = 0
        start = time.process_time()
        for batch in batches:  # one follower delivery, handed over as the pipeline does
            firings += len(engine.process_many(list(_events([batch]))))
        firings += len(engine.drain())
        full_s = min(full_s, time.process_time() - start)
    late = engine.late
    print(f"full path, {len(rules)} shipped rules, mixed (corpus weights): {total} lines, "
          f"{events} events, {firings} firings, {late} events behind the watermark")
    print(f"{'parse only':<24} {parse_rate:>10,.0f} lines/s  "
          f"{1e6 / parse_rate:6.2f} us/line")
    print(f"{'engine only':<24} {total / engine_s:>10,.0f} lines/s  "
          f"{engine_s / total * 1e6:6.2f} us/line ({events / engine_s:,.0f} events/s)")
    print(f"{'raw line -> rules':<24} {total / full_s:>10,.0f} lines/s  "
          f"{full_s / total * 1e6:6.2f} us/line")


REPEAT = 3


def main() -> None:
    global REPEAT
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--full", action="store_true", help="also raw line -> Event -> rules")
    ap.add_argument("--only-full", action="store_true", help="skip the per-kind figures")
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs per figure")
    args = ap.parse_args()
    REPEAT = args.repeat
    pin_one_core()
    kinds = _lines_by_kind()
    streams = [(name, kind_for_origin(name) or "syslog", lines)
               for files in kinds.values() for name, lines in files]
    print(f"python {sys.version.split()[0]}, one core, {args.lines} lines per figure, "
          f"best of {REPEAT}")
    if not args.only_full:
        print(f"{'kind':<14} {'lines/s':>10} {'events/line':>12}")
        for kind, files in sorted(kinds.items()):
            pool = list(itertools.chain.from_iterable(lines for _, lines in files))
            sample = list(itertools.islice(itertools.cycle(pool), args.lines))
            batches = [(f"{kind}.log", kind, i, sample[i:i + 1000])
                       for i in range(0, len(sample), 1000)]
            rate, total, events = _rate(batches)
            print(f"{kind:<14} {rate:>10,.0f} {events / total:>12.2f}")
        weights: tuple[tuple[str, Callable[[int], int]], ...] = (
            ("mixed (corpus weights)", lambda n: n), ("mixed (files equal)", lambda n: 100))
        for label, weight in weights:
            rate, total, events = _rate(_mixed(streams, weight, args.lines))
            print(f"{label:<24} {rate:>10,.0f} lines/s  ({total} lines, {events} events)")
    if args.full or args.only_full:
        gc.collect()
        _full(_mixed(streams, lambda n: n, args.lines))


if __name__ == "__main__":
    main()
