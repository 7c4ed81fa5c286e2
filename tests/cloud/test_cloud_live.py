"""A real OpenStack 2025.1 driven through its APIs, consumed live by ``dreamcatcher run``.

One cloud and one worker for the module (see conftest.py). The tests run in file order:
the quiet workload first, so no alert of a fault-injection test can land in its window.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloud.conftest import NOVA_EXTRA
from tests.cloud.harness import Cloud
from tests.cloud.services import LAGGING_NAME
from tests.cloud.worker import event_counts
from tests.live.proc import WorkerProcess, jsonl, wait_for

Worker = tuple[WorkerProcess, int]

#: the longest a rule here waits before it fires (volume-post-lost's test-sized absence),
#: plus the worker's lateness and a margin: a quiet window this long has seen every alert
QUIET_WAIT = 30.0


def alerts(worker_dir: Path, rule: str | None = None) -> list[dict[str, Any]]:
    found = [a for a in jsonl(worker_dir / "alerts.jsonl") if a.get("kind") != "resolved"]
    return [a for a in found if rule is None or a["firing"]["rule"] == rule]


def wait_alert(worker_dir: Path, worker: WorkerProcess, rule: str, timeout: float,
               where: Callable[[dict[str, Any]], bool] = lambda a: True) -> dict[str, Any]:
    def seen() -> bool:
        if worker.proc.poll() is not None:
            raise AssertionError(f"the worker exited: {worker.stderr()}")
        return any(where(a) for a in alerts(worker_dir, rule))

    try:
        wait_for(seen, timeout, f"a {rule} alert")
    except AssertionError:
        raise AssertionError(f"no {rule} alert; alerts: "
                             f"{[a['firing']['title'] for a in alerts(worker_dir)]}") from None
    return next(a for a in alerts(worker_dir, rule) if where(a))


@pytest.fixture
def conn(cloud: Cloud) -> Iterator[Any]:
    """The admin SDK connection; servers and volumes a test made are deleted after it."""
    c = cloud.connection()
    yield c
    if cloud.proxy is not None:
        cloud.proxy.clear()
    servers = list(c.compute.servers())
    for s in servers:
        c.compute.delete_server(s, force=True)
    for s in servers:
        c.compute.wait_for_delete(s, wait=120)
    for v in c.block_storage.volumes():
        if v.status in ("available", "error", "creating"):
            c.block_storage.delete_volume(v, force=v.status != "available")


def boot(c: Any, name: str, count: int = 1, blank_volume: bool = False, wait: bool = True
         ) -> list[Any]:
    image = c.image.find_image("dc-img")
    bdm = None
    if blank_volume:  # a blank cinder volume as second disk: nova-compute creates it
        bdm = [{"boot_index": 0, "uuid": image.id, "source_type": "image",
                "destination_type": "local", "delete_on_termination": True},
               {"boot_index": -1, "source_type": "blank", "destination_type": "volume",
                "volume_size": 1, "delete_on_termination": True}]
    kwargs: dict[str, Any] = {"block_device_mapping": bdm} if bdm else {}
    c.compute.create_server(name=name, flavor_id=c.compute.find_flavor("dc.tiny").id,
                            image_id=image.id, networks="none", min_count=count,
                            max_count=count, **kwargs)
    servers = [s for s in c.compute.servers(name=f"^{name}") if s.name.startswith(name)]
    if wait:
        servers = [c.compute.wait_for_server(s, wait=180) for s in servers]
    return servers


def idle(c: Any, server: Any) -> None:
    """Wait until ``server`` is ACTIVE with no task running (a reboot's end)."""
    def done() -> bool:
        s = c.compute.get_server(server)
        return bool(s.status == "ACTIVE" and s.task_state is None)

    wait_for(done, 120, f"{server.name} to finish its task")


def settled(c: Any, name: str, n: int) -> list[Any]:
    """The ``n`` servers named ``name*`` once none is building any more."""
    def done() -> bool:
        got = [s for s in c.compute.servers(name=f"^{name}") if s.name.startswith(name)]
        return len(got) == n and all(s.status in ("ACTIVE", "ERROR") for s in got)

    wait_for(done, 240, f"{n} {name} servers to settle")
    return [s for s in c.compute.servers(name=f"^{name}") if s.name.startswith(name)]


def test_boot_and_delete_reach_the_worker(cloud: Cloud, live_worker: Worker, conn: Any,
                                          worker_dir: Path) -> None:
    _worker, port = live_worker
    before = event_counts(port)
    (server,) = boot(conn, "dc-first")
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=120)

    def arrived() -> bool:
        now = event_counts(port)
        grew = {k for k, v in now.items() if v > before.get(k, 0)}
        return (any("instance.delete.end" in t for _, t in grew)
                and any(t == "nova.api.request" for _, t in grew))

    wait_for(arrived, 60, "the boot's notifications and nova-api's log lines")
    now = event_counts(port)
    new = {k: v - before.get(k, 0) for k, v in now.items() if v > before.get(k, 0)}
    sources = {s for s, _ in new}
    assert len(sources) >= 2, new  # the bus and the followed files
    assert any("instance.create.end" in t for _, t in new), new


