"""The seeded incidents' real log lines (tests/corpus/openstack-2025.1-incidents, captured
from a run of the cloud tests) replayed offline: the four alerts, each naming its culprit,
and nothing else. Needs no cloud, so the parsers stay checked against what 2025.1 logs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cloud.worker import rule_pack
from tests.paths import REPO

CAPTURE = Path(__file__).parents[1] / "corpus" / "openstack-2025.1-incidents"


def test_the_capture_replays_to_the_four_incidents(tmp_path: Path) -> None:
    logs = [str(CAPTURE / f"{n}.log")
            for n in ("nova-api", "nova-compute", "cinder-api", "cinder-volume")]
    proc = subprocess.run(
        [sys.executable, "-m", "dreamcatcher.cli", "replay", "--format", "json",
         "--no-progress", "--rules", str(rule_pack(tmp_path / "rules")),
         "--host", "*/nova-*=dccloud-compute", "--host", "*/cinder-*=dccloud-volume",
         "--dead-letter", str(tmp_path / "dead.jsonl"), *logs],
        capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    alerts = {a["rule"]: a for a in map(json.loads, proc.stdout.splitlines())
              if a.get("rule")}
    assert sorted(alerts) == ["bdm-wait-exhausted", "console-log-flood",
                              "volume-create-lost-in-db", "volume-post-lost"]
    assert "8d96eb1a-d499-4d0e-b34f-2936aa8a78b7" in alerts["console-log-flood"]["title"]
    assert alerts["volume-post-lost"]["labels"]["instance_id"] == \
        "253bd69e-ffb2-4d31-aced-9d5139864341"
    assert "cb72b4fd-d0f0-4e5e-a0cb-1b6e5fe03a7a" in alerts["volume-create-lost-in-db"]["title"]
    assert alerts["bdm-wait-exhausted"]["title"].startswith("2 instances failed")
    assert alerts["bdm-wait-exhausted"]["labels"]["host"] == "dccloud-compute"
