"""A real OpenStack 2025.1 for the test suite: install, configure, start, check, stop.

The services (keystone, placement, glance, neutron-server, nova with the fake virt driver,
cinder with the fake volume driver) are installed from the package registry into a venv
outside the repository, pinned by ``openstack-2025.1-frozen.txt`` and reused while a marker
holds the pins' hash. Each cloud gets its own MariaDB databases (``dccloud_*``) and its own
RabbitMQ vhost on the machine's broker, runs every service in its own session (so it is
stopped by process group) and writes one log file per service into ``logs``, which the
worker follows. ``stop()`` is idempotent and registered with ``atexit``: nothing is left
running or left in the databases and broker, whichever way the tests end.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.cloud.services import (
    DATABASES,
    LAGGING_DB,
    LAGGING_NAME,
    PASSWORD,
    PREFIX,
    REGION,
    Configs,
    Layout,
    Ports,
    Service,
)

HERE = Path(__file__).resolve().parent
PINS = HERE / "openstack-2025.1-frozen.txt"
BASE = Path(os.environ.get("DREAMCATCHER_CLOUD_BASE", "/var/tmp/dreamcatcher-cloud"))
MARKER = ".dreamcatcher-pins"
MYSQL = ["mysql", "-uroot", "-h127.0.0.1", "-P3306"]
DB_URL = "mysql+pymysql://root@127.0.0.1:3306"

#: (name, type, path) of each catalog entry; cinder's is reached as volumev3 and block-storage
CATALOG = (("placement", "placement", "placement", ""), ("nova", "compute", "nova", "/v2.1"),
           ("glance", "image", "glance", ""), ("neutron", "network", "neutron", ""),
           ("cinderv3", "volumev3", "cinder", "/v3"),
           ("cinder", "block-storage", "cinder", "/v3"))
SERVICE_USERS = ("placement", "nova", "glance", "neutron", "cinder")


class CloudError(RuntimeError):
    """The cloud could not be installed or started; the message has the log tail."""


def pins_hash() -> str:
    return hashlib.sha256(PINS.read_bytes() + sys.version.encode()).hexdigest()


def install(venv: Path, log: Path) -> float:
    """Install the pinned services into ``venv`` unless its marker has the pins' hash;
    returns the seconds it took (0 when reused)."""
    marker = venv / MARKER
    if marker.exists() and marker.read_text().strip() == pins_hash():
        return 0.0
    t0 = time.monotonic()
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    pip = [str(venv / "bin/python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    steps = [[sys.executable, "-m", "venv", str(venv)],
             [*pip, "pip<25", "setuptools<80", "wheel"],
             [*pip, "-r", str(PINS)]]
    with log.open("ab") as out:
        for argv in steps:
            if subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                raise CloudError(f"install failed: {' '.join(argv)}\n{tail(log)}")
    marker.write_text(pins_hash())
    return time.monotonic() - t0


def tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait(predicate: Callable[[], bool], timeout: float, what: str,
         check: Callable[[], None] | None = None, interval: float = 0.5) -> None:
    """Poll ``predicate``; ``check`` raises when waiting is pointless (a process died)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if check is not None:
            check()
        try:
            if predicate():
                return
        except Exception as exc:  # the API is not up yet: retried until the deadline
            last = exc
        time.sleep(interval)
    raise CloudError(f"timed out after {timeout:g}s waiting for {what}"
                     + (f" (last error: {last!r})" if last else ""))


