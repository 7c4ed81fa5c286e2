"""SIGHUP reloads ``run`` and never kills a command (dreamcatcher/hangup.py).

``run``: SIGHUPs during a busy stream reload the rules with nothing lost or
doubled; one during start-up is kept for when it runs. ``replay`` and ``demo``:
a SIGHUP is noted on stderr and ignored, and the output is what it would have been.
Each signal is sent once the process has its handler (``SigCgt`` in /proc), so
the tests do not race Python's start-up, where no program can catch anything.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.live.proc import ACK_RULE, WorkerProcess, ack_line, jsonl, wait_for
from tests.live.test_worker_faults import _append, _config, _firing_ids
from tests.paths import REPO

CLI = [sys.executable, "-m", "dreamcatcher.cli"]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")


def _catches_sighup(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) & (1 << (signal.SIGHUP - 1)))


def _hup_when_caught(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    wait_for(lambda: _catches_sighup(proc.pid) or proc.poll() is not None, timeout,
             "a SIGHUP handler")
    assert proc.poll() is None, "exited before it could be signalled"
    proc.send_signal(signal.SIGHUP)


def test_sighup_during_a_busy_stream_reloads_and_loses_nothing(tmp_path: Path) -> None:
    sink = tmp_path / "alerts.jsonl"
    config = _config(tmp_path, [{"type": "jsonl", "url": str(sink)}])
    log = tmp_path / "dnsmasq.log"
    total, hups = 2000, 0
    with WorkerProcess("--config", str(config), log=tmp_path / "worker.log") as worker:
        worker.wait_running()
        for start in range(0, total, 100):
            _append(log, [ack_line(n) for n in range(start, start + 100)])
            worker.hup()
            hups += 1
            time.sleep(0.05)
        wait_for(lambda: len(jsonl(sink)) >= total, 90, f"{total} alerts")
        assert worker.proc.poll() is None, worker.stderr()
        assert worker.terminate() == 0, worker.stderr()
    ids = _firing_ids(jsonl(sink))
    assert len(ids) == len(set(ids)) == total
    text = worker.log.read_text()
    assert 1 <= text.count("rules reloaded") <= hups  # HUPs that overlap a reload coalesce
    assert "Traceback" not in text


def test_sighup_while_run_starts_is_a_reload_once_running(tmp_path: Path) -> None:
    sink = tmp_path / "alerts.jsonl"
    config = _config(tmp_path, [{"type": "jsonl", "url": str(sink)}])
    with WorkerProcess("--config", str(config), log=tmp_path / "worker.log") as worker:
        _hup_when_caught(worker.proc)
        worker.wait_running()
        wait_for(lambda: "rules reloaded" in worker.stderr(), 30, "the reload")
        _append(tmp_path / "dnsmasq.log", [ack_line(1)])
        wait_for(lambda: len(jsonl(sink)) == 1, 30, "an alert")
        assert worker.terminate() == 0, worker.stderr()


def _replay_signalled(tmp_path: Path,
                      signal_it: Callable[[subprocess.Popen[bytes]], None]
                      ) -> tuple[int, bytes, bytes]:
    """``replay`` of two DHCPACKs from stdin, ``signal_it`` between them: (status, out, err)."""
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "ack.yaml").write_text(ACK_RULE)
    replay = subprocess.Popen([*CLI, "replay", "--format", "json", "--rules", str(rules),
                               "--kind", "dnsmasq", "-"], cwd=REPO, env=ENV,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    try:
        assert replay.stdin is not None
        replay.stdin.write((ack_line(1) + "\n").encode())
        replay.stdin.flush()
        signal_it(replay)
        out, err = replay.communicate((ack_line(2) + "\n").encode(), timeout=60)
    finally:
        if replay.poll() is None:
            replay.kill()
    return replay.returncode, out, err


def test_replay_ignores_sighup_and_carries_on(tmp_path: Path) -> None:
    def twice(replay: subprocess.Popen[bytes]) -> None:
        _hup_when_caught(replay)
        _hup_when_caught(replay)

    status, out, err = _replay_signalled(tmp_path, twice)
    assert status == 0, err
    noted = err.decode().count("SIGHUP ignored: `replay` reads its rules once")
    assert 1 <= noted <= 2  # two signals close together may arrive as one
    assert "Traceback" not in err.decode()
    assert len([json.loads(line) for line in out.splitlines()]) == 2


def _burst(pid: int, signum: int, count: int) -> None:
    """``count`` signals, back to back and then 1 ms apart: some land inside the handler's
    run (signals sent faster than it runs merge into one)."""
    for n in range(count):
        os.kill(pid, signum)
        if n % 2:
            time.sleep(0.001)


def test_replay_lives_through_a_burst_of_sighups(tmp_path: Path) -> None:
    """A handler runs again inside itself when signals come close together; one that took
    a lock (``threading.Event.set``) waited for itself for ever (1 replay in 10 hung)."""
    def burst(replay: subprocess.Popen[bytes]) -> None:
        _hup_when_caught(replay)
        _burst(replay.pid, signal.SIGHUP, 300)

    for _ in range(3):
        status, out, err = _replay_signalled(tmp_path, burst)
        assert status == 0, err
        assert len(out.splitlines()) == 2


def test_run_lives_through_a_burst_of_sighups_and_stops_on_sigterm(tmp_path: Path) -> None:
    sink = tmp_path / "alerts.jsonl"
    config = _config(tmp_path, [{"type": "jsonl", "url": str(sink)}])
    with WorkerProcess("--config", str(config), log=tmp_path / "worker.log") as worker:
        worker.wait_running()
        _burst(worker.proc.pid, signal.SIGHUP, 300)
        _append(tmp_path / "dnsmasq.log", [ack_line(1)])
        wait_for(lambda: len(jsonl(sink)) == 1, 30, "an alert after the burst")
        _burst(worker.proc.pid, signal.SIGHUP, 300)
        worker.proc.send_signal(signal.SIGTERM)
        worker.proc.send_signal(signal.SIGINT)  # a second stop signal changes nothing
        assert worker.wait(60) == 0, worker.stderr()
    assert "rules reloaded" in worker.log.read_text()


def test_demo_under_sighup_gives_the_same_alerts(tmp_path: Path) -> None:
    clean = subprocess.run([*CLI, "demo", "--format", "json"], cwd=REPO, env=ENV,
                           capture_output=True, timeout=120)
    demo = subprocess.Popen([*CLI, "demo", "--format", "json"], cwd=REPO, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _hup_when_caught(demo)
    sent = 1
    while demo.poll() is None and sent < 50:  # keep at it while it works
        demo.send_signal(signal.SIGHUP)
        sent += 1
        time.sleep(0.01)
    out, err = demo.communicate(timeout=120)
    assert demo.returncode == 0, err
    assert "Traceback" not in err.decode() and b"SIGHUP ignored: `demo`" in err
    assert out == clean.stdout and out.count(b"\n") == 9


def test_the_live_clock_sends_a_storm_summary_with_no_firing_to_bring_it(
        tmp_path: Path) -> None:
    """(The storm throttle's live hook, here beside the other run-process tests.)"""
    sink = tmp_path / "alerts.jsonl"
    config = _config(tmp_path, [{"type": "jsonl", "url": str(sink)}], storm={"per_rule": 5})
    with WorkerProcess("--config", str(config), log=tmp_path / "worker.log") as worker:
        worker.wait_running()
        quiet = ack_line(999, second=200).replace("DHCPACK", "DHCPREQUEST")  # fires nothing
        _append(tmp_path / "dnsmasq.log", [ack_line(n) for n in range(40)] + [quiet])
        wait_for(lambda: len(jsonl(sink)) == 6, 30, "5 alerts and the storm notice")
        storm = jsonl(sink)[-1]
        assert storm["folded"] == 35 and storm["firing"]["labels"]["storm"] == "true"
        assert worker.terminate() == 0, worker.stderr()
