"""Inventory facts from ``openstack {server,port,volume,network,hypervisor} list --long
-f json`` dumps.

A cloud that already runs thousands of instances cannot wait for their
notifications; a snapshot gives the engine the same facts the stream would.
The dump kind is recognised from its columns. ``port list --long`` has no
device id column, so a port is tied to its instance through its fixed IPs,
matched against the servers' ``Networks`` (when servers are in the snapshot).
A hypervisor is a ``host`` fact named by its nova service host when the row has
one (``Host``: the API's ``service.host``, which is what events carry) and by its
hypervisor hostname otherwise. ``adapters.inventory.pull`` builds the same rows
from the cloud's API, so both ways of seeding give the same facts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from engine.events import FactUpdate, image_base_hash


class SnapshotError(ValueError):
    """A dump that is not one of the supported listings."""


#: The fields a snapshot may give each fact kind (``validate`` checks joins against them).
FACT_FIELDS: dict[str, frozenset[str]] = {
    "instance": frozenset({"name", "state", "host", "image_id", "image_base_hash", "flavor",
                           "project_id", "user_id", "boot_from_volume", "fixed_ips"}),
    "port": frozenset({"mac", "device_owner", "status", "fixed_ips", "name", "device_id",
                       "project_id", "network_id"}),
    "volume": frozenset({"name", "status", "size", "instance_ids", "project_id"}),
    "network": frozenset({"name", "status", "project_id", "admin_state_up", "shared",
                          "subnet_ids", "network_type", "external"}),
    "host": frozenset({"hypervisor_hostname", "hypervisor_type", "host_ip", "state",
                       "status"}),
}

_IP = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:]+")
_ATTACHED = re.compile(r"Attached to (?P<server>\S+) on")


def _kind(row: dict[str, Any]) -> str:
    if "MAC Address" in row:
        return "port"
    if "Size" in row and "Attached to" in row:
        return "volume"
    if "Hypervisor Hostname" in row:
        return "host"
    if "Subnets" in row:
        return "network"
    if "Networks" in row or "Image ID" in row or "Flavor Name" in row:
        return "instance"
    raise SnapshotError(f"unknown listing (columns: {', '.join(sorted(row))})")


def _ips(value: Any) -> list[str]:
    """IPs from ``Networks`` / ``Fixed IP Addresses`` in any client version's shape."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [ip for v in value.values() for ip in _ips(v)]
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            out.extend(_ips(item.get("ip_address") if isinstance(item, dict) else item))
        return out
    return _IP.findall(str(value))


def _attached(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(a["server_id"]) for a in value
                if isinstance(a, dict) and a.get("server_id")]
    return [m.group("server") for m in _ATTACHED.finditer(str(value or ""))]


def _server(row: dict[str, Any]) -> FactUpdate:
    image = row.get("Image ID") or None
    if image in ("", "N/A (booted from volume)"):
        image = None
    fields: dict[str, Any] = {
        "name": row.get("Name"), "state": str(row.get("Status") or "").lower() or None,
        "host": row.get("Host"), "image_id": image,
        "image_base_hash": image_base_hash(image) if image else None,
        "flavor": row.get("Flavor Name") or row.get("Flavor"),
        "project_id": row.get("Project ID"), "user_id": row.get("User ID"),
        "boot_from_volume": image is None, "fixed_ips": _ips(row.get("Networks")),
    }
    return FactUpdate(kind="instance", id=str(row["ID"]),
                      fields={k: v for k, v in fields.items() if v is not None})


def _port(row: dict[str, Any], owner_by_ip: dict[str, str]) -> FactUpdate:
    ips = _ips(row.get("Fixed IP Addresses"))
    fields: dict[str, Any] = {
        "mac": str(row["MAC Address"]).lower(), "device_owner": row.get("Device Owner"),
        "status": row.get("Status"), "fixed_ips": ips, "name": row.get("Name") or None,
        "device_id": row.get("Device ID") or next(
            (owner_by_ip[ip] for ip in ips if ip in owner_by_ip), None),
        "project_id": row.get("Project") or row.get("Project ID"),
        "network_id": row.get("Network ID") or None,
    }
    return FactUpdate(kind="port", id=str(row["ID"]),
                      fields={k: v for k, v in fields.items() if v is not None})