def test_quiet_workload_raises_no_alert(cloud: Cloud, live_worker: Worker, conn: Any,
                                        worker_dir: Path) -> None:
    worker, _ = live_worker
    before = len(alerts(worker_dir))
    (server,) = boot(conn, "dc-quiet")
    conn.compute.stop_server(server)
    conn.compute.wait_for_server(server, status="SHUTOFF", wait=120)
    conn.compute.start_server(server)
    idle(conn, server)
    conn.compute.reboot_server(server, "SOFT")
    idle(conn, server)
    vol = conn.block_storage.create_volume(size=1, name="dc-quiet-vol")
    conn.block_storage.wait_for_status(vol, "available", wait=120)
    conn.compute.create_volume_attachment(server, volume_id=vol.id)
    conn.block_storage.wait_for_status(vol, "in-use", wait=120)
    conn.compute.delete_volume_attachment(server, vol.id)
    conn.block_storage.wait_for_status(vol, "available", wait=120)
    conn.block_storage.delete_volume(vol)
    conn.block_storage.wait_for_delete(vol, wait=120)
    (bfv,) = boot(conn, "dc-quiet-bfv", blank_volume=True)
    conn.compute.delete_server(server)
    conn.compute.delete_server(bfv)
    conn.compute.wait_for_delete(server, wait=120)
    conn.compute.wait_for_delete(bfv, wait=120)
    time.sleep(QUIET_WAIT)
    assert worker.proc.poll() is None, worker.stderr()
    assert [a["firing"]["title"] for a in alerts(worker_dir)[before:]] == []


def test_console_log_flood(cloud: Cloud, live_worker: Worker, conn: Any,
                           worker_dir: Path) -> None:
    worker, _ = live_worker
    (server,) = boot(conn, "dc-console")
    for _ in range(3):
        assert "FAKE CONSOLE OUTPUT" in conn.compute.get_server_console_output(server)["output"]
    alert = wait_alert(worker_dir, worker, "console-log-flood", 60)
    assert server.id in alert["firing"]["title"], alert["firing"]["title"]


def test_volume_post_lost(cloud: Cloud, live_worker: Worker, conn: Any,
                          worker_dir: Path) -> None:
    worker, _ = live_worker
    cloud.proxy.drop_volume_posts(1)
    boot(conn, "dc-burst", count=4, blank_volume=True, wait=False)
    servers = settled(conn, "dc-burst", 4)
    failed = [s for s in servers if s.status == "ERROR"]
    assert len(failed) == 1 and cloud.proxy.dropped >= 1, [(s.name, s.status) for s in servers]
    alert = wait_alert(worker_dir, worker, "volume-post-lost", 60)
    assert alert["firing"]["labels"]["instance_id"] == failed[0].id, alert["firing"]
    assert len(alerts(worker_dir, "volume-post-lost")) == 1


def test_bdm_wait_exhausted(cloud: Cloud, live_worker: Worker, conn: Any,
                            worker_dir: Path) -> None:
    worker, _ = live_worker
    cloud.proxy.hold_volumes_creating(60)
    boot(conn, "dc-slow", count=2, blank_volume=True, wait=False)
    servers = settled(conn, "dc-slow", 2)
    assert [s.status for s in servers] == ["ERROR", "ERROR"], servers
    alert = wait_alert(worker_dir, worker, "bdm-wait-exhausted", 60)
    title = alert["firing"]["title"]
    assert title.startswith("2 instances failed"), title
    # nova's own figure: block_device_allocate_retries + 1 attempts, 1 s apart
    attempts = int(str(NOVA_EXTRA["block_device_allocate_retries"])) + 1
    assert f"after {attempts}s" in title, title
    text = alert["firing"]["text"]
    assert all(s.id in text for s in servers), text  # the culprits, each named
    # cinder had these volumes: the lost-POST rule must not claim them
    time.sleep(QUIET_WAIT)
    lost = [a for a in alerts(worker_dir, "volume-post-lost")
            if a["firing"]["labels"]["instance_id"] in {s.id for s in servers}]
    assert lost == []


def test_volume_create_lost_in_db(cloud: Cloud, live_worker: Worker, conn: Any,
                                  worker_dir: Path) -> None:
    """cinder-volume reads through a lagging database endpoint (see harness): cinder-api's
    create succeeds, cinder-volume's real create flow raises VolumeNotFound."""
    worker, _ = live_worker
    vol = conn.block_storage.create_volume(size=1, name=f"{LAGGING_NAME}-1")
    alert = wait_alert(worker_dir, worker, "volume-create-lost-in-db", 90)
    assert vol.id in alert["firing"]["title"], alert["firing"]["title"]
    assert conn.block_storage.get_volume(vol).status != "available"


def _changes_since(c: Any) -> float:
    """One listing that includes deleted servers (what a sync job or dashboard asks)."""
    t = time.monotonic()
    c.compute.get("/servers/detail?all_tenants=1&changes-since=2000-01-01T00:00:00Z")
    return time.monotonic() - t


def test_slow_api_db_bloat(cloud: Cloud, live_worker: Worker, conn: Any,
                           worker_dir: Path) -> None:
    """200,000 soft-deleted instance rows slow nova's real listing of changes 10-40x."""
    worker, _ = live_worker
    (server,) = boot(conn, "dc-bloat")
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=120)
    before = [_changes_since(conn) for _ in range(6)]  # the action's baseline
    cloud.bloat_instances(server.id, 200_000)
    after = _changes_since(conn)
    assert after > 1.0 and after > 5 * max(before), (before, after)
    alert = wait_alert(worker_dir, worker, "slow-api-db-bloat", 60)
    assert alert["firing"]["labels"]["action"] == "servers.detail", alert["firing"]
    assert alert["firing"]["labels"]["method"] == "GET", alert["firing"]

def test_every_alert_of_the_run_is_a_seeded_incident(live_worker: Worker,
                                                    worker_dir: Path) -> None:
    """No rule fired beside the incidents the tests caused (runs last, in file order)."""
    rules = sorted(a["firing"]["rule"] for a in alerts(worker_dir))
    assert set(rules) <= {"console-log-flood", "volume-post-lost", "bdm-wait-exhausted",
                          "volume-create-lost-in-db", "slow-api-db-bloat"}, rules
    assert len(rules) == len(set(rules)), rules
