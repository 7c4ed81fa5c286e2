"""The deployment files in deploy/: the sample config validates, the unit is sound."""

from __future__ import annotations

import configparser
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.inventory.pull import InventoryConfig
from dreamcatcher.config import DeploymentConfig
from dreamcatcher.httpd import HttpConfig
from dreamcatcher.logsetup import LoggingConfig
from tests.conftest import require_tool
from tests.paths import REPO

DEPLOY = REPO / "deploy"
#: Sections whose models live in this branch, validated here whatever DeploymentConfig has.
OPS_SECTIONS: dict[str, Any] = {"http": HttpConfig, "logging": LoggingConfig,
                                "inventory": InventoryConfig}
#: Sections of the live worker (sources, clock, outbox, rules): present in the sample,
#: validated through DeploymentConfig once it has them.
WORKER_SECTIONS = {"sources", "clock", "outbox", "rules"}
SECRETS = ("DREAMCATCHER_TRANSPORT_URL", "DREAMCATCHER_CHAT_URL",
           "DREAMCATCHER_ALERTMANAGER_AUTH", "DREAMCATCHER_WEBHOOK_SECRET")


@pytest.fixture
def sample(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for name in SECRETS:
        monkeypatch.setenv(name, f"https://secret.example/{name}")
    # the bus's URL is checked for a RabbitMQ scheme when the config is read
    monkeypatch.setenv("DREAMCATCHER_TRANSPORT_URL", "rabbit://dc:secret@rabbit.example:5672/")
    doc: dict[str, Any] = yaml.safe_load((DEPLOY / "deploy.yaml").read_text())
    return doc


def test_the_sample_has_every_section(sample: dict[str, Any]) -> None:
    expected = set(DeploymentConfig.model_fields) | set(OPS_SECTIONS) | WORKER_SECTIONS
    assert set(sample) == expected


def test_the_sample_validates(sample: dict[str, Any]) -> None:
    known = {k: v for k, v in sample.items() if k in DeploymentConfig.model_fields}
    config = DeploymentConfig.model_validate(known)
    assert [s.label() for s in config.alerting.sinks] == ["ops-room", "alertmanager",
                                                          "webhook", "jsonl"]
    assert config.alerting.sinks[0].url.reveal() == "https://secret.example/DREAMCATCHER_CHAT_URL"
    assert config.remediation.per_target.per == 3600
    for key, model in OPS_SECTIONS.items():
        model.model_validate(sample[key])
    assert InventoryConfig.model_validate(sample["inventory"]).pull.every == 3600  # type: ignore[union-attr]


def test_the_sample_amqp_section_names_the_recommended_queues(sample: dict[str, Any]) -> None:
    amqp = sample["sources"]["amqp"]
    assert amqp["transport_url"] == {"env": "DREAMCATCHER_TRANSPORT_URL"}  # never literal
    assert "dreamcatcher.info" in amqp["queues"] and "openstack" in amqp["exchanges"]


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "dreamcatcher.service")
    return parser


def test_unit_directives() -> None:
    service = _unit()["Service"]
    assert service["Type"] == "notify" and service["Restart"] == "on-failure"
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert "--config /etc/dreamcatcher/deploy.yaml" in service["ExecStart"]
    assert "--transport-url" not in service["ExecStart"]  # no secret on the command line
    assert service["ProtectSystem"] == "strict" and service["NoNewPrivileges"] == "yes"
    assert service["PrivateTmp"] == "yes" and service["DynamicUser"] == "yes"
    assert service["ReadWritePaths"] == "/var/lib/dreamcatcher"
    assert service["EnvironmentFile"].endswith("/etc/dreamcatcher/secrets.env")
    assert int(service["TimeoutStopSec"].removesuffix("s")) >= 90


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    tool = require_tool("systemd-analyze")
    unit = tmp_path / "dreamcatcher.service"
    # verify wants the executable to exist; everything else is the file as shipped
    unit.write_text((DEPLOY / "dreamcatcher.service").read_text()
                    .replace("/usr/local/bin/dreamcatcher", "/bin/true"))
    env = {**os.environ, "SYSTEMD_LOG_LEVEL": "warning"}
    verify = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True,
                            timeout=60, env=env)
    assert verify.returncode == 0 and "Unknown" not in verify.stderr, verify.stderr
    security = subprocess.run([tool, "security", "--offline=yes", "--threshold=30",
                               str(unit)], capture_output=True, text=True, timeout=60, env=env)
    assert security.returncode == 0, security.stdout[-2000:] + security.stderr  # exposure <= 3.0
