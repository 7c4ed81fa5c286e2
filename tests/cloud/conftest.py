"""One real OpenStack for the whole session, and one live worker consuming it.

Outside CI a cloud that cannot be installed or started skips the tests with the reason;
under ``CI=true`` it fails them. The cloud is stopped and its databases and vhost removed
by the fixture's finalizer, and by ``atexit`` should the session die first.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cloud.harness import BASE, Cloud, CloudError, listening
from tests.cloud.proxy import CinderProxy
from tests.cloud.services import LOG_KINDS
from tests.cloud.worker import deploy_config
from tests.conftest import unavailable
from tests.live.proc import WorkerProcess, free_port

#: nova's wait for a volume: 8 attempts 1 s apart (default 60 x 3 s), so the slowed
#: volumes of bdm-wait-exhausted exhaust it in seconds; the fake backend answers in < 1 s
NOVA_EXTRA: dict[str, object] = {"block_device_allocate_retries": 8,
                                 "block_device_allocate_retries_interval": 1}


def _prerequisites() -> None:
    for tool in ("mysql", "rabbitmqctl"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is not installed: the test cloud needs MariaDB and RabbitMQ")
    for name, port in (("MariaDB", 3306), ("RabbitMQ", 5672)):
        if not listening(port):
            unavailable(f"{name} is not reachable at 127.0.0.1:{port}")
    with open("/proc/meminfo") as fh:
        avail = next(int(line.split()[1]) for line in fh if line.startswith("MemAvailable"))
    if avail < 4 * 1024 * 1024:
        unavailable(f"the test cloud needs 4 GB of free memory, {avail // 1024} MB available")


@pytest.fixture(scope="session")
def cloud() -> Iterator[Cloud]:
    _prerequisites()
    cloud = Cloud(nova_extra=NOVA_EXTRA, proxy_cinder=True)
    proxy = CinderProxy(cloud.ports.cinder_proxy, cloud.ports.cinder).start()
    cloud.proxy = proxy
    try:
        cloud.start()
    except CloudError as exc:
        cloud.stop()
        proxy.close()
        unavailable(f"the test cloud did not start: {exc}")
    try:
        yield cloud
    finally:
        cloud.stop()
        capture = os.environ.get("DREAMCATCHER_CLOUD_CAPTURE")
        if capture:
            keep_capture(cloud, Path(capture))
        proxy.close()
        summary = cloud.summary()
        (BASE / "last-run.txt").write_text(summary + "\n")
        print(f"\n{summary}", file=sys.stderr)
        if os.environ.get("DREAMCATCHER_CLOUD_KEEP_LOGS") != "1":
            cloud.remove_files()


def keep_capture(cloud: Cloud, dest: Path) -> None:
    """The followed logs of this run without their DEBUG lines, as corpus test data."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in LOG_KINDS:
        lines = (cloud.layout.logs / name).read_text(encoding="utf-8").splitlines(True)
        (dest / name).write_text("".join(x for x in lines if " DEBUG " not in x[:40]),
                                 encoding="utf-8")


@pytest.fixture(scope="session")
def worker_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cloud-worker")


@pytest.fixture(scope="session")
def live_worker(cloud: Cloud, worker_dir: Path) -> Iterator[tuple[WorkerProcess, int]]:
    """``dreamcatcher run --config deploy.yaml`` on the cloud; yields it and its HTTP port."""
    port = free_port()
    config = deploy_config(cloud, worker_dir, port)
    env = {"OS_CLIENT_CONFIG_FILE": str(worker_dir / "clouds.yaml")}
    with WorkerProcess("--config", str(config), log=worker_dir / "worker.log",
                       env=env) as worker:
        worker.wait_running(60)
        yield worker, port
        worker.terminate()
