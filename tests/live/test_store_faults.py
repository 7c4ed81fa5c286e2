"""The live worker on Redis state under kill -9 and a Redis outage.

A due absence is claimed, fired, journalled and committed in that order, the
claim final only in the commit (``RedisStore`` transactions): ``kill -9`` while
hundreds of absences fire loses none and repeats none, and a Redis that goes
away for three seconds delays the due absences until it is back, then they
fire, while ``/readyz`` says why the worker is not ready and ``/metrics``
counts the failed calls. The outage is a TCP proxy cut between the worker and
the machine's Redis, so the shared Redis itself is never stopped.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.state import RedisStore
from tests.live.proc import WorkerProcess, free_port, jsonl, wait_for, write_config

RULE = """\
rule: no-release
severity: warning
when:
  expect:
    first: {event: dnsmasq.dhcp.ack}
    then: {event: dnsmasq.dhcp.release}
    within: %s
    by: [mac]
alert:
  title: "no release of {{ event.mac }}"
  group_by: [event.mac]
"""


def _ack(n: int, at: datetime) -> str:
    mac = f"fa:16:3e:{(n >> 16) & 255:02x}:{(n >> 8) & 255:02x}:{n & 255:02x}"
    return (f"{at:%b} {at.day:2d} {at:%H:%M:%S} net-1 dnsmasq-dhcp[2438]: "
            f"DHCPACK(tap0) 10.0.{(n >> 8) & 255}.{n & 255} {mac} host-{n}")


def _config(tmp: Path, within: str, state: dict[str, Any], **extra: Any) -> Path:
    (tmp / "rules").mkdir(exist_ok=True)
    (tmp / "rules" / "no-release.yaml").write_text(RULE % within)
    return write_config(tmp / "deploy.yaml", {
        "sources": {"files": [{"path": str(tmp / "dnsmasq.log"), "kind": "dnsmasq"}],
                    "offsets": str(tmp / "offsets.json")},
        "rules": [str(tmp / "rules")],
        "state": state,
        "outbox": {"path": str(tmp / "outbox.jsonl")},
        "alerting": {"sinks": [{"type": "jsonl", "url": str(tmp / "alerts.jsonl")}],
                     "dead_letter_path": str(tmp / "alerts.dead.jsonl"),
                     # every absence is its own notice here, not folded into a storm one
                     "storm": {"enabled": False}},
        **extra,
    })


def _append(path: Path, lines: list[str]) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write("".join(line + "\n" for line in lines))


@pytest.fixture
def state_prefix(redis_url: str) -> Iterator[str]:
    prefix = f"dctest:{uuid.uuid4().hex}:"
    yield prefix
    store = RedisStore.from_url(redis_url, prefix)
    store.clear()
    store.close()


def test_kill_9_while_absences_fire_loses_and_repeats_none(
        tmp_path: Path, redis_url: str, state_prefix: str) -> None:
    """Ten rounds: 300 expectations opened, then one line far later makes them all
    due, and the worker is killed at a random moment while they fire. A clean
    run at the end: every absence exactly once at the sink."""
    config = _config(tmp_path, "1m", {"url": redis_url, "prefix": state_prefix},
                     clock={"mode": "event"})
    log, sink = tmp_path / "dnsmasq.log", tmp_path / "alerts.jsonl"
    outbox = tmp_path / "outbox.jsonl"
    rng = random.Random(19)
    rounds, per_round = 10, 300
    killed_with = []
    for r in range(rounds):
        start = datetime(2026, 3, 2, 1 + r, 0, 0)
        with WorkerProcess("--config", str(config), log=tmp_path / "worker.log") as worker:
            worker.wait_running()
            _append(log, [_ack(r * per_round + i, start.replace(second=i % 60))
                          for i in range(per_round)])
            journal = outbox.stat().st_size if outbox.exists() else 0
            # far later: its time makes every one of this round's expectations due
            _append(log, [_ack(10_000_000 + r, start.replace(minute=30))])
            if r % 2:  # once the firings are being journalled: between claim and commit
                wait_for(lambda j=journal: outbox.exists()  # type: ignore[misc]
                         and outbox.stat().st_size > j, 30, "the firings journalled")
                time.sleep(rng.uniform(0.0, 0.03))
            else:  # anywhere from reading the line to delivering the alerts
                time.sleep(rng.uniform(0.0, 0.5))
            worker.kill()
        killed_with.append(len(jsonl(sink)))
    with WorkerProcess("--config", str(config), log=tmp_path / "worker.log") as worker:
        worker.wait_running()
        # one more line, later still, so the last round's "clock" ack is due too
        _append(log, [_ack(20_000_000, datetime(2026, 3, 2, 23, 0, 0))])
        wait_for(lambda: len(jsonl(sink)) >= rounds * per_round + rounds, 120,
                 "every absence at the sink")
        time.sleep(1.0)  # a repeat would show now
        assert worker.terminate() == 0, worker.stderr()
    titles = [r["firing"]["title"] for r in jsonl(sink)]
    assert len(titles) == len(set(titles)), f"{len(titles) - len(set(titles))} repeated"
    assert len(titles) == rounds * per_round + rounds, killed_with
    # some kills landed before a round's alerts had all reached the sink
    assert any(n < (r + 1) * per_round for r, n in enumerate(killed_with)), killed_with


class _Proxy:
    """A TCP proxy to Redis whose link can be cut (connections reset, new ones refused)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.close()

    def cut(self) -> None:
        self.up.clear()
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_a_redis_outage_delays_due_absences_until_it_is_back(
        tmp_path: Path, redis_url: str, state_prefix: str) -> None:
    proxy = _Proxy(("127.0.0.1", 6379))
    port = free_port()
    db = redis_url.rsplit("/", 1)[1]
    config = _config(tmp_path, "6s", {"url": f"redis://127.0.0.1:{proxy.port}/{db}",
                                      "prefix": state_prefix},
                     clock={"mode": "wall", "tick": "0.2s"},
                     http={"bind": "127.0.0.1", "port": port})
    sink = tmp_path / "alerts.jsonl"
    try:
        with WorkerProcess("--config", str(config), log=tmp_path / "worker.log") as worker:
            worker.wait_running()
            now = datetime.now()
            _append(tmp_path / "dnsmasq.log", [_ack(i, now) for i in range(100)])
            time.sleep(2.0)  # read and stored; due about 6 s after `now`
            assert jsonl(sink) == []
            proxy.cut()
            time.sleep(3.0)
            status, body = _get(f"http://127.0.0.1:{port}/readyz")
            assert status == 503 and "state store" in body, body
            time.sleep(2.0)  # the absences are due now, Redis is still away
            proxy.restore()
            back = time.monotonic()
            wait_for(lambda: len(jsonl(sink)) >= 100, 15, "the 100 due absences")
            assert time.monotonic() - back < 8.0
            status, _ = _get(f"http://127.0.0.1:{port}/readyz")
            assert status == 200
            metrics = _get(f"http://127.0.0.1:{port}/metrics")[1]
            errors = [line for line in metrics.splitlines()
                      if line.startswith("dreamcatcher_store_errors_total")]
            assert errors and sum(float(x.rsplit(" ", 1)[1]) for x in errors) > 0, errors
            assert worker.terminate() == 0, worker.stderr()
        titles = [r["firing"]["title"] for r in jsonl(sink)]
        assert len(titles) == len(set(titles)) == 100
    finally:
        proxy.close()
