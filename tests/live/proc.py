"""``dreamcatcher run`` as a real process, for the live worker's tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import yaml

from tests.paths import REPO

#: the rule these tests use: every DHCP ack is an alert of its own (grouped by MAC)
ACK_RULE = """\
rule: ack-seen
severity: warning
when: {event: dnsmasq.dhcp.ack}
alert:
  title: "ack {{ event.mac }} on {{ event.host }}"
  group_by: [event.mac]
"""


def ack_line(n: int, host: str = "net-1", second: int | None = None) -> str:
    """A dnsmasq DHCPACK as dnsmasq writes it to syslog; MAC and time from ``n``."""
    s = n if second is None else second
    mac = f"fa:16:3e:{(n >> 16) & 255:02x}:{(n >> 8) & 255:02x}:{n & 255:02x}"
    return (f"Mar  2 {8 + s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d} {host} "
            f"dnsmasq-dhcp[2438]: DHCPACK(tap{n % 7}) 10.0.{(n >> 8) & 255}.{n & 255} {mac} "
            f"host-{n}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def write_config(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


class WorkerProcess:
    """Start, signal and kill one worker; its stderr goes to a file for the assertions."""

    def __init__(self, *args: str, log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self._fh = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dreamcatcher.cli", "run", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._fh, cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        )

    def wait_running(self, timeout: float = 30.0) -> None:
        wait_for(lambda: b"running:" in self.log.read_bytes() or self.proc.poll() is not None,
                 timeout, "the worker to start")
        if self.proc.poll() is not None:
            raise AssertionError(f"worker exited {self.proc.returncode}: {self.stderr()}")

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]

    def terminate(self, timeout: float = 60.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def hup(self) -> None:
        self.proc.send_signal(signal.SIGHUP)

    def wait(self, timeout: float) -> int:
        try:
            code = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self._fh.close()
        return code

    def __enter__(self) -> WorkerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._fh.close()


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


def jsonl(path: Path) -> list[dict[str, Any]]:
    """The complete lines of a JSON-lines file (a line being written is left out)."""
    if not path.exists():
        return []
    data = path.read_bytes()
    return [orjson.loads(line) for line in data[: data.rfind(b"\n") + 1].splitlines()
            if line.strip()]
