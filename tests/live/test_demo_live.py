"""The demo's day through the live path: the same nine alerts as ``dreamcatcher demo``.

One ``dreamcatcher run`` with an ``amqp``, a ``syslog`` (TCP and UDP), a
``files`` and a ``hostfacts`` source. The day's inputs go in in event-time
order, each the way its real producer delivers it: notifications published
by oslo.messaging's Notifier (nova on ``nova``, neutron on ``neutron``,
cinder on oslo.messaging's default exchange ``openstack``), the compute hosts'
nova-compute lines by util-linux ``logger`` from a UTS namespace with the
host's name, dnsmasq's and the switch's lines by Python's ``SysLogHandler``,
the API services' lines appended to followed files, the host facts written
as snapshots. The clock is event time, so the result does not depend on the
machine's speed; the pacing only keeps channels with different latencies in
order within the lateness.
"""

from __future__ import annotations

import logging
import logging.handlers
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from demo.sources import SOURCES, SyslogLine, demo_timeline
from tests.conftest import require_tool
from tests.live.proc import WorkerProcess, free_port, jsonl, wait_for, write_config
from tests.paths import REPO

EXPECTED = REPO / "tests" / "pack" / "demo-bad-day.alerts.json"
#: event seconds per real second while items come close together
SPEEDUP = 500.0
#: the longest real pause between two items (a quiet hour passes in this)
MAX_PAUSE = 0.2
LATENESS = "60s"  # > SPEEDUP x the slowest channel's latency (file polls: 0.05 s)


class _Publishers:
    """One real Notifier per (exchange, publisher id), as each service has its own."""

    def __init__(self, url: str) -> None:
        from tests.amqp.support import notifier

        self._url = url
        self._make = notifier
        self._cache: dict[tuple[str, str], Any] = {}

    def publish(self, note: dict[str, Any]) -> None:
        from oslo_utils import timeutils

        publisher = note["publisher_id"]
        service = publisher.split(".", 1)[0]
        exchange = {"compute": "nova", "network": "neutron"}.get(service)  # cinder: default
        key = (exchange or "openstack", publisher)
        if key not in self._cache:
            self._cache[key] = self._make(self._url, exchange, publisher=publisher)
        ctxt = {k.removeprefix("_context_"): v for k, v in note.items()
                if k.startswith("_context_")}
        stamp = datetime.fromisoformat(note["timestamp"])
        timeutils.set_time_override(stamp)  # the Notifier stamps with timeutils.utcnow()
        try:
            getattr(self._cache[key], note["priority"].lower())(
                ctxt, note["event_type"], note["payload"])
        finally:
            timeutils.clear_time_override()


