"""Shared bench helpers: one core, timing, memory."""

from __future__ import annotations

import os
import resource
from pathlib import Path

#: the corpus vendored with the tests (tests/corpus/README.md); DREAMCATCHER_CORPUS overrides it
CORPUS = Path(os.environ.get("DREAMCATCHER_CORPUS",
                             Path(__file__).resolve().parents[1] / "tests" / "corpus"))


def pin_one_core() -> None:
    """The numbers are per core: pin the process to a single CPU."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
