"""How parse time grows with line length on hostile lines, per corpus file.

Each corpus file's first lines of each shape are pumped (``tests/logs/pumping.py``:
one slice repeated, with and without the rest of the line) to ``--small`` and
``--large`` characters, and the header split plus the file's parser timed on both
(best of 3). A linear parse grows by ``large/small``; the worst ratio and the
slowest large line per file are printed, then the fixed cases of issue 19 (a
nova-api uwsgi line, ``split_header`` on a line of ``a.log.``).

    PYTHONPATH=. python bench/bench_regex_growth.py [--small 8192] [--large 65536]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.logs.base import StreamContext
from adapters.logs.header import split_header
from adapters.logs.router import kind_for_origin, make_parser
from bench.common import CORPUS, pin_one_core
from tests.logs.pumping import pumped

LOGS = CORPUS / "logs"


def best_of(fn: Callable[[], object], n: int = 3) -> float:
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def parse_time(path: Path, line: str) -> float:
    parser = make_parser(kind_for_origin(str(path)), StreamContext(str(path), 2020))

    def once() -> object:
        try:
            return parser.parse(split_header(line, 2020), line, 0)
        except Exception as exc:  # the pipeline dead-letters these; time them all the same
            return exc
    return best_of(once)


def shapes(path: Path, per_file: int) -> list[str]:
    """The first line of each distinct first word after the header, up to ``per_file``."""
    seen: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        key = split_header(line, 2020).message[:12]
        if line and key not in seen:
            seen[key] = line
        if len(seen) >= per_file:
            break
    return list(seen.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", type=int, default=8192)
    ap.add_argument("--large", type=int, default=65536)
    ap.add_argument("--per-file", type=int, default=4)
    ap.add_argument("--limit", type=int, default=16, help="cut points per line")
    args = ap.parse_args()
    pin_one_core()
    print(f"{'file':40} {'lines':>6} {'worst ratio':>11} {'slowest large':>14}  case")
    for path in sorted(LOGS.glob("*.log")):
        worst, slowest, case, n = 0.0, 0.0, "", 0
        for line in shapes(path, args.per_file):
            small = dict(pumped(line, args.small, args.limit))
            for label, big in pumped(line, args.large, args.limit):
                small_line = small[label]
                t_small = parse_time(path, small_line)
                t_large = parse_time(path, big)
                n += 1
                ratio = t_large / max(t_small, 1e-6)
                if t_large > slowest:
                    slowest, case = t_large, f"{line[:30]!r} {label}"
                worst = max(worst, ratio if t_large > 1e-4 else 0.0)
        print(f"{path.name:40} {n:6} {worst:11.1f} {slowest * 1e3:11.2f} ms  {case}")
    uwsgi = ("[pid: 1|app: 0|req: 1/1] 10.0.0.1 (" + "() {" * (args.large // 4) + ")")
    header = "a.log." * (args.large // 6)
    nova = LOGS / "nova-api-access-other.log"
    print(f"uwsgi hostile line, {len(uwsgi)} chars: {parse_time(nova, uwsgi) * 1e3:.2f} ms")
    t = best_of(lambda: split_header(header, 2020))
    print(f"split_header on 'a.log.' x {args.large // 6}: {t * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
