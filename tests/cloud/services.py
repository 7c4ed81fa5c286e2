"""What the test cloud runs: ports, service processes and their config files.

Facts (option names, the fake drivers, the WSGI entry points, cinder's `openstack`
exchange) come from the 2025.1 recipe in shared/cloud-recipe; the layout is ours. Every
service runs with one worker: the machine has two cores shared with other work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

#: the databases the cloud owns on the local MariaDB, each prefixed with ``PREFIX``
DATABASES = ("keystone", "placement", "nova_api", "nova", "nova_cell0", "glance", "cinder",
             "neutron")
PREFIX = "dccloud_"
PASSWORD = "dccloud-pass"  # every service user's and admin's test password
REGION = "RegionOne"
#: cinder-volume's own database endpoint: views of cinder's tables in which the volumes
#: named ``LAGGING_NAME*`` do not exist yet, as a lagging replica would show them
LAGGING_DB = "cinder_lag"
LAGGING_NAME = "dc-lag"
COMPUTE_HOST = "dccloud-compute"
VOLUME_HOST = "dccloud-volume"


@dataclass(frozen=True)
class Ports:
    keystone: int
    placement: int
    nova: int
    glance: int
    cinder: int
    neutron: int
    cinder_proxy: int  # the fault proxy nova-compute reaches cinder-api through


@dataclass
class Service:
    """One process: its argv, its extra environment and the port it serves (if any)."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    port: int | None = None


@dataclass(frozen=True)
class Layout:
    """Where one cloud keeps its files (all under ``root``, removed at the end)."""

    root: Path
    venv: Path

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)


def _ini(sections: dict[str, dict[str, object]]) -> str:
    out: list[str] = []
    for name, options in sections.items():
        out.append(f"[{name}]")
        out.extend(f"{k} = {v}" for k, v in options.items())
        out.append("")
    return "\n".join(out)