class Cloud:
    """One test cloud on this machine. ``start()`` brings it up (or raises ``CloudError``
    with the failing service's log tail); ``stop()`` ends it and removes what it made."""

    def __init__(self, name: str = "dccloud", base: Path = BASE,
                 nova_extra: dict[str, object] | None = None, proxy_cinder: bool = False
                 ) -> None:
        self.vhost = f"{name}-{os.getpid()}"
        self.layout = Layout(root=base / f"run-{os.getpid()}", venv=base / "venv")
        self.ports = Ports(*(free_port() for _ in range(7)))
        self.transport_url = (f"rabbit://guest:guest@127.0.0.1:5672/{quote(self.vhost, safe='')}")
        self.amqp_url = f"amqp://guest:guest@127.0.0.1:5672/{quote(self.vhost, safe='')}"
        endpoint = (f"http://127.0.0.1:{self.ports.cinder_proxy}/v3/%(project_id)s"
                    if proxy_cinder else None)
        self.configs = Configs(self.layout, self.ports, self.transport_url, DB_URL,
                               cinder_endpoint=endpoint, nova_extra=nova_extra)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.timings: dict[str, float] = {}
        self._made_vhost = False
        self._made_dbs = False
        self._stopped = False
        self._conn: Any = None
        self.proxy: Any = None  # the CinderProxy the tests arm, when nova goes through one
        self.peak_rss = 0  # bytes, all services together, sampled every 2 s
        self._sampler = threading.Thread(target=self._sample, daemon=True, name="cloud-rss")

    # ---- life cycle -------------------------------------------------------------------------

    def start(self, before_services: Callable[[], None] | None = None) -> None:
        """Install, make the databases and vhost, write the configs, sync the schemas,
        start and check every service. ``before_services`` runs once the vhost exists
        and before any service publishes (start a consumer there to miss nothing)."""
        atexit.register(self.stop)
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # a CI timeout: stop first
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
        reap_stale(self.layout.root.parent)
        t0 = time.monotonic()
        self.timings["install"] = install(self.layout.venv, BASE / "install.log")
        shutil.rmtree(self.layout.root, ignore_errors=True)
        self.layout.logs.mkdir(parents=True)
        self._infra()
        self.configs.write()
        if before_services is not None:
            before_services()
        t1 = time.monotonic()
        self._dbsync()
        self._lagging_db()
        self.timings["dbsync"] = time.monotonic() - t1
        t2 = time.monotonic()
        self._start_services()
        self.timings["services"] = time.monotonic() - t2
        self.timings["total"] = time.monotonic() - t0
        self._sampler.start()

    def stop(self) -> None:
        """Stop every service by its process group, then drop the databases and vhost."""
        if self._stopped:
            return
        self._stopped = True
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
        for proc in self.procs.values():  # the group may outlive its leader (workers)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        groups = {p.pid for p in self.procs.values()}
        with contextlib.suppress(CloudError):  # a SIGKILL is delivered, not awaited
            wait(lambda: not members(groups), 10, "the services' processes to end")
        if self._made_dbs:
            drop = " ".join(f"DROP DATABASE IF EXISTS {PREFIX}{d};"
                            for d in (*DATABASES, LAGGING_DB))
            subprocess.run([*MYSQL, "-e", drop], capture_output=True)
        if self._made_vhost:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", self.vhost], capture_output=True)
        if os.environ.get("DREAMCATCHER_CLOUD_KEEP_LOGS") != "1":
            shutil.rmtree(self.layout.root / "data", ignore_errors=True)

    def bloat_instances(self, deleted_uuid: str, rows: int) -> None:
        """Copy the soft-deleted instance ``deleted_uuid`` ``rows`` times in nova's cell
        database, each copy soft-deleted too: the bloat nova-manage archive would remove."""
        db = f"{PREFIX}nova"
        out = subprocess.run([*MYSQL, "-N", "-e", "SELECT column_name FROM information_schema"
                              f".columns WHERE table_schema='{db}' AND table_name='instances' "
                              "ORDER BY ordinal_position"], capture_output=True, text=True)
        cols = out.stdout.split()
        if out.returncode != 0 or "uuid" not in cols:
            raise CloudError(f"nova's instances table could not be read: {out.stderr}")
        values = ", ".join({"id": "NULL", "uuid": "UUID()", "deleted": "0"}.get(c, f"i.`{c}`")
                           for c in cols)
        sql = (f"INSERT INTO {db}.instances ({', '.join(f'`{c}`' for c in cols)}) "
               f"SELECT {values} FROM {db}.instances i, {db}.seq_1_to_{rows} "
               f"WHERE i.uuid = '{deleted_uuid}'; UPDATE {db}.instances SET deleted = id, "
               f"deleted_at = NOW() WHERE deleted = 0 AND uuid <> '{deleted_uuid}' "
               "AND vm_state = 'deleted';")
        self._run([*MYSQL, "-e", sql], self.layout.logs / "infra.out")

    def rss(self) -> int:
        """The resident memory of every process in the services' process groups."""
        page = os.sysconf("SC_PAGE_SIZE")
        return sum(rss * page for _, rss in members({p.pid for p in self.procs.values()}))

    def _sample(self) -> None:
        while not self._stopped:
            self.peak_rss = max(self.peak_rss, self.rss())
            time.sleep(2)

    def summary(self) -> str:
        t = ", ".join(f"{k} {v:.0f}s" for k, v in self.timings.items())
        return f"test cloud: {t}; peak RSS of all services {self.peak_rss / 2**30:.2f} GiB"

    def remove_files(self) -> None:
        shutil.rmtree(self.layout.root, ignore_errors=True)

    # ---- steps --------------------------------------------------------------------------------

    def _run(self, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        with log.open("ab") as out:
            code = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT,
                                  env={**os.environ, **(env or {})}).returncode
        if code != 0:
            raise CloudError(f"{' '.join(argv)} exited {code}:\n{tail(log)}")

    def _infra(self) -> None:
        sql = " ".join(f"DROP DATABASE IF EXISTS {PREFIX}{d}; CREATE DATABASE {PREFIX}{d} "
                       "CHARACTER SET utf8mb4;" for d in DATABASES)
        self._made_dbs = True
        self._run([*MYSQL, "-e", sql], self.layout.logs / "infra.out")
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", self.vhost], capture_output=True)
        self._made_vhost = True
        (self.layout.root / "vhost").write_text(self.vhost)
        self._run(["rabbitmqctl", "-q", "add_vhost", self.vhost], self.layout.logs / "infra.out")
        self._run(["rabbitmqctl", "-q", "set_permissions", "-p", self.vhost, "guest",
                   ".*", ".*", ".*"], self.layout.logs / "infra.out")

    def _dbsync(self) -> None:
        """The schemas, in three parallel chains (the slowest, nova's, sets the pace)."""
        etc, b, ks = self.layout.etc, self.layout.bin, self.configs.keystone_url
        kc = ["--config-file", str(etc / "keystone/keystone.conf")]
        nc = ["--config-file", str(etc / "nova/nova.conf")]
        chains = {
            "keystone": [
                [b("keystone-manage"), *kc, "db_sync"],
                [b("keystone-manage"), *kc, "fernet_setup", "--keystone-user", "root",
                 "--keystone-group", "root"],
                [b("keystone-manage"), *kc, "credential_setup", "--keystone-user", "root",
                 "--keystone-group", "root"],
                [b("keystone-manage"), *kc, "bootstrap", "--bootstrap-password", PASSWORD,
                 "--bootstrap-admin-url", f"{ks}/v3/", "--bootstrap-internal-url", f"{ks}/v3/",
                 "--bootstrap-public-url", f"{ks}/v3/", "--bootstrap-region-id", REGION],
            ],
            "nova": [
                [b("placement-manage"), "--config-file", str(etc / "placement/placement.conf"),
                 "db", "sync"],
                [b("nova-manage"), *nc, "api_db", "sync"],
                [b("nova-manage"), *nc, "cell_v2", "map_cell0", "--database_connection",
                 self.configs.db("nova_cell0")],
                [b("nova-manage"), *nc, "cell_v2", "create_cell", "--name", "cell1"],
                [b("nova-manage"), *nc, "db", "sync"],
            ],
            "other": [
                [b("glance-manage"), "--config-file", str(etc / "glance/glance-api.conf"),
                 "db_sync"],
                [b("cinder-manage"), "--config-file", str(etc / "cinder/cinder.conf"), "db",
                 "sync"],
                [b("neutron-db-manage"), "--config-file", str(etc / "neutron/neutron.conf"),
                 "upgrade", "heads"],
            ],
        }
        scripts = {name: " && ".join(" ".join(_sh(a) for a in argv) for argv in argvs)
                   for name, argvs in chains.items()}
        running = {}
        for name, script in scripts.items():
            log = self.layout.logs / f"dbsync-{name}.out"
            running[name] = (subprocess.Popen(["bash", "-c", script], stdout=log.open("wb"),
                                              stderr=subprocess.STDOUT), log)
        failed = [(n, log) for n, (p, log) in running.items() if p.wait(600) != 0]
        if failed:
            raise CloudError("schema setup failed:\n" + "\n".join(
                f"--- {n}:\n{tail(log)}" for n, log in failed))

    def _lagging_db(self) -> None:
        """cinder-volume's database: a view of each cinder table, where the volumes named
        ``LAGGING_NAME*`` are missing (simple views: cinder-volume writes through them)."""
        src, lag = f"{PREFIX}cinder", f"{PREFIX}{LAGGING_DB}"
        out = subprocess.run([*MYSQL, "-N", "-e", "SELECT table_name FROM "
                              f"information_schema.tables WHERE table_schema='{src}' "
                              "AND table_type='BASE TABLE'"], capture_output=True, text=True)
        tables = out.stdout.split()
        if out.returncode != 0 or "volumes" not in tables:
            raise CloudError(f"cinder's tables could not be listed: {out.stderr}")
        hidden = f" WHERE display_name IS NULL OR display_name NOT LIKE '{LAGGING_NAME}%'"
        sql = [f"DROP DATABASE IF EXISTS {lag}; CREATE DATABASE {lag};"]
        sql += [f"CREATE VIEW {lag}.`{t}` AS SELECT * FROM {src}.`{t}`"
                f"{hidden if t == 'volumes' else ''};" for t in tables]
        self._run([*MYSQL, "-e", " ".join(sql)], self.layout.logs / "infra.out")

    def _spawn(self, service: Service) -> None:
        out = (self.layout.logs / f"{service.name}.stdout").open("wb")
        self.procs[service.name] = subprocess.Popen(
            service.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=self.layout.root,
            env={**os.environ, "PATH": f"{self.layout.venv / 'bin'}:{os.environ['PATH']}",
                 **service.env})
        out.close()
        with (self.layout.root / PGIDS).open("a") as fh:  # for reap_stale after a SIGKILL
            fh.write(f"{self.procs[service.name].pid}\n")

    def _alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise CloudError(f"{name} exited {proc.returncode}:\n{self.log_tail(name)}")

    def log_tail(self, name: str, lines: int = 30) -> str:
        parts = [f"--- {name}.stdout:\n{tail(self.layout.logs / f'{name}.stdout', lines)}"]
        log = self.layout.logs / f"{name}.log"
        if log.exists():
            parts.append(f"--- {name}.log:\n{tail(log, lines)}")
        return "\n".join(parts)

    def _wait_port(self, service: Service, timeout: float = 180) -> None:
        port = service.port
        if port is None:
            return
        try:
            wait(lambda: listening(port), timeout, f"{service.name} on :{port}", self._alive)
        except CloudError as exc:
            raise CloudError(f"{exc}\n{self.log_tail(service.name)}") from None

    def _start_services(self) -> None:
        services = {s.name: s for s in self.configs.services(HERE / "wsgi")}
        self._spawn(services["keystone"])
        self._wait_port(services["keystone"])
        self._ready("keystone", lambda: bool(self.connection().identity.get_token()), 60)
        self._register()
        self._conn = None  # its token's catalog predates the registration
        for name in services:
            if name not in ("keystone", "nova-compute"):
                self._spawn(services[name])
        self._wait_port(services["placement"])
        self._spawn(services["nova-compute"])
        for service in services.values():
            self._wait_port(service)
        conn = self.connection()
        # neutron 26.0.6: the first GET /v2.0/ports of a fresh worker fails until another
        # query has configured the ORM mappers; a network list does that (recipe wall 4)
        self._ready("neutron-server", lambda: list(conn.network.networks()) is not None, 60)
        self._ready("neutron-server", lambda: list(conn.network.ports()) is not None, 60)
        self._ready("glance-api", lambda: list(conn.image.images()) is not None, 60)
        self._ready("placement", lambda: any(True for _ in conn.placement.resource_providers()),
                    120)
        self._ready("nova-compute", lambda: self._service_up(
            conn.compute.services(), "nova-compute"), 120)
        self._ready("nova-conductor", lambda: self._service_up(
            conn.compute.services(), "nova-conductor"), 60)
        self._ready("nova-scheduler", lambda: self._service_up(
            conn.compute.services(), "nova-scheduler"), 60)
        self._ready("nova-compute", lambda: any(True for _ in conn.compute.hypervisors()), 120)
        self._ready("cinder-volume", lambda: self._service_up(
            conn.block_storage.services(), "cinder-volume"), 120)
        self._ready("cinder-scheduler", lambda: self._service_up(
            conn.block_storage.services(), "cinder-scheduler"), 60)
        self._seed(conn)

    def _ready(self, name: str, check: Callable[[], bool], timeout: float) -> None:
        try:
            wait(check, timeout, f"{name} to answer", self._alive, interval=1.0)
        except CloudError as exc:
            raise CloudError(f"{exc}\n{self.log_tail(name)}") from None

    @staticmethod
    def _service_up(services: Any, binary: str) -> bool:
        return any(s.binary == binary and s.state == "up" and s.status == "enabled"
                   for s in services)

    # ---- keystone and the cloud's first resources -------------------------------------------

    def auth(self) -> dict[str, str]:
        return {"auth_url": f"{self.configs.keystone_url}/v3", "username": "admin",
                "password": PASSWORD, "project_name": "admin", "user_domain_name": "Default",
                "project_domain_name": "Default"}

    def connection(self) -> Any:
        """An admin openstacksdk connection (the test extra's openstacksdk)."""
        if self._conn is None:
            import openstack  # the test extra; imported late: collection must not need it

            self._conn = openstack.connect(auth=self.auth(), region_name=REGION)
        return self._conn

    def clouds_yaml(self, path: Path, name: str = "dccloud") -> Path:
        import yaml

        path.write_text(yaml.safe_dump({"clouds": {name: {
            "auth": self.auth(), "region_name": REGION, "identity_api_version": 3}}}))
        return path

    def _register(self) -> None:
        """The service project, users, roles and catalog, in one SDK session."""
        idn = self.connection().identity
        dom = idn.find_domain("default")
        proj = idn.find_project("service", domain_id=dom.id) or idn.create_project(
            name="service", domain_id=dom.id)
        roles = {r.name: r for r in idn.roles()}
        for rn in ("admin", "service"):
            if rn not in roles:
                roles[rn] = idn.create_role(name=rn)
        for u in SERVICE_USERS:
            user = idn.create_user(name=u, password=PASSWORD, domain_id=dom.id,
                                   default_project_id=proj.id)
            for rn in ("admin", "service"):
                idn.assign_project_role_to_user(proj, user, roles[rn])
        for name, type_, port_of, path in CATALOG:
            svc = idn.create_service(name=name, type=type_, enabled=True)
            url = f"http://127.0.0.1:{getattr(self.ports, port_of)}{path}"
            for iface in ("public", "internal", "admin"):
                idn.create_endpoint(service_id=svc.id, interface=iface, url=url,
                                    region_id=REGION)

    def _seed(self, conn: Any) -> None:
        """A flavor, a tiny image and cinder's default volume type."""
        conn.compute.create_flavor(name="dc.tiny", ram=64, vcpus=1, disk=1)
        image = self.layout.data / "tiny.img"
        image.write_bytes(b"\0" * 65536)
        conn.image.create_image(name="dc-img", filename=str(image), disk_format="raw",
                                container_format="bare", visibility="public", wait=True)
        vt = conn.block_storage.create_type(name="fake")
        conn.block_storage.update_type_extra_specs(vt, volume_backend_name="fake")


