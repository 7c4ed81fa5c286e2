"""Every kind of source into one running worker: syslog over UDP and TCP from real
senders (util-linux ``logger``, Python's ``SysLogHandler``), a followed file with
the host it belongs to, and standard input; the alerts come out of one engine."""

from __future__ import annotations

import logging
import logging.handlers
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import require_tool
from tests.live.proc import (
    ACK_RULE,
    WorkerProcess,
    free_port,
    jsonl,
    wait_for,
    write_config,
)
from tests.paths import CORPUS

IMAGECACHE_RULE = """\
rule: base-removed
severity: info
when: {event: nova.imagecache.base_file_removed}
alert:
  title: "removed on {{ event.host }}"
  group_by: [event.id]
"""


def _ack(n: int) -> str:
    return f"DHCPACK(tap{n}) 10.0.0.{n} fa:16:3e:00:00:{n:02x} host-{n}"


def test_syslog_files_and_one_engine(tmp_path: Path) -> None:
    logger = require_tool("logger")
    port = free_port()
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ack.yaml").write_text(ACK_RULE)
    (rules / "removed.yaml").write_text(IMAGECACHE_RULE)
    followed = tmp_path / "nova-compute.log"
    followed.write_text("")
    sink = tmp_path / "alerts.jsonl"
    config = write_config(tmp_path / "deploy.yaml", {
        "sources": {
            "syslog": [{"bind": "127.0.0.1", "port": port}],
            "files": [{"path": str(followed), "kind": "nova-compute", "host": "compute-7"}],
        },
        "rules": [str(rules)],
        "clock": {"mode": "event"},
        "alerting": {"sinks": [{"type": "jsonl", "url": str(sink)}]},
    })
    with WorkerProcess("--config", str(config), log=tmp_path / "worker.log") as worker:
        worker.wait_running()
        sent: list[Any] = []
        for n, proto in ((1, "--udp"), (2, "--tcp")):
            for fmt in ("--rfc3164", "--rfc5424"):
                number = n * 10 + (1 if fmt == "--rfc3164" else 2)
                subprocess.run([logger, "--server", "127.0.0.1", "--port", str(port), proto,
                                fmt, "-t", "dnsmasq-dhcp", "--id=2438", _ack(number)],
                               check=True, timeout=10)
                sent.append(number)
        handler = logging.handlers.SysLogHandler(("127.0.0.1", port))
        handler.ident = "dnsmasq-dhcp[2438]: "
        record = logging.LogRecord("dnsmasq", logging.INFO, __file__, 1, _ack(99), None, None)
        handler.emit(record)
        handler.close()
        removed = [line for line in
                   (CORPUS / "logs" / "nova-compute-imagecache.log").read_text().splitlines()
                   if "Removing base or swap file" in line][:2]
        assert removed, "the corpus has the imagecache removal lines"
        with followed.open("a") as fh:
            fh.write("\n".join(removed) + "\n")
        wait_for(lambda: len(jsonl(sink)) >= 7, 30, "7 alerts")
        assert worker.terminate() == 0, worker.stderr()
    alerts = jsonl(sink)
    titles = sorted(a["firing"]["title"] for a in alerts)
    macs = sorted(t.split()[1] for t in titles if t.startswith("ack "))
    assert macs == sorted(f"fa:16:3e:00:00:{n:02x}" for n in [*sent, 99])
    assert [t for t in titles if t.startswith("removed")] == ["removed on compute-7"] * 2


def test_stdin_is_a_source_too(tmp_path: Path) -> None:
    rules = tmp_path / "ack.yaml"
    rules.write_text(ACK_RULE)
    lines = "".join(f"Mar  2 08:00:{n:02d} net-1 dnsmasq-dhcp[1]: {_ack(n)}\n" for n in range(3))
    result = subprocess.run(
        [*_cli(), "run", "--stdin", "--rules", str(rules), "--clock", "event",
         "--format", "json"], input=lines, capture_output=True, text=True, timeout=60,
        cwd=_repo(), env=_env())
    # stdin ended: the worker stops by itself once the lines are processed
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 3


def _cli() -> list[str]:
    import sys

    return [sys.executable, "-m", "dreamcatcher.cli"]


def _repo() -> Path:
    from tests.paths import REPO

    return REPO


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(_repo())}
