"""Wrong arguments to ``explain`` and ``backtest`` give one line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli_errors import dc, one_line


@pytest.mark.parametrize(("args", "status", "line"), [
    (["explain"], 2, "dreamcatcher: explain: the following arguments are required: rule, key"),
    (["explain", "no-such-rule", "x", "--demo"], 2,
     "dreamcatcher: explain: no enabled rule 'no-such-rule' in the rules (known: "),
    (["explain", "bdm-wait-exhausted", "x"], 2,
     "dreamcatcher: explain: needs at least one file or folder (or --demo)"),
    (["explain", "bdm-wait-exhausted", "x", "nowhere.jsonl"], 2,
     "dreamcatcher: explain: no such file: nowhere.jsonl"),
    (["explain", "bdm-wait-exhausted", " ", "--demo"], 2,
     "dreamcatcher: explain: the key is empty"),
    (["explain", "bdm-wait-exhausted", "x", "rules", "--demo"], 2,
     "dreamcatcher: explain: give files or --demo, not both"),
    (["explain", "bdm-wait-exhausted", "x", "--demo", "--config", "nowhere.yaml"], 1,
     "dreamcatcher: config: nowhere.yaml"),
    (["backtest", "--demo"], 2,
     "dreamcatcher: backtest: the following arguments are required: --against"),
    (["backtest", "--against", "rules", "--format", "xml", "--demo"], 2,
     "dreamcatcher: backtest: argument --format: invalid choice"),
    (["backtest", "--against", "rules"], 2,
     "dreamcatcher: backtest: needs at least one file or folder (or --demo)"),
])
def test_one_line(tmp_path: Path, args: list[str], status: int, line: str) -> None:
    one_line(dc(*args, "--dead-letter", str(tmp_path / "dead.jsonl")), status, line)