PGIDS = "pgids"


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the fixture finalizers and atexit


def reap_stale(base: Path) -> list[str]:
    """Clean up after a session killed without a chance to stop its cloud: the process
    groups of ``run-<pid>`` folders whose pid is gone (only processes whose working
    directory is that folder: a reused group id is left alone), their vhost, the folder.
    Returns what was removed."""
    removed: list[str] = []
    for run in sorted(base.glob("run-*")):
        pid = run.name.removeprefix("run-")
        if not pid.isdigit() or Path(f"/proc/{pid}").exists():
            continue
        groups = {int(g) for g in _read(run / PGIDS).split() if g.isdigit()}
        for member, _ in members(groups):
            with contextlib.suppress(OSError):
                if Path(f"/proc/{member}/cwd").resolve() == run.resolve():
                    os.kill(member, signal.SIGKILL)
                    removed.append(f"process {member}")
        for vhost in _read(run / "vhost").split():
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)
            removed.append(f"vhost {vhost}")
        shutil.rmtree(run, ignore_errors=True)
        removed.append(str(run))
    return removed


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def members(groups: set[int]) -> list[tuple[int, int]]:
    """(pid, resident pages) of the live processes (zombies left out) in ``groups``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()  # state, ppid, pgrp, ...
            if int(fields[2]) in groups and fields[0] != "Z":
                found.append((int(entry.name), int(fields[21])))  # field 24 of stat: rss
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return found


def _sh(arg: str) -> str:
    import shlex

    return shlex.quote(arg)
