"""The README's first command installs no extras: the demo must not need openstacksdk."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Run the CLI in a child where `import openstack` fails, as on a plain `pip install -e .`.
BLOCK_OPENSTACK = """
import sys
class _NoOpenStack:
    def find_spec(self, name, path=None, target=None):
        if name == "openstack" or name.startswith("openstack."):
            raise ModuleNotFoundError("No module named 'openstack'")
        return None
sys.meta_path.insert(0, _NoOpenStack())
from dreamcatcher.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCK_OPENSTACK, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_demo_runs_without_openstacksdk() -> None:
    result = run_cli("demo")
    assert result.returncode == 0, result.stderr
    # how many alerts is tests/pack/test_demo.py's (exactly nine once the oslo parser fix lands)
    assert re.search(r"\b9 alerts from 10 rules", result.stderr), result.stderr
    assert "port.disable (dry-run)" in result.stdout


ENFORCE_WITHOUT_SDK = """
from datetime import datetime, timezone
from adapters.remediation import Remediator
from adapters.remediation.config import RemediationConfig
from engine.firing import ActionRequest, Firing

config = RemediationConfig.model_validate({"enforce": ["port.disable"]})
firing = Firing(id="f1", rule="bpdu-guard-trip", severity="critical", title="t",
                time=datetime(2026, 1, 1, tzinfo=timezone.utc),
                actions=[ActionRequest(hook="port.disable", mode="enforce",
                                       args={"port_id": "0016157b-7e26-4277-b803-02ab60676871"})])
[record] = Remediator(config, None).handle(firing)
print(record.outcome, "|", record.reason)
"""


def test_enforced_openstack_hook_without_sdk_fails_with_the_fix() -> None:
    prelude = BLOCK_OPENSTACK.split("from dreamcatcher.cli")[0]
    result = subprocess.run([sys.executable, "-c", prelude + ENFORCE_WITHOUT_SDK], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    outcome, reason = result.stdout.strip().split(" | ")
    assert outcome == "failed"
    assert "pip install 'dreamcatcher[openstack]'" in reason
