"""Inventory from the cloud's API: real openstacksdk resources into the dumps' facts.

No cloud is available to this suite yet; the conversion is tested on SDK resource
objects built locally (from nova's API samples and from the dumps' own values), and
the connection on a real refused TCP connection and a missing clouds.yaml entry.
"""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest
from openstack.block_storage.v3.volume import Volume
from openstack.compute.v2.hypervisor import Hypervisor
from openstack.compute.v2.server import Server
from openstack.network.v2.network import Network
from openstack.network.v2.port import Port
from pydantic import ValidationError

from adapters.inventory.pull import (
    InventoryConfig,
    InventoryPuller,
    PullConfig,
    PullError,
    facts_from_resources,
)
from adapters.inventory.snapshot import facts_from_files
from engine.events import FactUpdate
from tests.paths import REPO
from tests.test_without_extras import BLOCK_OPENSTACK

API = Path(__file__).parent / "openstack_api"
SNAP = REPO / "tests" / "pack" / "snapshot"


def _dump(name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = orjson.loads((SNAP / name).read_bytes())
    return rows


def test_nova_api_samples() -> None:
    servers = [Server.existing(**body) for body in
               orjson.loads((API / "servers-details-resp.json").read_bytes())["servers"]]
    hypervisors = [Hypervisor.existing(**body) for body in
                   orjson.loads((API / "hypervisors-detail-resp.json").read_bytes())
                   ["hypervisors"]]
    facts = {(f.kind, f.id): f.fields for f in
             facts_from_resources(servers=servers, hypervisors=hypervisors)}
    image = "70a599e0-31e7-49b7-b260-868f441e862b"
    assert facts[("instance", "f5dc173b-6804-445a-a6d8-c705dad5b5eb")] == {
        "name": "new-server-test", "state": "active", "image_id": image,
        "image_base_hash": hashlib.sha1(image.encode()).hexdigest(), "flavor": "m1.tiny",
        "project_id": "6f70656e737461636b20342065766572", "user_id": "fake",
        "boot_from_volume": False, "fixed_ips": ["192.168.1.30"]}
    assert facts[("host", "host2")] == {
        "hypervisor_hostname": "host2", "hypervisor_type": "fake", "host_ip": "192.168.1.135",
        "state": "up", "status": "enabled"}


# The dumps' rows as the API would give them: the same cloud, listed the other way.
def _server(row: dict[str, Any]) -> Server:
    nets = row["Networks"]
    if isinstance(nets, str):  # an older client's "private=10.0.0.22"
        net, _, ips = nets.partition("=")
        nets = {net: ips.split(", ")}
    image = row["Image ID"]
    return Server.existing(**{
        "id": row["ID"], "name": row["Name"], "status": row["Status"],
        "addresses": {net: [{"addr": ip, "version": 6 if ":" in ip else 4} for ip in ips]
                      for net, ips in nets.items()},
        "image": "" if image.startswith("N/A") else {"id": image},
        "flavor": {"original_name": row["Flavor Name"]},
        "OS-EXT-SRV-ATTR:host": row["Host"]})


def _port(row: dict[str, Any], owner: str | None) -> Port:
    ips = row["Fixed IP Addresses"]
    if isinstance(ips, str):  # "ip_address='10.0.0.22', subnet_id='a1b2'"
        ips = [{"ip_address": ips.split("'")[1], "subnet_id": ips.split("'")[3]}]
    return Port.existing(**{
        "id": row["ID"], "name": row["Name"], "mac_address": row["MAC Address"],
        "fixed_ips": ips, "status": row["Status"], "device_owner": row["Device Owner"],
        "device_id": owner or "", "network_id": "3b8a9d43-6c6b-4e0a-9c44-2f9a0c5e1d10"})


def _network(row: dict[str, Any]) -> Network:
    return Network.existing(**{
        "id": row["ID"], "name": row["Name"], "status": row["Status"],
        "project_id": row["Project"], "admin_state_up": row["State"] == "UP",
        "shared": row["Shared"], "subnets": row["Subnets"],
        "provider:network_type": row["Network Type"],
        "router:external": row["Router Type"] == "External"})


def _hypervisor(row: dict[str, Any]) -> Hypervisor:
    return Hypervisor.existing(**{
        "id": row["ID"], "hypervisor_hostname": row["Hypervisor Hostname"],
        "hypervisor_type": row["Hypervisor Type"], "host_ip": row["Host IP"],
        "state": row["State"], "service": {"host": row["Hypervisor Hostname"]}})


def _volume(row: dict[str, Any]) -> Volume:
    return Volume.existing(**{
        "id": row["ID"], "name": row["Name"], "status": row["Status"], "size": row["Size"],
        "attachments": row["Attached to"] or []})


def test_pulled_facts_are_the_dumps_facts() -> None:
    """Both ways of seeding agree; the API adds what the listing has no column for."""
    dumped = {(f.kind, f.id): f.fields for f in facts_from_files(sorted(SNAP.glob("*.json")))}
    by_ip = {f["fixed_ips"][0]: fid for (kind, fid), f in dumped.items() if kind == "instance"}
    ports = []
    for row in _dump("ports.json"):
        ips = row["Fixed IP Addresses"]
        first = ips[0]["ip_address"] if isinstance(ips, list) else ips.split("'")[1]
        owner = by_ip.get(first) if row["Device Owner"].startswith("compute:") else None
        ports.append(_port(row, owner))
    pulled = {(f.kind, f.id): f.fields for f in facts_from_resources(
        servers=[_server(r) for r in _dump("servers.json")], ports=ports,
        networks=[_network(r) for r in _dump("networks.json")],
        hypervisors=[_hypervisor(r) for r in _dump("hypervisors.json")],
        volumes=[_volume(r) for r in _dump("volumes.json")])}
    assert set(pulled) == set(dumped)
    assert {kind for kind, _ in pulled} == {"instance", "port", "volume", "network", "host"}
    for key, fields in dumped.items():
        extra = {k: v for k, v in pulled[key].items() if k not in fields}
        assert {k: pulled[key][k] for k in fields} == fields, key
        assert set(extra) <= {"network_id"}, (key, extra)
    assert pulled[("network", "f1c0e5a2-8d7e-4c1b-b1f4-9a3d2e6b7c80")]["external"] is True
    assert pulled[("host", "compute-5")]["state"] == "down"


class _Listing:
    """A connection's proxies returning real SDK resources (no HTTP behind): what the
    puller does with two successive listings."""

    def __init__(self, servers: list[Server]) -> None:
        self.servers_now = servers
        self.compute = self
        self.network = self
        self.block_storage = self

    def servers(self, **_: Any) -> list[Server]:
        return self.servers_now

    def hypervisors(self, **_: Any) -> list[Hypervisor]:
        return []

    def ports(self, **_: Any) -> list[Port]:
        return []

    def networks(self, **_: Any) -> list[Network]:
        return []

    def volumes(self, **_: Any) -> list[Volume]:
        return []


def test_a_refresh_forgets_what_was_deleted() -> None:
    a = Server.existing(id="a", name="a", status="ACTIVE", image={"id": "i"})
    b = Server.existing(id="b", name="b", status="ACTIVE", image={"id": "i"})
    listing = _Listing([a, b])
    puller = InventoryPuller(PullConfig(cloud="test"), connect=lambda: listing)
    first = puller.pull()
    assert sorted(f.id for f in first) == ["a", "b"] and not any(f.delete for f in first)
    listing.servers_now = [a]
    second = puller.pull()
    assert [f for f in second if f.delete] == [FactUpdate(kind="instance", id="b", delete=True)]
    assert [f.id for f in second if not f.delete] == ["a"]
    assert not any(f.delete for f in puller.pull())  # told once


def _refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def clouds_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "clouds.yaml"
    path.write_text(
        "clouds:\n  down:\n    auth:\n"
        f"      auth_url: http://127.0.0.1:{_refused_port()}/v3\n"
        "      username: admin\n      password: secret\n      project_name: admin\n"
        "      user_domain_name: Default\n      project_domain_name: Default\n"
        "    region_name: RegionOne\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    for var in ("OS_CLOUD", "OS_AUTH_URL", "OS_PASSWORD", "OS_USERNAME"):
        monkeypatch.delenv(var, raising=False)
    return path


def test_a_connection_failure_is_one_clear_error(clouds_yaml: Path) -> None:
    puller = InventoryPuller(PullConfig.model_validate({"cloud": "down", "timeout": "5s"}))
    with pytest.raises(PullError) as err:
        puller.pull()
    text = str(err.value)
    assert text.startswith("inventory pull from cloud 'down': ")
    assert "\n" not in text and "secret" not in text
    assert "127.0.0.1" in text  # where it tried


def test_an_unknown_cloud_is_one_clear_error(clouds_yaml: Path) -> None:
    with pytest.raises(PullError, match=r"cloud 'nope': .*nope.*not found"):
        InventoryPuller(PullConfig(cloud="nope")).pull()


def test_a_failing_pull_is_retried_on_its_period(clouds_yaml: Path) -> None:
    applied: list[list[FactUpdate]] = []
    stop = threading.Event()
    puller = InventoryPuller(PullConfig.model_validate({"cloud": "nope", "every": "50ms"}))
    attempts = []
    real_pull = puller.pull

    def counted() -> list[FactUpdate]:
        attempts.append(1)
        return real_pull()

    puller.pull = counted  # type: ignore[method-assign]
    thread = puller.run_every(applied.append, stop)
    deadline = threading.Event()
    while len(attempts) < 3 and not deadline.wait(0.05):
        pass
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive() and len(attempts) >= 3 and applied == []


def test_without_openstacksdk_the_message_names_the_extra() -> None:
    prelude = BLOCK_OPENSTACK.split("from dreamcatcher.cli")[0]
    code = prelude + (
        "from adapters.inventory.pull import InventoryPuller, PullConfig, PullError\n"
        "try:\n    InventoryPuller(PullConfig(cloud='x')).pull()\n"
        "except PullError as exc:\n    print(exc)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("inventory pull needs openstacksdk: "
                                     "pip install 'dreamcatcher[openstack]'")


def test_config() -> None:
    config = InventoryConfig.model_validate(
        {"dumps": [str(SNAP / "servers.json")], "pull": {"cloud": "prod", "every": "1h"}})
    assert config.pull is not None and config.pull.every == 3600
    assert [f.kind for f in config.seed()] == ["instance", "instance"]
    assert InventoryConfig().seed() == [] and InventoryConfig().pull is None
    with pytest.raises(ValidationError):
        InventoryConfig.model_validate({"pull": {"cloud": "prod", "evry": "1h"}})
    with pytest.raises(ValidationError):
        InventoryConfig.model_validate({"pull": {"cloud": "prod", "every": "0s"}})
