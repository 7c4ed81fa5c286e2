"""A real Alertmanager (Debian's ``prometheus-alertmanager``) of the test's own, and the
webhook receiver it notifies: what a team's on-call would get, as it would get it.

Each Alertmanager listens on a free loopback port with a temporary storage path and
no cluster port, so it neither meets the package's service (9093/9094) nor another
test's; it is stopped (terminated, then killed) whatever the test did, and a start
that fails says why with the tail of its log.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.live.proc import free_port
from tests.stand_in import Reply, StandIn

READY_TIMEOUT = 20.0


@dataclass(frozen=True)
class Notification:
    """One webhook post of Alertmanager: its status and, per alert, what a receiver sees."""

    status: str
    group_labels: dict[str, str]
    alerts: list[dict[str, Any]]

    def statuses(self) -> list[str]:
        return [a["status"] for a in self.alerts]


class Receiver:
    """The webhook receiver: a real HTTP server collecting Alertmanager's posts."""

    PATH = "/hook"

    def __init__(self) -> None:
        self.server = StandIn()
        self.server.route("POST", self.PATH, lambda _r: Reply(200, b"ok"))
        self.url = self.server.base + self.PATH

    def notifications(self) -> list[Notification]:
        out = []
        for req in self.server.hits("POST", self.PATH):
            body = req.json()
            out.append(Notification(body["status"], body["groupLabels"], body["alerts"]))
        return out

    def wait_for(self, test: Callable[[list[Notification]], bool],
                 timeout: float = 15.0) -> list[Notification]:
        """The notifications once ``test`` holds of them; the assertion states what not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.notifications()
            if test(got):
                return got
            time.sleep(0.05)
        return self.notifications()

    def close(self) -> None:
        self.server.close()


@dataclass
class Timing:
    """Alertmanager's route and resolve timing, short so a test takes seconds."""

    group_by: list[str] = field(default_factory=lambda: ["alertname", "dreamcatcher_group"])
    group_wait: str = "200ms"
    group_interval: str = "500ms"
    repeat_interval: str = "1h"
    resolve_timeout: str = "3s"


class RealAlertmanager:
    """One ``prometheus-alertmanager`` process notifying ``receiver``."""

    def __init__(self, binary: str, amtool: str, workdir: Path, receiver: Receiver,
                 timing: Timing) -> None:
        self.amtool = amtool
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        config = {
            "global": {"resolve_timeout": timing.resolve_timeout},
            "route": {
                "receiver": "hook",
                "group_by": timing.group_by,
                "group_wait": timing.group_wait,
                "group_interval": timing.group_interval,
                "repeat_interval": timing.repeat_interval,
            },
            "receivers": [{"name": "hook", "webhook_configs": [
                {"url": receiver.url, "send_resolved": True, "max_alerts": 0}]}],
        }
        self.config = workdir / "alertmanager.yml"
        self.config.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.log = workdir / "alertmanager.log"
        self._log = self.log.open("wb")
        self.proc = subprocess.Popen(
            [binary, f"--config.file={self.config}", f"--storage.path={workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=",
             "--log.level=debug"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"alertmanager exited with {self.proc.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                if httpx.get(self.url + "/-/ready", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"alertmanager not ready in {READY_TIMEOUT}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        if not self._log.closed:
            self._log.flush()
        text = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def alerts(self, **filters: str) -> list[dict[str, Any]]:
        """``GET /api/v2/alerts``: the alerts Alertmanager holds as active (by default)."""
        response = httpx.get(self.url + "/api/v2/alerts", params=filters, timeout=5.0)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    def run_amtool(self, *args: str) -> str:
        done = subprocess.run([self.amtool, f"--alertmanager.url={self.url}", *args],
                              capture_output=True, text=True, timeout=30, check=False)
        if done.returncode != 0:
            raise AssertionError(f"amtool {' '.join(args)}: {done.returncode}\n{done.stderr}")
        return done.stdout

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
