"""Inventory seeding from `openstack ... list --long -f json` dumps (client column names)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from adapters.inventory import SnapshotError, facts_from_files
from engine.engine import Engine
from engine.events import Event
from engine.loader import load_rules
from tests.paths import REPO

SNAP = Path(__file__).parent / "snapshot"
FILES = [SNAP / "servers.json", SNAP / "ports.json", SNAP / "volumes.json"]


def test_facts_from_three_dumps() -> None:
    facts = {(f.kind, f.id): f.fields for f in facts_from_files(FILES)}
    centos = facts[("instance", "5f5cf9b5-7e80-4ebb-be07-f0d4bdd839ec")]
    assert centos["state"] == "active" and centos["host"] == "compute-4"
    assert centos["image_base_hash"] == "a489c868f0c37da93b76227c91bb03908ac0e742"
    bfv = facts[("instance", "873e2f41-4286-459a-8ac9-d11148dec3cf")]
    assert bfv["boot_from_volume"] is True and "image_id" not in bfv
    port = facts[("port", "0016157b-7e26-4277-b803-02ab60676871")]
    assert port["mac"] == "fa:16:3e:24:e7:22"
    assert port["device_id"] == "5f5cf9b5-7e80-4ebb-be07-f0d4bdd839ec"  # by fixed IP
    old_style = facts[("port", "9a7c0e9e-5b0e-4f0b-8d3c-111111111111")]
    assert old_style["device_id"] == "873e2f41-4286-459a-8ac9-d11148dec3cf"
    assert "device_id" not in facts[("port", "dhcp-port")]
    vol = facts[("volume", "219b20df-98aa-4323-b93d-79ade2ccf792")]
    assert vol["instance_ids"] == ["5f5cf9b5-7e80-4ebb-be07-f0d4bdd839ec"] and vol["size"] == 40


def test_seeded_inventory_feeds_the_rules() -> None:
    engine = Engine(load_rules([REPO / "rules" / "bpdu-guard-trip.yaml"]))
    assert engine.load_facts(facts_from_files(FILES)) == 7
    event = Event.model_validate({
        "id": "e1", "type": "switch.stp.bpdu_guard", "time": "2026-03-02T10:15:00Z",
        "mac": "fa:16:3e:24:e7:22", "data": {"switch": "SW-1", "interface": "Port-Channel35"}})
    [firing] = engine.process(event)
    assert "centos-bridge took compute-4" in firing.title


def test_bad_dump_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "images.json"
    bad.write_text('[{"ID": "x", "Disk Format": "qcow2"}]')
    with pytest.raises(SnapshotError, match="unknown listing"):
        facts_from_files([bad])
    proc = subprocess.run([sys.executable, "-m", "dreamcatcher.cli", "inventory", "load", str(bad)],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "unknown listing" in proc.stderr


def test_cli_summary() -> None:
    proc = subprocess.run([sys.executable, "-m", "dreamcatcher.cli", "inventory", "load",
                           *map(str, FILES)], cwd=REPO, capture_output=True, text=True,
                          check=True, timeout=60)
    assert "2 instances, 3 ports, 2 volumes" in proc.stdout
    assert "2 of 3 ports tied" in proc.stdout
