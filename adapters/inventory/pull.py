"""Keeping the inventory fresh from the cloud's API through openstacksdk.

Dumps seed the inventory once; a pull every ``every`` (``inventory.pull:
{cloud: NAME, every: 1h}``) catches what the notification stream missed while
the worker was down, and forgets what was deleted meanwhile. The SDK's
resources are turned into the rows ``openstack ... list --long -f json`` prints
and handed to ``snapshot.facts_from_rows``: one mapping from the cloud's
listings to facts, whichever way they were fetched.

openstacksdk is the ``openstack`` extra; without it ``pull`` fails with one
message saying which extra to install, and nothing else needs it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field

from adapters.inventory.snapshot import facts_from_files, facts_from_rows
from engine.events import FactKind, FactUpdate
from engine.schema import Duration

log = structlog.get_logger(__name__)

Rows = list[dict[str, Any]]


class PullError(RuntimeError):
    """The cloud could not be listed; the message says which cloud and why."""


class PullConfig(BaseModel):
    """``cloud``: the clouds.yaml entry (admin: every project's servers and volumes);
    ``every``: the refresh period; ``timeout``: per API call."""

    model_config = ConfigDict(extra="forbid")

    cloud: str = Field(min_length=1)
    every: Duration = 3600.0
    timeout: Duration = 60.0


class InventoryConfig(BaseModel):
    """``inventory: {dumps: [paths], pull: {cloud: NAME, every: 1h}, max_age: 7d}``.

    ``max_age``: a fact no event and no pull mentions for that long (event time)
    expires, so the inventory cannot grow without bound; ``null`` keeps facts
    until they are deleted. Keep it well above ``pull.every`` (a pull re-stamps
    every fact it lists) or, without a pull, above the gap between nova's audit
    notifications, or quiet instances drop out of joins."""

    model_config = ConfigDict(extra="forbid")

    dumps: list[Path] = Field(default_factory=list)
    pull: PullConfig | None = None
    max_age: Duration | None = Field(default=7 * 86400.0, gt=0)

    def seed(self) -> list[FactUpdate]:
        """The dumps' facts (``SnapshotError`` on a bad dump); the pull is separate, it
        needs the network and is retried."""
        return facts_from_files(self.dumps) if self.dumps else []


# -- SDK resources -> listing rows ---------------------------------------------------------

def _get(resource: Any, name: str) -> Any:
    return getattr(resource, name, None)


def server_row(server: Any) -> dict[str, Any]:
    image = _get(server, "image")
    flavor = _get(server, "flavor")
    addresses = _get(server, "addresses") or {}
    return {
        "ID": server.id, "Name": _get(server, "name"), "Status": _get(server, "status"),
        "Networks": {net: [a.get("addr") for a in addrs if isinstance(a, dict)]
                     for net, addrs in addresses.items()},
        "Image ID": (_get(image, "id") if image else None) or "",
        "Flavor Name": (_get(flavor, "original_name") or _get(flavor, "name")
                        or _get(flavor, "id")) if flavor else None,
        "Host": _get(server, "compute_host"),
        "Project ID": _get(server, "project_id"), "User ID": _get(server, "user_id"),
    }


def port_row(port: Any) -> dict[str, Any]:
    return {
        "ID": port.id, "Name": _get(port, "name") or "",
        "MAC Address": _get(port, "mac_address") or "",
        "Fixed IP Addresses": list(_get(port, "fixed_ips") or []),
        "Status": _get(port, "status"), "Device Owner": _get(port, "device_owner"),
        "Device ID": _get(port, "device_id") or "", "Project ID": _get(port, "project_id"),
        "Network ID": _get(port, "network_id"),
    }


def network_row(network: Any) -> dict[str, Any]:
    up, external = _get(network, "is_admin_state_up"), _get(network, "is_router_external")
    return {
        "ID": network.id, "Name": _get(network, "name"), "Status": _get(network, "status"),
        "Project": _get(network, "project_id"),
        "State": None if up is None else ("UP" if up else "DOWN"),
        "Shared": _get(network, "is_shared"), "Subnets": list(_get(network, "subnet_ids") or []),
        "Network Type": _get(network, "provider_network_type"),
        "Router Type": None if external is None else ("External" if external else "Internal"),
    }


def hypervisor_row(hypervisor: Any) -> dict[str, Any]:
    service = _get(hypervisor, "service_details") or {}
    return {
        "ID": hypervisor.id, "Hypervisor Hostname": _get(hypervisor, "name"),
        "Hypervisor Type": _get(hypervisor, "hypervisor_type"),
        "Host IP": _get(hypervisor, "host_ip"), "State": _get(hypervisor, "state"),
        "Status": _get(hypervisor, "status"),
        "Host": service.get("host") if isinstance(service, dict) else None,
    }


def volume_row(volume: Any) -> dict[str, Any]:
    return {
        "ID": volume.id, "Name": _get(volume, "name") or "", "Status": _get(volume, "status"),
        "Size": _get(volume, "size"), "Attached to": list(_get(volume, "attachments") or []),
        "Project ID": _get(volume, "project_id"),
    }


def facts_from_resources(*, servers: Iterable[Any] = (), ports: Iterable[Any] = (),
                         networks: Iterable[Any] = (), hypervisors: Iterable[Any] = (),
                         volumes: Iterable[Any] = ()) -> list[FactUpdate]:
    """The facts of SDK resources, through the listing mapping."""
    return facts_from_rows([
        [server_row(s) for s in servers], [port_row(p) for p in ports],
        [network_row(n) for n in networks], [hypervisor_row(h) for h in hypervisors],
        [volume_row(v) for v in volumes],
    ])


# -- the cloud --------------------------------------------------------------------------------

def _sdk() -> Any:
    try:
        import openstack
        import openstack.exceptions
    except ImportError as exc:
        raise PullError("inventory pull needs openstacksdk: "
                        "pip install 'dreamcatcher[openstack]'") from exc
    return openstack


class InventoryPuller:
    """Lists the cloud and returns facts; a resource gone since the last pull comes
    back as a delete (only for what this puller itself saw: facts from notifications
    or dumps are not its to remove)."""

    def __init__(self, config: PullConfig,
                 connect: Callable[[], Any] | None = None) -> None:
        self.config = config
        self._connect = connect or self._sdk_connect
        self._conn: Any = None
        self._seen: set[tuple[FactKind, str]] = set()

    def _sdk_connect(self) -> Any:
        openstack = _sdk()
        return openstack.connect(cloud=self.config.cloud, api_timeout=self.config.timeout)

    def pull(self) -> list[FactUpdate]:
        where = f"inventory pull from cloud {self.config.cloud!r}"
        try:
            if self._conn is None:
                self._conn = self._connect()
            conn = self._conn
            facts = facts_from_resources(
                servers=conn.compute.servers(details=True, all_projects=True),
                ports=conn.network.ports(),
                networks=conn.network.networks(),
                hypervisors=conn.compute.hypervisors(details=True),
                volumes=conn.block_storage.volumes(details=True, all_projects=True),
            )
        except PullError:
            raise
        except Exception as exc:  # SDK, keystoneauth and config errors have no common base
            self._conn = None  # reconnect next time (a token or endpoint may have changed)
            raise PullError(f"{where}: {_why(exc)}") from exc
        seen = {(f.kind, f.id) for f in facts}
        gone = [FactUpdate(kind=kind, id=fact_id, delete=True)
                for kind, fact_id in sorted(self._seen - seen)]
        self._seen = seen
        return [*facts, *gone]

    def run_every(self, apply: Callable[[list[FactUpdate]], None],
                  stop: threading.Event) -> threading.Thread:
        """Pull now and then every ``every`` until ``stop``; a failed pull is logged and
        retried at the next period (the facts already known stay)."""

        def loop() -> None:
            while True:
                try:
                    facts = self.pull()
                except PullError as exc:
                    log.warning("inventory pull failed", error=str(exc))
                else:
                    apply(facts)
                    log.info("inventory pulled", cloud=self.config.cloud, facts=len(facts))
                if stop.wait(self.config.every):
                    return

        thread = threading.Thread(target=loop, name="inventory-pull", daemon=True)
        thread.start()
        return thread


def _why(exc: BaseException) -> str:
    """The SDK's own sentence, on one line, with its class for the unhelpful ones."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text
