"""The live worker under stop, kill and reload: nothing lost, nothing twice, bad rules refused.

Each test runs ``dreamcatcher run`` as a real process following a real file,
with real alert sinks (a JSON-lines file; an HTTP receiver that is slow on
purpose), and signals or kills it as an operator or the OOM killer would.
"""

from __future__ import annotations

import http.server
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from dreamcatcher.outbox import Outbox
from tests.live.proc import (
    ACK_RULE,
    WorkerProcess,
    ack_line,
    jsonl,
    wait_for,
    write_config,
)
from tests.paths import REPO


def _config(tmp: Path, sinks: list[dict[str, Any]], *,
            storm: dict[str, Any] | None = None, **extra: Any) -> Path:
    """A worker following dnsmasq.log; ``storm`` the throttle's settings (default off:
    each alert its own notice, the storm fold is tested on its own)."""
    (tmp / "rules").mkdir(exist_ok=True)
    (tmp / "rules" / "ack.yaml").write_text(ACK_RULE)
    return write_config(tmp / "deploy.yaml", {
        "sources": {"files": [{"path": str(tmp / "dnsmasq.log"), "kind": "dnsmasq"}],
                    "offsets": str(tmp / "offsets.json")},
        "rules": [str(tmp / "rules")],
        "outbox": {"path": str(tmp / "outbox.jsonl")},
        "clock": {"mode": "event"},
        "alerting": {"sinks": sinks, "dead_letter_path": str(tmp / "alerts.dead.jsonl"),
                     "storm": storm if storm is not None else {"enabled": False}},
        **extra,
    })


def _append(path: Path, lines: list[str]) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write("".join(line + "\n" for line in lines))


def _firing_ids(records: list[dict[str, Any]]) -> list[str]:
    return [r["firing"]["id"] for r in records]


def _unsettled(path: Path) -> set[str]:
    """The firings the outbox journalled and the router had not settled, as the next
    start reads them (it delivers them again)."""
    outbox = Outbox(path)
    try:
        return {firing.id for firing in outbox.pending()}
    finally:
        outbox.close()


