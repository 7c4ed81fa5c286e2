"""The bundled days: the bad day shows exactly the nine incidents, the quiet day nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.paths import REPO

NINE = {
    "volume-post-lost", "volume-create-lost-in-db", "bdm-wait-exhausted",
    "base-file-removed-in-use", "bpdu-guard-trip", "console-log-flood",
    "slow-api-db-bloat", "dhcp-lease-lost", "double-vlan-mtu",
}


def run_demo(tmp_path: Path, *extra: str) -> tuple[list[dict[str, object]], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "dreamcatcher.cli", "demo", "--format", "json",
         "--dead-letter", str(tmp_path / "dead.jsonl"), *extra],
        cwd=REPO, capture_output=True, text=True, check=True, timeout=60,
    )
    return [orjson.loads(line) for line in proc.stdout.splitlines() if line.strip()], proc.stderr


def test_bad_day_fires_each_incident_once(tmp_path: Path) -> None:
    alerts, stderr = run_demo(tmp_path)
    rules = [str(a["rule"]) for a in alerts]
    assert sorted(rules) == sorted(NINE), rules
    assert "rejected" not in stderr
    titles = {str(a["rule"]): str(a["title"]) for a in alerts}
    assert "bulk-4" in titles["volume-post-lost"]
    assert "compute-6" in titles["double-vlan-mtu"]
    assert "0673dd71-34c5-4fbb-86c4-40623fbe45b4" in titles["base-file-removed-in-use"]
    assert "SW-1 Port-Channel35" in titles["bpdu-guard-trip"]
    assert "ec2.RunInstances" in titles["slow-api-db-bloat"]
    assert titles["bdm-wait-exhausted"].startswith("2 instances")


def test_quiet_day_fires_nothing(tmp_path: Path) -> None:
    alerts, stderr = run_demo(tmp_path, "--quiet-day")
    assert alerts == []
    assert "0 alerts" in stderr


@pytest.mark.parametrize("day", ["bad-day", "quiet-day"])
def test_committed_demo_matches_generator(tmp_path: Path, day: str) -> None:
    subprocess.run([sys.executable, str(REPO / "demo" / "generate.py"), str(tmp_path)],
                   check=True, capture_output=True, timeout=60)
    for name in ("notifications.jsonl", "logs.events.jsonl"):
        fresh = (tmp_path / day / name).read_bytes()
        assert fresh == (REPO / "demo" / day / name).read_bytes(), f"{day}/{name} is stale"
