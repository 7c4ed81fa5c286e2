"""Keystone v3, Neutron v2.0 and Nova v2.1 answering like the real APIs, on a StandIn.

Shapes follow the API references: keystone's token body with its catalog and
``X-Subject-Token`` header, the version documents openstacksdk discovers, and
neutron's ``{"port": {...}}``. Ports are seeded from the corpus's real neutron
``port.create.end`` payloads; nova's server actions answer 202 with an empty
body, and ``os-stop`` on a stopped server answers 409 as nova does.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import orjson

from tests.stand_in import Reply, Request, StandIn

TOKEN = "gAAAAABstand-in-token"
PROJECT_ID = "5fe7c4e4e492490393c674089a178e19"


class OpenStackStandIn:
    """The cloud dreamcatcher's hooks talk to in tests."""

    def __init__(self, corpus: Path, *, stall_seconds: float = 0.0) -> None:
        self.http = StandIn()
        self.base = self.http.base
        self.stall_seconds = stall_seconds
        self.ports: dict[str, dict[str, Any]] = {}
        for name in ("searchlight__ports__port.create.end.json",
                     "searchlight__ports__instance-create.port.create.end.json"):
            doc = orjson.loads((corpus / "notifications/legacy/neutron" / name).read_bytes())
            port = doc["payload"]["port"]
            self.ports[port["id"]] = copy.deepcopy(port)
        self.servers: dict[str, dict[str, Any]] = {}
        self.actions: list[tuple[str, dict[str, Any]]] = []
        h = self.http
        h.route("GET", "/identity", self._identity_root)
        h.route("POST", "/identity/v3/auth/tokens", self._token)
        h.route("GET", "/network", self._network_versions)
        h.route("PUT", "/network/v2.0/ports/", self._update_port)
        h.route("GET", "/network/v2.0/ports/", self._get_port)
        h.route("GET", "/compute", self._compute_versions)
        h.route("POST", "/compute/v2.1/servers/", self._server_action)

    def add_server(self, server_id: str, status: str = "ACTIVE") -> None:
        self.servers[server_id] = {"id": server_id, "status": status, "locked": False}

    def close(self) -> None:
        self.http.close()

    def auth(self) -> dict[str, str]:
        return {
            "auth_url": f"{self.base}/identity/v3",
            "username": "dreamcatcher",
            "password": "secret",
            "project_name": "admin",
            "user_domain_name": "Default",
            "project_domain_name": "Default",
        }

    # -- keystone ---------------------------------------------------------
    def _identity_root(self, _req: Request) -> Reply:
        version = {
            "id": "v3.14",
            "status": "stable",
            "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": f"{self.base}/identity/v3/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.identity-v3+json"}],
        }
        if _req.path.rstrip("/").endswith("/v3"):
            return Reply(200, {"version": version})
        return Reply(300, {"versions": {"values": [version]}})

    def _token(self, _req: Request) -> Reply:
        def endpoints(url: str) -> list[dict[str, str]]:
            return [
                {"id": f"{iface}-{url}", "interface": iface, "region": "RegionOne",
                 "region_id": "RegionOne", "url": url}
                for iface in ("public", "internal", "admin")
            ]

        body = {"token": {
            "methods": ["password"],
            "user": {"id": "u1", "name": "dreamcatcher", "domain": {"id": "default",
                                                                    "name": "Default"}},
            "project": {"id": PROJECT_ID, "name": "admin",
                        "domain": {"id": "default", "name": "Default"}},
            "roles": [{"id": "r1", "name": "admin"}],
            "expires_at": "2099-01-01T00:00:00.000000Z",
            "issued_at": "2024-01-01T00:00:00.000000Z",
            "audit_ids": ["stand-in"],
            "catalog": [
                {"id": "s1", "type": "identity", "name": "keystone",
                 "endpoints": endpoints(f"{self.base}/identity")},
                {"id": "s2", "type": "network", "name": "neutron",
                 "endpoints": endpoints(f"{self.base}/network")},
                {"id": "s3", "type": "compute", "name": "nova",
                 "endpoints": endpoints(f"{self.base}/compute/v2.1")},
            ],
        }}
        return Reply(201, body, {"X-Subject-Token": TOKEN})

    # -- neutron ----------------------------------------------------------
    def _network_versions(self, _req: Request) -> Reply:
        return Reply(200, {"versions": [{
            "id": "v2.0", "status": "CURRENT",
            "links": [{"href": f"{self.base}/network/v2.0/", "rel": "self"}],
        }]})

    def _port_id(self, req: Request) -> str:
        return req.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]

    def _get_port(self, req: Request) -> Reply:
        port = self.ports.get(self._port_id(req))
        if port is None:
            return Reply(404, {"NeutronError": {"type": "PortNotFound", "message":
                               f"Port {self._port_id(req)} could not be found.", "detail": ""}})
        return Reply(200, {"port": port})

    def _update_port(self, req: Request) -> Reply:
        if req.headers.get("X-Auth-Token") != TOKEN:
            return Reply(401, {"error": "unauthorized"})
        port_id = self._port_id(req)
        port = self.ports.get(port_id)
        if port is None:
            return Reply(404, {"NeutronError": {"type": "PortNotFound", "message":
                               f"Port {port_id} could not be found.", "detail": ""}})
        port.update(req.json()["port"])
        self.actions.append(("port.update", {"id": port_id, **req.json()["port"]}))
        return Reply(200, {"port": port}, delay=self.stall_seconds)

    # -- nova -------------------------------------------------------------
    def _compute_versions(self, req: Request) -> Reply:
        version = {
            "id": "v2.1", "status": "CURRENT", "version": "2.96", "min_version": "2.1",
            "updated": "2013-07-23T11:33:21Z",
            "links": [{"rel": "self", "href": f"{self.base}/compute/v2.1/"}],
        }
        if "/v2.1" in req.path:
            return Reply(200, {"version": version})
        return Reply(200, {"versions": [version]})

    def _server_action(self, req: Request) -> Reply:
        if req.headers.get("X-Auth-Token") != TOKEN:
            return Reply(401, {"error": "unauthorized"})
        match = re.match(r"/compute/v2\.1/servers/([^/]+)/action", req.path)
        server = self.servers.get(match.group(1)) if match else None
        if server is None:
            return Reply(404, {"itemNotFound": {"code": 404, "message":
                               "Instance could not be found."}})
        body = req.json()
        name = next(iter(body))
        self.actions.append((name, {"id": server["id"], "body": body}))
        if name == "lock":
            server["locked"] = True
        elif name == "os-stop":
            if server["status"] == "SHUTOFF":
                return Reply(409, {"conflictingRequest": {"code": 409, "message":
                    f"Cannot 'stop' instance {server['id']} while it is in vm_state stopped"}})
            server["status"] = "SHUTOFF"
        return Reply(202, b"", delay=self.stall_seconds)
