"""Coverage-guided fuzzing of the log path with atheris, for a long (nightly) run.

Each input is one line, decoded as UTF-8 with replacement, fed through the header
split and every parser kind with the suite's property (``tests/logs/test_fuzz``):
nothing escapes the pipeline, every line is accounted for, no parser failure but the
known ones. A crash leaves ``crash-<hash>`` with the input; it becomes a named test
in ``tests/logs/test_bad_lines.py``.

    python -m pip install atheris
    PYTHONPATH=. python bench/fuzz_logs.py -max_total_time=3600 -max_len=4096 corpus_dir/
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    try:
        import atheris
    except ImportError:
        sys.exit("atheris is not installed: python -m pip install atheris")
    with atheris.instrument_imports():
        from tests.logs.test_fuzz import _accounted

    def one(data: bytes) -> None:
        _accounted(data.decode("utf-8", errors="replace"))

    atheris.Setup(sys.argv, one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