def _volume(row: dict[str, Any]) -> FactUpdate:
    size = row.get("Size")
    fields: dict[str, Any] = {
        "name": row.get("Name") or None, "status": row.get("Status"),
        "size": int(str(size)) if str(size or "").isdigit() else size,
        "instance_ids": _attached(row.get("Attached to")),
        "project_id": row.get("Project ID") or row.get("Project"),
    }
    return FactUpdate(kind="volume", id=str(row["ID"]),
                      fields={k: v for k, v in fields.items() if v is not None})


def _flag(value: Any, true: str) -> bool | None:
    """The client prints some booleans as words (``UP``, ``External``)."""
    if value is None or isinstance(value, bool):
        return value
    return str(value).strip().lower() == true


def _network(row: dict[str, Any]) -> FactUpdate:
    subnets = row.get("Subnets")
    fields: dict[str, Any] = {
        "name": row.get("Name") or None, "status": row.get("Status"),
        "project_id": row.get("Project") or row.get("Project ID"),
        "admin_state_up": _flag(row.get("State"), "up"), "shared": _flag(row.get("Shared"), "true"),
        "subnet_ids": subnets if isinstance(subnets, list)
        else [s.strip() for s in str(subnets or "").split(",") if s.strip()],
        "network_type": row.get("Network Type") or None,
        "external": _flag(row.get("Router Type"), "external"),
    }
    return FactUpdate(kind="network", id=str(row["ID"]),
                      fields={k: v for k, v in fields.items() if v is not None})


def _hypervisor(row: dict[str, Any]) -> FactUpdate:
    name = row["Hypervisor Hostname"]
    fields: dict[str, Any] = {
        "hypervisor_hostname": name, "hypervisor_type": row.get("Hypervisor Type"),
        "host_ip": row.get("Host IP"), "state": row.get("State"), "status": row.get("Status"),
    }
    return FactUpdate(kind="host", id=str(row.get("Host") or name),
                      fields={k: v for k, v in fields.items() if v is not None})


def facts_from_rows(listings: Iterable[list[dict[str, Any]]]) -> list[FactUpdate]:
    """Facts from parsed listings (any order); servers first so ports find their owner."""
    by_kind: dict[str, list[dict[str, Any]]] = {kind: [] for kind in FACT_FIELDS}
    for rows in listings:
        if not isinstance(rows, list):
            raise SnapshotError("a listing is a JSON array of rows (use -f json)")
        for row in rows:
            if not isinstance(row, dict) or "ID" not in row:
                raise SnapshotError(f"a row without an ID column: {str(row)[:80]}")
            by_kind[_kind(row)].append(row)
    servers = [_server(r) for r in by_kind["instance"]]
    owner_by_ip = {ip: s.id for s in servers for ip in s.fields.get("fixed_ips", [])}
    ports = [_port(r, owner_by_ip) for r in by_kind["port"]]
    return [*servers, *ports, *(_volume(r) for r in by_kind["volume"]),
            *(_network(r) for r in by_kind["network"]),
            *(_hypervisor(r) for r in by_kind["host"])]


def facts_from_files(paths: Iterable[Path]) -> list[FactUpdate]:
    listings = []
    for path in paths:
        try:
            listings.append(orjson.loads(path.read_bytes()))
        except orjson.JSONDecodeError as exc:
            raise SnapshotError(f"{path}: not JSON ({exc})") from None
    try:
        return facts_from_rows(listings)
    except SnapshotError as exc:
        raise SnapshotError(f"{', '.join(map(str, paths))}: {exc}") from None
