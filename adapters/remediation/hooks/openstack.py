"""OpenStack remediations through openstacksdk: disable a port, lock and stop an instance.

Neither deletes anything; both are undone with one API call (admin_state_up
true; unlock and start).
"""

from __future__ import annotations

import threading
from types import ModuleType
from typing import TYPE_CHECKING, Any

from adapters.remediation.config import RemediationConfig
from adapters.remediation.hooks.base import Hook, HookError, require_id

if TYPE_CHECKING:
    import openstack.connection


def _sdk() -> ModuleType:
    """openstacksdk, imported on first use: it is an extra, and a deployment without it
    must still load the engine, dry-run these hooks and run every other hook."""
    try:
        import openstack
        import openstack.exceptions
    except ImportError as exc:
        raise HookError(
            "openstacksdk is not installed: pip install 'dreamcatcher[openstack]'"
        ) from exc
    return openstack


class _OpenStackHook(Hook):
    """Shares one lazily made connection per hook; the SDK timeout is the hook's timeout."""

    def __init__(self, config: RemediationConfig) -> None:
        super().__init__(config)
        self._conn: openstack.connection.Connection | None = None
        self._lock = threading.Lock()

    def connection(self, timeout: float) -> openstack.connection.Connection:
        with self._lock:
            if self._conn is None:
                openstack = _sdk()
                cfg = self.config.openstack
                kwargs: dict[str, Any] = {"api_timeout": timeout, "verify": cfg.verify}
                if cfg.region_name:
                    kwargs["region_name"] = cfg.region_name
                if cfg.interface:
                    kwargs["interface"] = cfg.interface
                if cfg.auth:
                    self._conn = openstack.connect(
                        auth_type=cfg.auth_type, auth={k: v.reveal() for k, v in cfg.auth.items()},
                        load_yaml_config=False, load_envvars=False, **kwargs)
                else:
                    self._conn = openstack.connect(cloud=cfg.cloud, **kwargs)
            return self._conn


class PortDisable(_OpenStackHook):
    """Set a neutron port's admin_state_up to false (cuts a misbehaving instance off)."""

    name = "port.disable"

    def validate(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"port_id": require_id(args, "port_id")}

    def target(self, args: dict[str, Any]) -> str:
        return f"port:{args['port_id']}"

    def describe(self, args: dict[str, Any]) -> str:
        return f"would set admin_state_up=false on neutron port {args['port_id']}"

    def run(self, args: dict[str, Any], timeout: float) -> dict[str, Any]:
        errors = _sdk().exceptions
        try:
            port = self.connection(timeout).network.update_port(
                args["port_id"], admin_state_up=False)
        except errors.SDKException as exc:
            raise HookError(f"neutron refused: {exc}") from exc
        return {"port_id": port.id, "admin_state_up": port.is_admin_state_up,
                "mac_address": port.mac_address, "device_id": port.device_id}


class InstanceLockStop(_OpenStackHook):
    """Lock an instance (so its owner cannot restart it) and stop it."""

    name = "instance.lock_stop"

    def validate(self, args: dict[str, Any]) -> dict[str, Any]:
        reason = str(args.get("reason") or "dreamcatcher remediation")[:255]
        return {"instance_id": require_id(args, "instance_id"), "reason": reason}

    def target(self, args: dict[str, Any]) -> str:
        return f"instance:{args['instance_id']}"

    def describe(self, args: dict[str, Any]) -> str:
        return (f"would lock instance {args['instance_id']} (reason: {args['reason']}) "
                "and stop it")

    def run(self, args: dict[str, Any], timeout: float) -> dict[str, Any]:
        errors = _sdk().exceptions
        compute = self.connection(timeout).compute
        server = args["instance_id"]
        try:
            compute.lock_server(server, locked_reason=args["reason"])
        except errors.SDKException as exc:
            raise HookError(f"nova refused to lock: {exc}") from exc
        try:
            compute.stop_server(server)
            stopped = "stopped"
        except errors.ConflictException as exc:
            stopped = f"not stopped (nova: {exc.details or exc})"  # e.g. already stopped
        except errors.SDKException as exc:
            raise HookError(f"locked, but nova refused to stop: {exc}") from exc
        return {"instance_id": server, "locked": True, "stop": stopped}