class _Syslog:
    """The day's syslog senders: ``logger`` for nova-compute (from a UTS namespace named
    after the compute host), ``SysLogHandler`` over TCP for dnsmasq, over UDP for the
    switch; each line with its own header, as the hosts' rsyslog would send it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.logger = require_tool("logger")
        self.unshare = require_tool("unshare")
        self.tcp = logging.handlers.SysLogHandler(("127.0.0.1", port), socktype=socket.SOCK_STREAM)
        self.udp = logging.handlers.SysLogHandler(("127.0.0.1", port))
        for handler in (self.tcp, self.udp):
            handler.setFormatter(logging.Formatter("%(message)s"))

    def send(self, line: SyslogLine) -> None:
        if line.program == "nova-compute":
            subprocess.run(
                [self.unshare, "--uts", "sh", "-c", 'hostname "$0" && exec "$@"',
                 line.host, self.logger, "--server", "127.0.0.1", "--port", str(self.port),
                 "--tcp", "--rfc5424", "-t", line.program, f"--id={line.pid}", "--",
                 line.message], check=True, timeout=10)
            return
        handler = self.udp if line.program is None else self.tcp
        record = logging.LogRecord("demo", logging.INFO, __file__, 0, line.line, None, None)
        handler.emit(record)

    def close(self) -> None:
        self.tcp.close()
        self.udp.close()


def _paced(day: str) -> Iterator[tuple[str, Any]]:
    previous: datetime | None = None
    for at, channel, payload in demo_timeline(day):
        if previous is not None:
            time.sleep(min((at - previous).total_seconds() / SPEEDUP, MAX_PAUSE))
        previous = at
        yield channel, payload


def _run_day(day: str, tmp: Path, vhost_url: str, *, sinks: list[dict[str, Any]] | None = None,
             before_stop: Callable[[], None] | None = None,
             ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The day through a worker; ``sinks`` beside the JSON-lines one, ``before_stop``
    called once everything is processed, while the worker still runs."""
    from tests.amqp.support import oslo_url

    port, http_port = free_port(), free_port()
    followed = {s.file: tmp / s.file for s in SOURCES if s.channel == "file"}
    for path in followed.values():
        path.write_text("")
    hostfacts = tmp / "host-facts.jsonl"
    hostfacts.write_text("")
    sink = tmp / "alerts.jsonl"
    config = write_config(tmp / "deploy.yaml", {
        "sources": {
            "amqp": {"transport_url": oslo_url(vhost_url)},
            "syslog": [{"bind": "127.0.0.1", "port": port}],
            "files": [{"path": str(followed[s.file]), "kind": s.kind}
                      for s in SOURCES if s.channel == "file"],
            "hostfacts": [{"path": str(hostfacts)}],
            "poll_interval": "50ms",
        },
        "clock": {"mode": "event", "lateness": LATENESS},
        "http": {"bind": "127.0.0.1", "port": http_port},
        "alerting": {"sinks": [{"type": "jsonl", "url": str(sink)}, *(sinks or [])]},
    })
    metrics_url = f"http://127.0.0.1:{http_port}"
    publishers = _Publishers(vhost_url)
    with WorkerProcess("--config", str(config), log=tmp / "worker.log") as worker:
        worker.wait_running()
        wait_for(lambda: _ready(metrics_url), 30, "the worker to be ready")
        syslog = _Syslog(port)
        try:
            for channel, payload in _paced(day):
                if channel == "amqp":
                    publishers.publish(payload)
                elif channel == "syslog":
                    syslog.send(payload)
                elif channel == "hostfacts":
                    with hostfacts.open("ab") as fh:
                        fh.write(orjson.dumps(payload) + b"\n")
                else:
                    with followed[channel.removeprefix("file:")].open("a") as fh:
                        fh.write(payload + "\n")
        finally:
            syslog.close()
        expected = 9 if day == "bad-day" else 0
        wait_for(lambda: len(jsonl(sink)) >= expected and _quiet(metrics_url), 60,
                 "the worker to process everything")
        metrics = _metrics(metrics_url)
        if before_stop is not None:
            before_stop()
        assert worker.terminate() == 0, worker.stderr()
    return jsonl(sink), metrics


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


_last_events: list[float] = []


def _quiet(url: str) -> bool:
    """No event came in since the last look (one second ago) and the queue is empty."""
    figures = _metrics(url)
    total = sum(figures["events"].values())
    busy = not _last_events or _last_events[-1] != total or figures["queue_depth"] > 0
    _last_events.append(total)
    if busy:
        time.sleep(1.0)
    return not busy


def _metrics(url: str) -> dict[str, Any]:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    out: dict[str, Any] = {"events": {}, "firings": {}, "queue_depth": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "dreamcatcher_events_total":
                key = (sample.labels["source"], sample.labels["type"])
                out["events"][key] = sample.value
            elif sample.name == "dreamcatcher_firings_total":
                out["firings"][sample.labels["rule"]] = sample.value
            elif sample.name == "dreamcatcher_queue_depth":
                out["queue_depth"] += sample.value
    return out


@pytest.mark.rabbitmq
def test_the_bad_day_live_gives_the_nine_alerts_of_the_demo(
    tmp_path: Path, vhost_url: str
) -> None:
    _last_events.clear()
    alerts, metrics = _run_day("bad-day", tmp_path, vhost_url)
    got = sorted((a["firing"]["rule"], a["firing"]["time"], a["firing"]["title"])
                 for a in alerts)
    want = sorted((a["rule"], a["time"], a["title"])
                  for a in orjson.loads(EXPECTED.read_bytes()))
    assert got == want
    # /metrics agrees with the sink, and every kind of source fed the engine
    assert metrics["firings"] == {rule: float(sum(1 for a in alerts if a["firing"]["rule"] == rule))
                                  for rule in {a["firing"]["rule"] for a in alerts}}
    kinds = {source.split(":")[0] for source, _ in metrics["events"]}
    assert {"amqp", "syslog", "file", "hostfacts"} <= kinds


@pytest.mark.rabbitmq
def test_the_quiet_day_live_gives_none(tmp_path: Path, vhost_url: str) -> None:
    _last_events.clear()
    alerts, metrics = _run_day("quiet-day", tmp_path, vhost_url)
    assert alerts == []
    assert sum(metrics["events"].values()) > 1000
