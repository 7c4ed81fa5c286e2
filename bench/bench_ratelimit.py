"""Remediation rate limiter: microseconds per firing with 1,000 and with 100,000+ live targets.

Run: PYTHONPATH=. python bench/bench_ratelimit.py   (about 10 s; prints its figures)

Each firing names a new target (per-target limit 1/1h) and one of three hooks,
one firing per second of event time, so after N firings N targets' windows are
live (an hour holds 3,600; the 100,000 case uses a 2-day window). Figures are
the mean over the last 2,000 firings at each size.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.remediation.config import RateLimit
from adapters.remediation.ratelimit import RateLimiter

PER_HOOK = RateLimit(count=10**9, per=3600)
SAMPLE = 2_000


def us_per_firing(targets: int, per: float) -> tuple[float, int]:
    limiter = RateLimiter()
    per_target = RateLimit(count=1, per=per)
    t0 = 1_700_000_000.0
    for i in range(targets):  # fill: `targets` live windows
        limiter.admit([(f"hook:{i % 3}", PER_HOOK), (f"target:{i}", per_target)], t0 + i)
    start = time.perf_counter()
    for j in range(targets, targets + SAMPLE):
        limiter.admit([(f"hook:{j % 3}", PER_HOOK), (f"target:{j}", per_target)], t0 + j)
    held = len(limiter) if hasattr(limiter, "__len__") else -1
    return (time.perf_counter() - start) / SAMPLE * 1e6, held


def main() -> None:
    for targets, per in ((1_000, 3600.0), (100_000, 2 * 86400.0), (150_000, 2 * 86400.0)):
        us, held = us_per_firing(targets, per)
        print(f"{targets:>7} live targets: {us:8.1f} µs/firing  (windows held: {held})")


if __name__ == "__main__":
    main()
