"""Running ``dreamcatcher explain`` / ``backtest`` in-process and reading their JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from dreamcatcher.cli import main

Run = Callable[..., Any]


@pytest.fixture
def run_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """``main([*args, --format json])``'s one JSON document (status 0 asserted)."""

    def run(*args: str) -> Any:
        status = main([*args, "--format", "json", "--dead-letter", str(tmp_path / "dead.jsonl")])
        out, err = capsys.readouterr()
        assert status == 0, err
        return json.loads(out)

    return run


def jsonl(path: Path, *events: Mapping[str, object]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path
