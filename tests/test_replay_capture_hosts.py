"""The real OpenStack 2025.1 capture replayed with the shipped rules (issue 14).

One image-to-volume boot failed there because cinder put the volume in ``error``
after 3 s: that is ``volume-build-failed``, not ``bdm-wait-exhausted`` (no wait ran
out), and every alert names its host. The capture's logs lie flat in one folder and
their lines name no host; the host (``feas-compute``, the publisher of the capture's
nova notifications) is given with ``replay --host``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CAPTURE = Path(__file__).parent / "corpus" / "openstack-2025.1"


def _replay(tmp_path: Path, *extra: str) -> list[dict[str, object]]:
    logs = sorted(str(p) for p in (CAPTURE / "logs").glob("*.log"))
    proc = subprocess.run(
        [sys.executable, "-m", "dreamcatcher.cli", "replay", "--format", "json",
         "--allow-rejects", "--no-progress", "--dead-letter", str(tmp_path / "dead.jsonl"),
         *extra, str(CAPTURE / "notifications.jsonl"), *logs],
        capture_output=True, text=True, check=True, timeout=300)
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def test_the_capture_gives_no_wait_exhausted_alert_and_names_every_host(tmp_path: Path) -> None:
    alerts = _replay(tmp_path, "--host", "feas-compute")
    rules = [a.get("rule") for a in alerts]
    assert "bdm-wait-exhausted" not in rules
    assert rules.count("volume-build-failed") == 1
    for alert in alerts:
        labels = alert.get("labels") or {}
        assert isinstance(labels, dict) and labels.get("host") == "feas-compute", alert


def test_a_glob_names_one_file_s_host(tmp_path: Path) -> None:
    alerts = _replay(tmp_path, "--host", "*/nova-compute.log=compute-7")
    [alert] = [a for a in alerts if "volume-build-failed" in json.dumps(a)]
    assert alert["labels"]["host"] == "compute-7"  # type: ignore[index]