class Configs:
    """The config files of every service, rendered from the cloud's ports and URLs."""

    def __init__(self, layout: Layout, ports: Ports, transport_url: str, db_url: str,
                 cinder_endpoint: str | None = None, nova_extra: dict[str, object] | None = None
                 ) -> None:
        self.layout = layout
        self.ports = ports
        self.transport_url = transport_url
        self.db_url = db_url  # mysql+pymysql://root@127.0.0.1
        #: nova's [cinder] endpoint_template (the fault proxy); None: the catalog's
        self.cinder_endpoint = cinder_endpoint
        self.nova_extra = nova_extra or {}

    def db(self, name: str) -> str:
        return f"{self.db_url}/{PREFIX}{name}?charset=utf8"

    @property
    def keystone_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.keystone}"

    def _authtoken(self, user: str) -> dict[str, object]:
        return {"www_authenticate_uri": self.keystone_url, "auth_url": self.keystone_url,
                "auth_type": "password", "project_domain_name": "Default",
                "user_domain_name": "Default", "project_name": "service", "username": user,
                "password": PASSWORD, "service_token_roles_required": "true"}

    def _client(self, user: str, **extra: object) -> dict[str, object]:
        return {"auth_type": "password", "auth_url": self.keystone_url,
                "project_domain_name": "Default", "user_domain_name": "Default",
                "project_name": "service", "username": user, "password": PASSWORD,
                "region_name": REGION, **extra}

    def _common(self, log_file: Path | None) -> dict[str, object]:
        common: dict[str, object] = {"debug": "true", "transport_url": self.transport_url}
        if log_file is not None:
            common["log_file"] = log_file
        return common

    def _notifications(self) -> dict[str, dict[str, object]]:
        return {"oslo_messaging_notifications": {"driver": "messagingv2",
                                                 "transport_url": self.transport_url},
                "oslo_messaging_rabbit": {"heartbeat_timeout_threshold": 60},
                "oslo_concurrency": {"lock_path": self.layout.data / "locks"}}

    def write(self) -> None:
        """Write every file under ``etc`` (directories made here)."""
        lay, p, data, logs = self.layout, self.ports, self.layout.data, self.layout.logs
        for d in ("keystone/fernet-keys", "keystone/credential-keys", "nova/instances",
                  "glance/images", "glance/staging", "glance/tasks", "cinder", "neutron",
                  "locks"):
            (data / d).mkdir(parents=True, exist_ok=True)
        for d in ("keystone", "placement", "nova", "glance", "cinder", "neutron"):
            (lay.etc / d).mkdir(parents=True, exist_ok=True)
        logs.mkdir(parents=True, exist_ok=True)
        paste = lay.venv / "etc"
        files: dict[str, dict[str, dict[str, object]]] = {
            "keystone/keystone.conf": {
                "DEFAULT": {**self._common(logs / "keystone.log"), "notification_format": "cadf"},
                "database": {"connection": self.db("keystone")},
                "token": {"provider": "fernet"},
                "fernet_tokens": {"key_repository": data / "keystone/fernet-keys"},
                "credential": {"key_repository": data / "keystone/credential-keys"},
                **self._notifications(),
            },
            "placement/placement.conf": {
                "DEFAULT": {"debug": "true", "log_file": logs / "placement.log"},
                "placement_database": {"connection": self.db("placement")},
                "api": {"auth_strategy": "keystone"},
                "keystone_authtoken": self._authtoken("placement"),
            },
            "nova/nova.conf": self._nova(paste),
            "glance/glance-api.conf": {
                "DEFAULT": {**self._common(logs / "glance-api.log"), "bind_host": "127.0.0.1",
                            "bind_port": p.glance, "workers": 1, "enabled_backends": "fs:file"},
                "database": {"connection": self.db("glance")},
                "glance_store": {"default_backend": "fs"},
                "fs": {"filesystem_store_datadir": data / "glance/images"},
                "os_glance_staging_store": {"filesystem_store_datadir": data / "glance/staging"},
                "os_glance_tasks_store": {"filesystem_store_datadir": data / "glance/tasks"},
                "paste_deploy": {"flavor": "keystone",
                                 "config_file": paste / "glance/glance-api-paste.ini"},
                "keystone_authtoken": self._authtoken("glance"),
                **self._notifications(),
            },
            "cinder/cinder.conf": {
                "DEFAULT": {**self._common(None), "log_dir": logs, "host": VOLUME_HOST,
                            "my_ip": "127.0.0.1", "state_path": data / "cinder",
                            "api_paste_config": paste / "cinder/api-paste.ini",
                            "auth_strategy": "keystone", "enabled_backends": "fake",
                            "default_volume_type": "fake", "osapi_volume_listen": "127.0.0.1",
                            "osapi_volume_listen_port": p.cinder, "osapi_volume_workers": 1,
                            "glance_api_servers": f"http://127.0.0.1:{p.glance}"},
                "fake": {"volume_driver": "cinder.tests.fake_driver.FakeLoggingVolumeDriver",
                         "volume_backend_name": "fake"},
                "database": {"connection": self.db("cinder")},
                "keystone_authtoken": self._authtoken("cinder"),
                "nova": self._client("cinder", interface="public"),
                **self._notifications(),
            },
            "neutron/neutron.conf": {  # API only: ML2 without mechanism drivers or agents
                "DEFAULT": {**self._common(logs / "neutron-server.log"), "bind_host": "127.0.0.1",
                            "bind_port": p.neutron, "api_workers": 1, "rpc_workers": 1,
                            "rpc_state_report_workers": 0, "core_plugin": "ml2",
                            "service_plugins": "", "auth_strategy": "keystone",
                            "api_paste_config": paste / "neutron/api-paste.ini",
                            "state_path": data / "neutron",
                            "notify_nova_on_port_status_changes": "false",
                            "notify_nova_on_port_data_changes": "false"},
                "database": {"connection": self.db("neutron")},
                "keystone_authtoken": self._authtoken("neutron"),
                "nova": self._client("neutron"),
                "ml2": {"type_drivers": "flat", "tenant_network_types": "",
                        "mechanism_drivers": "", "extension_drivers": "port_security"},
                "ml2_type_flat": {"flat_networks": "*"},
                "agent": {"root_helper": "true"},
                **self._notifications(),
            },
        }
        files["cinder/cinder-volume-db.conf"] = {"database": {"connection": self.db(LAGGING_DB)}}
        for rel, sections in files.items():
            (lay.etc / rel).write_text(_ini(sections), encoding="utf-8")

    def _nova(self, paste: Path) -> dict[str, dict[str, object]]:
        p, data = self.ports, self.layout.data
        cinder = self._client("nova", os_region_name=REGION,
                              catalog_info="volumev3::publicURL")
        if self.cinder_endpoint is not None:
            cinder["endpoint_template"] = self.cinder_endpoint
        return {
            "DEFAULT": {**self._common(None), "host": COMPUTE_HOST, "my_ip": "127.0.0.1",
                        "state_path": data / "nova", "instances_path": data / "nova/instances",
                        "compute_driver": "fake.FakeDriverWithoutFakeNodes",
                        "heal_instance_info_cache_interval": -1,
                        "allow_resize_to_same_host": "true", "instance_usage_audit": "false",
                        "enabled_apis": "osapi_compute", "osapi_compute_listen": "127.0.0.1",
                        "osapi_compute_listen_port": p.nova, "osapi_compute_workers": 1,
                        **self.nova_extra},
            "api": {"auth_strategy": "keystone"},
            "wsgi": {"api_paste_config": paste / "nova/api-paste.ini"},
            "api_database": {"connection": self.db("nova_api")},
            "database": {"connection": self.db("nova")},
            "keystone_authtoken": self._authtoken("nova"),
            "placement": self._client("nova", valid_interfaces="public"),
            "neutron": self._client("neutron", valid_interfaces="public"),
            "cinder": cinder,
            "glance": self._client("nova", valid_interfaces="public"),
            "service_user": self._client("nova", send_service_user_token="true"),
            "notifications": {"notification_format": "both",
                              "notify_on_state_change": "vm_and_task_state"},
            **self._notifications(),
            "conductor": {"workers": 1},
            "scheduler": {"workers": 1, "discover_hosts_in_cells_interval": 5},
            "filter_scheduler": {"enabled_filters": "ComputeFilter,ImagePropertiesFilter"},
            "vnc": {"enabled": "false"},
            "spice": {"enabled": "false"},
            "serial_console": {"enabled": "false"},
            "os_vif_ovs": {"per_port_bridge": "false"},
        }

    def services(self, wsgi_dir: Path) -> list[Service]:
        """Every service process, in start order (keystone first: the others need it)."""
        lay, p, etc, logs = self.layout, self.ports, self.layout.etc, self.layout.logs
        gunicorn = [lay.bin("gunicorn"), "--workers", "1", "--threads", "4", "--timeout", "120",
                    "--chdir", str(wsgi_dir)]
        nova = ["--config-file", str(etc / "nova/nova.conf")]
        cinder = ["--config-file", str(etc / "cinder/cinder.conf")]
        return [
            Service("keystone", [*gunicorn, "-b", f"127.0.0.1:{p.keystone}",
                                 "keystone_app:application"],
                    {"OS_KEYSTONE_CONFIG_FILES": str(etc / "keystone/keystone.conf")}, p.keystone),
            Service("placement", [*gunicorn, "-b", f"127.0.0.1:{p.placement}",
                                  "placement_app:application"],
                    {"OS_PLACEMENT_CONFIG_DIR": str(etc / "placement")}, p.placement),
            Service("glance-api", [lay.bin("glance-api"), "--config-file",
                                   str(etc / "glance/glance-api.conf")], port=p.glance),
            Service("neutron-server", [lay.bin("neutron-server"), "--config-file",
                                       str(etc / "neutron/neutron.conf")], port=p.neutron),
            Service("nova-api", [lay.bin("nova-api"), *nova, "--log-file",
                                 str(logs / "nova-api.log")], port=p.nova),
            Service("nova-conductor", [lay.bin("nova-conductor"), *nova, "--log-file",
                                       str(logs / "nova-conductor.log")]),
            Service("nova-scheduler", [lay.bin("nova-scheduler"), *nova, "--log-file",
                                       str(logs / "nova-scheduler.log")]),
            Service("cinder-api", [lay.bin("cinder-api"), *cinder], port=p.cinder),
            Service("cinder-scheduler", [lay.bin("cinder-scheduler"), *cinder]),
            Service("cinder-volume", [lay.bin("cinder-volume"), *cinder, "--config-file",
                                      str(etc / "cinder/cinder-volume-db.conf")]),
            Service("nova-compute", [lay.bin("nova-compute"), *nova, "--log-file",
                                     str(logs / "nova-compute.log")]),
        ]


#: the oslo.log file of each service the worker follows, with its parser kind
LOG_KINDS = {
    "nova-api.log": "nova-api",
    "nova-compute.log": "nova-compute",
    "cinder-api.log": "cinder-api",
    "cinder-volume.log": "cinder-volume",
}
