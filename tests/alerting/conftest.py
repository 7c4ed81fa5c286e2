"""Firings built from real corpus lines, and a local HTTP stand-in for chat and friends."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from engine.firing import Firing
from tests.stand_in import Reply, StandIn

FiringFactory = Callable[..., Firing]

_BPDU = re.compile(r"^(\w{3} +\d+ [\d:]+) (\S+) .*BLOCK_BPDUGUARD: .* on (\S+) with .*"
                   r"source mac ([0-9a-f:]+)\)")


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn()
    server.route("POST", "/", lambda _r: Reply(200, b"ok"))
    yield server
    server.close()


@pytest.fixture(scope="session")
def bpdu_incident(corpus: Path) -> dict[str, Any]:
    """The Arista BPDU-guard line and a tenant instance name from the nova samples."""
    line = (corpus / "logs/switch-bpduguard-arista-eos.log").read_text().splitlines()[0]
    match = _BPDU.match(line)
    assert match, line
    stamp, switch, interface, mac = match.groups()
    sample = orjson.loads((corpus / "notifications/nova-versioned/common_payloads/"
                           "InstancePayload.json").read_bytes())
    return {
        "time": datetime.strptime(f"2024 {stamp}", "%Y %b %d %H:%M:%S").replace(tzinfo=UTC),
        "switch": switch,
        "interface": interface,
        "mac": mac,
        "instance": sample["nova_object.data"]["display_name"],
        "line": line,
    }


@pytest.fixture
def make_firing(bpdu_incident: dict[str, Any]) -> FiringFactory:
    """``make_firing(n, offset_s=..., **overrides)``: firing number n of the BPDU incident."""

    def build(n: int = 0, offset_s: float = 0.0, **over: Any) -> Firing:
        inc = bpdu_incident
        fields: dict[str, Any] = {
            "id": f"bpdu-guard-trip:{inc['switch']}:{n}",
            "rule": "bpdu-guard-trip",
            "severity": "critical",
            "time": inc["time"] + timedelta(seconds=offset_s),
            "title": f"BPDU guard on {inc['switch']} {inc['interface']}: "
                     f"instance {inc['instance']}",
            "text": f"Evidence: {inc['line']}",
            "labels": {"rule": "bpdu-guard-trip", "severity": "critical",
                       "switch": inc["switch"]},
            "group_key": f"bpdu-guard-trip|switch={inc['switch']}",
            "repeat_seconds": 3600.0,
        }
        fields.update(over)
        return Firing(**fields)

    return build
