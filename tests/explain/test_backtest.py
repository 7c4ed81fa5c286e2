"""``dreamcatcher backtest``: two versions of a shipped rule over the bad day, and the
difference is exactly the alerts the change adds and removes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dreamcatcher.cli import main
from tests.explain.conftest import Run
from tests.paths import REPO

SHIPPED = REPO / "rules" / "bdm-wait-exhausted.yaml"
#: the bad day's two VolumeNotCreated lines (compute-3, compute-4), one second apart
SLOW = ["nova-compute.log#17687", "nova-compute.log#23867"]


def version(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the shipped rule with one setting changed, in a folder of its own."""
    folder = tmp_path / "b"
    folder.mkdir()
    text = SHIPPED.read_text()
    assert old in text
    (folder / SHIPPED.name).write_text(text.replace(old, new))
    return folder


def tails(ids: list[str]) -> list[str]:
    return [i.rsplit("/", 1)[-1] for i in ids]


def test_a_lower_threshold_trades_one_alert_for_one_per_instance(tmp_path: Path,
                                                                run_json: Run) -> None:
    b = version(tmp_path, "at_least: 2", "at_least: 1")
    out = run_json("backtest", "--rules", str(SHIPPED), "--against", str(b), "--demo")
    alerts_a = {a["id"]: a for a in out["a"]["alerts"]}
    alerts_b = {a["id"]: a for a in out["b"]["alerts"]}
    assert [tails(alerts_a[i]["event_ids"]) for i in out["only_a"]] == [SLOW]
    assert [tails(alerts_b[i]["event_ids"]) for i in out["only_b"]] == [[SLOW[0]], [SLOW[1]]]
    assert out["both"] == [] and out["same"] is False
    assert out["per_rule"] == {"bdm-wait-exhausted": {"a": 1, "b": 2, "only_a": 1,
                                                      "only_b": 2, "both": 0}}


def test_a_window_too_short_for_the_burst_loses_its_alert(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the two lines are 1 s apart: a window under a second no longer holds both
    b = version(tmp_path, "within: 15m", "within: 500ms")
    assert main(["backtest", "--rules", str(SHIPPED), "--against", str(b), "--demo",
                 "--dead-letter", str(tmp_path / "dead.jsonl")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "A gives 1 alert, B 0 alerts; 1 only in A, 0 only in B, 0 in both" in lines[2]
    assert re.fullmatch(r"  - 2026-03-02 09:33:11 UTC  bdm-wait-exhausted: 2 instances "
                        r"failed: .*", lines[3])
    assert lines[4].split() == ["per", "rule", "A", "B", "only", "A", "only", "B", "both"]
    assert lines[5].split() == ["bdm-wait-exhausted", "1", "0", "1", "0", "0"]


def test_the_shipped_pack_against_itself_differs_in_nothing(run_json: Run) -> None:
    out = run_json("backtest", "--against", str(REPO / "rules"), "--demo")
    assert out["same"] is True
    assert len(out["both"]) == 9 == len(out["a"]["alerts"])
    assert all(n["a"] == n["b"] == n["both"] == 1 for n in out["per_rule"].values())