class _SlowReceiver(http.server.BaseHTTPRequestHandler):
    delay = 0.05
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(self.delay)
        self.received.append(orjson.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


def test_sigterm_during_a_burst_delivers_or_dead_letters_every_alert(
    tmp_path: Path, receiver: Any
) -> None:
    """A webhook that takes 50 ms per post; SIGTERM after about 60 of 300 notices.

    Every firing must be either at the receiver or in the alert dead letters
    (with its reason); none may just vanish at exit.
    """
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    config = _config(tmp_path, [{"type": "webhook", "url": url}])
    _append(tmp_path / "dnsmasq.log", [ack_line(n) for n in range(300)])
    with WorkerProcess("--config", str(config), log=tmp_path / "worker.log") as worker:
        worker.wait_running()
        wait_for(lambda: len(_SlowReceiver.received) >= 60, 60, "60 notices at the receiver")
        assert worker.terminate(timeout=90) == 0, worker.stderr()
    delivered = {r["firing"]["id"] for r in _SlowReceiver.received}
    dead = jsonl(tmp_path / "alerts.dead.jsonl")
    dead_ids = {d["raw"]["firing"]["id"] for d in dead}
    assert all(d["reason"] for d in dead)
    assert len(delivered) + len(dead_ids - delivered) == 300
    assert len(delivered) >= 60


@pytest.fixture
def receiver() -> Any:
    """A real HTTP receiver on loopback that takes ``delay`` seconds per post."""
    _SlowReceiver.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    _SlowReceiver.delay = 0.05


@pytest.mark.parametrize("kills", [10])
def test_kill_9_during_a_burst_then_restart_loses_nothing(
    tmp_path: Path, kills: int, receiver: Any
) -> None:
    """``kill -9`` ten times while alerts are being delivered, then a clean run.

    Each of the 1,500 alerts reaches both sinks: the JSON-lines file (which
    de-duplicates by notice id) exactly once, the webhook at least once. A repeat
    at the webhook is only of an alert the outbox had not settled at a kill (posted,
    but the other sink had not written it yet, so the outbox had no ``done``): at
    most once more per kill that left it unsettled. Receivers de-duplicate by the
    notice id in the body.
    """
    _SlowReceiver.delay = 0.002
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    sink = tmp_path / "alerts.jsonl"
    config = _config(tmp_path, [{"type": "jsonl", "url": str(sink)},
                                {"type": "webhook", "url": url}])
    log = tmp_path / "dnsmasq.log"
    total, written = 1500, 0
    rng = random.Random(7)
    unsettled: Counter[str] = Counter()  # per alert, the kills that left it unsettled
    for round_ in range(kills):
        with WorkerProcess("--config", str(config), log=tmp_path / "worker.log") as worker:
            worker.wait_running()
            before = len(_SlowReceiver.received)
            burst = min(total - written, 150)
            _append(log, [ack_line(n) for n in range(written, written + burst)])
            written += burst
            wait_for(lambda b=before: len(_SlowReceiver.received) > b, 30,  # type: ignore[misc]
                     f"alerts of round {round_}")
            time.sleep(rng.uniform(0.0, 0.1))
            worker.kill()
        unsettled.update(_unsettled(tmp_path / "outbox.jsonl"))
    _append(log, [ack_line(n) for n in range(written, total)])
    with WorkerProcess("--config", str(config), log=tmp_path / "worker.log") as worker:
        worker.wait_running()
        wait_for(lambda: len({r["firing"]["id"] for r in _SlowReceiver.received}) >= total
                 and len(jsonl(sink)) >= total, 60, f"{total} alerts at both sinks")
        time.sleep(0.5)  # anything extra would show now
        assert worker.terminate() == 0, worker.stderr()
    ids = _firing_ids(jsonl(sink))
    assert len(ids) == total, f"{len(ids) - len(set(ids))} duplicates in the JSON-lines sink"
    assert len(set(ids)) == total
    posted = Counter(_firing_ids(_SlowReceiver.received))
    assert len(posted) == total
    repeats = {fid: n - 1 for fid, n in posted.items() if n > 1}
    assert all(extra <= unsettled[fid] for fid, extra in repeats.items()), (
        {fid: (extra, unsettled[fid]) for fid, extra in repeats.items()})
    assert not (tmp_path / "alerts.dead.jsonl").exists()


def test_a_bad_rule_at_sighup_keeps_the_running_rules(tmp_path: Path) -> None:
    sink = tmp_path / "alerts.jsonl"
    config = _config(tmp_path, [{"type": "jsonl", "url": str(sink)}])
    log = tmp_path / "dnsmasq.log"
    rules = tmp_path / "rules"
    pid_file = tmp_path / "worker.pid"
    with WorkerProcess("--config", str(config), "--pid-file", str(pid_file),
                       log=tmp_path / "worker.log") as worker:
        worker.wait_running()
        _append(log, [ack_line(1)])
        wait_for(lambda: len(jsonl(sink)) == 1, 30, "the first alert")
        (rules / "broken.yaml").write_text("rule: broken\nseverity: loud\nwhen: {event: x}\n"
                                           "alert: {title: t}\n")
        worker.hup()
        wait_for(lambda: "reload refused" in worker.stderr(), 30, "the refusal in the log")
        assert "broken.yaml:2" in worker.stderr()  # file:line of the bad field
        _append(log, [ack_line(2)])
        wait_for(lambda: len(jsonl(sink)) == 2, 30, "an alert from the running rules")
        # a good change is taken, and the unchanged rule keeps working beside it
        (rules / "broken.yaml").write_text(
            "rule: second\nseverity: info\nwhen: {event: dnsmasq.dhcp.ack}\n"
            "alert: {title: 'second {{ event.mac }}', group_by: [event.mac]}\n")
        reload = subprocess.run([sys.executable, "-m", "dreamcatcher.cli", "reload",
                                 "--pid-file", str(pid_file)], capture_output=True, text=True,
                                timeout=30, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert reload.returncode == 0, reload.stderr
        wait_for(lambda: "rules reloaded" in worker.stderr(), 30, "the reload")
        _append(log, [ack_line(3)])
        wait_for(lambda: len(jsonl(sink)) == 4, 30, "alerts from both rules")
        assert worker.terminate() == 0
    assert not pid_file.exists()
    rules_fired = sorted(r["firing"]["rule"] for r in jsonl(sink))
    assert rules_fired == ["ack-seen", "ack-seen", "ack-seen", "second"]
