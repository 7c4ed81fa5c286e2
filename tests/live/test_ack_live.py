"""``POST /ack`` on a running worker: the acked group's repeat never arrives, another
group's does, and the acked group's resolve still does."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson

from tests.live.proc import WorkerProcess, free_port, jsonl, wait_for, write_config

RULE = """\
rule: lease-seen
severity: warning
when: {event: dnsmasq.dhcp.ack}
alert:
  title: "lease {{ event.mac }}"
  group_by: [event.mac]
  repeat: 2s
resolve: {event: dnsmasq.dhcp.release}
"""
ACKED, OTHER = "fa:16:3e:00:00:01", "fa:16:3e:00:00:02"


def line(verb: str, mac: str) -> str:
    """A dnsmasq line stamped now: acks are on the wall clock, events live near it."""
    stamp = datetime.now(UTC).isoformat(timespec="microseconds")
    tail = " host" if verb == "ACK" else ""
    return f"{stamp} net-1 dnsmasq-dhcp[1]: DHCP{verb}(tap1) 10.0.0.9 {mac}{tail}\n"


def kinds(sink: Path) -> list[tuple[str, str]]:
    return [(n["kind"], n["firing"]["labels"]["mac"]) for n in jsonl(sink)]


def test_post_ack_stops_repeats_of_that_group_on_a_live_worker(tmp_path: Path) -> None:
    (tmp_path / "lease.yaml").write_text(RULE)
    log_file = tmp_path / "dnsmasq.log"
    log_file.write_text("")
    sink, silences = tmp_path / "alerts.jsonl", tmp_path / "silences.json"
    port = free_port()
    config = write_config(tmp_path / "deploy.yaml", {
        "sources": {"files": [{"path": str(log_file), "kind": "syslog"}]},
        "rules": [str(tmp_path / "lease.yaml")],
        "clock": {"mode": "event"},
        "http": {"port": port},
        "alerting": {"sinks": [{"type": "jsonl", "url": str(sink)}],
                     "silences_path": str(silences)},
    })

    def feed(*lines: str) -> None:
        with log_file.open("a") as fh:
            fh.write("".join(lines))

    with WorkerProcess("--config", str(config), log=tmp_path / "worker.log") as worker:
        worker.wait_running()
        feed(line("ACK", ACKED), line("ACK", OTHER))
        wait_for(lambda: len(jsonl(sink)) >= 2, 30, "the two first notices")
        reply = httpx.post(f"http://127.0.0.1:{port}/ack", timeout=10,
                           json={"group": f"lease-seen|{ACKED}", "for": "1h", "by": "ops"})
        assert reply.status_code == 201, reply.text
        time.sleep(2.5)  # past the 2s repeat interval, by the lines' own clock
        feed(line("ACK", ACKED), line("ACK", OTHER))
        wait_for(lambda: ("repeat", OTHER) in kinds(sink), 30, "the other group's repeat")
        feed(line("RELEASE", ACKED))
        wait_for(lambda: ("resolved", ACKED) in kinds(sink), 30, "the acked group's resolve")
        assert worker.terminate() == 0, worker.stderr()
    assert kinds(sink) == [("firing", ACKED), ("firing", OTHER), ("repeat", OTHER),
                           ("resolved", ACKED)]
    [ack] = orjson.loads(silences.read_bytes())
    assert (ack["kind"], ack["created_by"]) == ("ack", "ops via http")
    assert "alert group acknowledged" in worker.stderr()
