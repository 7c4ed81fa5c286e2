"""The harness's own guarantees, without a cloud: a dead service is reported with its
log tail, stop() leaves nothing of a process group running, a venv whose marker holds the
pins' hash is reused, and the worker's rule pack carries the test-sized thresholds."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.cloud.harness import (
    MARKER,
    PGIDS,
    Cloud,
    CloudError,
    install,
    members,
    pins_hash,
    reap_stale,
)
from tests.cloud.services import Service
from tests.cloud.worker import rule_pack


def _cloud(tmp_path: Path) -> Cloud:
    cloud = Cloud(base=tmp_path)
    cloud.layout.logs.mkdir(parents=True)
    return cloud


def test_a_service_that_dies_is_reported_with_its_log_tail(tmp_path: Path) -> None:
    cloud = _cloud(tmp_path)
    port = cloud.ports.nova
    cloud._spawn(Service("nova-api", ["bash", "-c", "echo 'cannot import nova.wsgi'; exit 3"],
                         port=port))
    with pytest.raises(CloudError) as err:
        cloud._wait_port(Service("nova-api", [], port=port), timeout=20)
    cloud.stop()
    assert "nova-api exited 3" in str(err.value)
    assert "cannot import nova.wsgi" in str(err.value)


def test_stop_ends_the_whole_process_group(tmp_path: Path) -> None:
    cloud = _cloud(tmp_path)
    cloud._spawn(Service("cinder-volume", ["bash", "-c", "sleep 300 & sleep 300"]))
    pgid = cloud.procs["cinder-volume"].pid
    time.sleep(0.5)
    assert members({pgid}), "the service and its child run"
    cloud.stop()
    assert members({pgid}) == []


def test_a_killed_session_s_services_are_reaped_by_the_next(tmp_path: Path) -> None:
    cloud = _cloud(tmp_path)
    cloud._spawn(Service("nova-conductor", ["sleep", "300"]))
    # a group id listed there but now another program's (ids are reused): left alone
    stranger = subprocess.Popen(["sleep", "300"], start_new_session=True, cwd=tmp_path)
    with (cloud.layout.root / PGIDS).open("a") as fh:
        fh.write(f"{stranger.pid}\n")
    pgid = cloud.procs["nova-conductor"].pid
    dead = tmp_path / "run-999999999"  # the session that started it died without stop()
    cloud.layout.root.rename(dead)
    time.sleep(0.3)
    removed = reap_stale(tmp_path)
    time.sleep(0.3)
    cloud.procs["nova-conductor"].wait(5)
    assert members({pgid}) == []
    assert not dead.exists() and str(dead) in removed
    assert stranger.poll() is None
    stranger.kill()
    stranger.wait(5)


def test_a_venv_with_the_pins_marker_is_reused(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / MARKER).write_text(pins_hash())
    assert install(venv, tmp_path / "install.log") == 0.0
    assert not (tmp_path / "install.log").exists()  # pip never ran


def test_the_rule_pack_has_the_test_thresholds(tmp_path: Path) -> None:
    pack = rule_pack(tmp_path / "rules")
    flood = yaml.safe_load((pack / "console-log-flood.yaml").read_text())
    assert flood["when"]["count"]["where"]["data.length"] == {"gte": 440}
    lost = yaml.safe_load((pack / "volume-post-lost.yaml").read_text())
    assert lost["when"]["expect"]["within"] == "20s"
    assert not list(pack.glob("*.test.yaml"))
