"""Parser API, routing, and the wordings the corpus lacks (built from the projects' format strings).

Lines marked "format string" are not real captured lines: SOURCES.md records
that no public sample was found; they are built from nova's / cinder's /
dhclient's message templates so that the wording is still recognised.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.deadletter import DeadLetters
from adapters.logs import UnparsedStats, kind_for_origin, parse_lines
from adapters.logs.base import IGNORED, Parser
from adapters.logs.router import PARSERS
from engine.events import log_event_id

SHA = "a489c868f0c37da93b76227c91bb03908ac0e742"
CTX = "[req-addc1839-2ed5-4778-b57e-5854eb7b8b09 - - - - -]"


@pytest.mark.parametrize(("name", "kind"), [
    ("/var/log/nova/nova-api.log", "nova-api"),
    ("devstack@n-api.service", "nova-api"),
    ("/var/log/nova/nova-compute.log.1", "nova-compute"),
    ("cinder-api", "cinder-api"),
    ("/var/log/cinder/cinder-volume.log", "cinder-volume"),
    ("dnsmasq-dhcp", "dnsmasq"),
    ("dhclient", "dhclient"),
    ("haproxy", "haproxy"),
    ("/var/log/rabbitmq/rabbit@ctl001.log", "rabbitmq"),
    ("Stp", "switch"),
    ("eswd", "switch"),
    ("syslog:10.0.0.1", "syslog"),
    ("/var/log/syslog", "syslog"),
    ("sshd", None),
])
def test_router(name: str, kind: str | None) -> None:
    assert kind_for_origin(name) == kind


def test_config_routes_win() -> None:
    assert kind_for_origin("/srv/logs/tor1.log", {"/srv/logs/tor*": "switch"}) == "switch"


@pytest.mark.parametrize(("wording", "size"), [
    ("Removing base file", None), ("Removing base or swap file", 20),
    ("Removing base, swap or ephemeral file", 10),
])
def test_three_removal_wordings(wording: str, size: int | None) -> None:
    suffix = f"_{size}" if size else ""
    line = (f"2021-03-01 10:00:00.000 7 INFO nova.virt.libvirt.imagecache {CTX} "
            f"{wording}: /var/lib/nova/instances/_base/{SHA}{suffix}")  # format string
    (event,) = parse_lines([line], "n-cpu.log", "nova-compute")
    assert event.type == "nova.imagecache.base_file_removed"
    assert event.image_base_hash == SHA and event.data["size_gb"] == size


@pytest.mark.parametrize("wording", ["Base file", "Base or swap file",
                                     "Base, swap or ephemeral file"])
def test_too_young_wordings(wording: str) -> None:
    line = (f"2021-03-01 10:00:00.000 7 INFO nova.virt.libvirt.imagecache {CTX} "
            f"{wording} too young to remove: /var/lib/nova/instances/_base/{SHA}")
    (event,) = parse_lines([line], "x", "nova-compute")
    assert event.type == "nova.imagecache.base_file_too_young"


def test_block_device_setup_failed() -> None:
    line = ("2018-01-02 23:03:13.600 983 ERROR nova.compute.manager [req-1b2c3d4e-0000-4000-8000-"
            "000000000001 u p - - -] [instance: fc5e4c94-ff40-440d-b55a-289344a6905f] Instance "
            "failed block device setup: VolumeNotCreated: Volume x did not finish")  # format string
    (event,) = parse_lines([line], "x", "nova-compute")
    assert event.type == "nova.compute.block_device_setup_failed"
    assert event.instance_id == "fc5e4c94-ff40-440d-b55a-289344a6905f"


def test_cinder_created_and_not_found() -> None:
    ctx = ("[req-df272413-5111-4019-9c25-9936ee0952d3 req-791b332c-d3c0-4c52-a96e-37e0ad698497 "
           "c4492905e2024721880f8d4b3722c30e 2767ef0256804b92ae0e51e3a99f809a - - - -]")
    api = f"2024-04-08 09:51:28.200 33 INFO cinder.volume.api {ctx} Volume created successfully."
    vol = (f"2024-04-08 09:51:29.000 737 ERROR cinder.volume.manager {ctx} "
           "Volume 9e9627d7-7990-432a-a271-978a9e5da750 could not be found.")  # format string
    (created,) = parse_lines([api], "cinder-api.log")
    (missing,) = parse_lines([vol], "cinder-volume.log")
    assert created.type == "cinder.api.volume_created"
    assert missing.type == "cinder.volume.volume_not_found"
    assert missing.volume_id == "9e9627d7-7990-432a-a271-978a9e5da750"
    assert created.request_id == missing.request_id == "req-791b332c-d3c0-4c52-a96e-37e0ad698497"
    assert created.global_request_id == "req-df272413-5111-4019-9c25-9936ee0952d3"


def test_dhclient_renewal_wordings() -> None:
    lines = [  # dhclient's format strings, journald-wrapped like the corpus file
        "Oct 03 13:40:20.1 guest dhclient[515]: DHCPREQUEST for 10.0.0.5 on eth0 to 10.0.0.1"
        " port 67",
        "Oct 03 13:40:20.2 guest dhclient[515]: DHCPNAK from 10.0.0.1",
        "Oct 03 13:40:20.3 guest dhclient[515]: No DHCPOFFERS received.",
    ]
    events = list(parse_lines(lines, "dhclient.log", year=2020))
    assert [e.type for e in events] == ["dhclient.dhcp.request", "dhclient.dhcp.nak",
                                        "dhclient.dhcp.no_offers"]
    assert events[0].data["interface"] == "eth0" and events[0].data["server"] == "10.0.0.1"


def test_syslog_kind_routes_by_program(corpus: Path) -> None:
    logs = corpus / "logs"
    mixed = (logs / "dnsmasq-dhcp.log").read_text().splitlines()[:2] + \
        (logs / "switch-bpduguard-arista-eos.log").read_text().splitlines()[:2] + \
        (logs / "haproxy.log").read_text().splitlines()[:1]
    events = list(parse_lines(mixed, "/var/log/syslog", year=2020))
    assert [e.type for e in events] == ["dnsmasq.dhcp.discover", "dnsmasq.dhcp.offer",
                                        "switch.stp.bpdu_guard", "switch.errdisable",
                                        "haproxy.request"]


def test_ids_times_and_positions(corpus: Path) -> None:
    lines = (corpus / "logs" / "switch-bpduguard-arista-eos.log").read_text().splitlines()
    events = list(parse_lines(lines[:1] * 2, "sw.log", "switch", year=2019, start_position=10))
    assert [e.id for e in events] == [log_event_id("sw.log", 10), log_event_id("sw.log", 11)]
    assert events[0].time == datetime(2019, 2, 15, 1, 40, 18, tzinfo=UTC)
    when = datetime(2024, 1, 1, tzinfo=UTC)
    line = "memory resource limit alarm set on node 'rabbit@r1'."
    (e,) = parse_lines([line], "rabbit.log", "rabbitmq", default_time=when)
    assert e.time == when and e.host == "rabbit@r1"


def test_unparsed_lines_are_counted_and_sampled() -> None:
    stats = UnparsedStats(sample_size=2)
    lines = ["garbage one", "garbage two", "garbage three", "\x00\xff binary"]
    assert list(parse_lines(lines, "haproxy.log", stats=stats)) == []
    assert stats.unparsed["haproxy.log"] == 4
    assert stats.sample() == ["garbage three", "\x00\xff binary"]


def test_a_parser_bug_dead_letters_the_line_and_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def broken(self: Parser, head: object, raw: str, position: object) -> object:
        calls.append(raw)
        if raw == "boom":
            raise ValueError("bug")
        return IGNORED

    monkeypatch.setattr(PARSERS["haproxy"], "parse", broken)
    dead = DeadLetters(None)
    stats = UnparsedStats()
    assert list(parse_lines(["a", "boom", "b"], "h", "haproxy", stats=stats,
                            dead_letters=dead)) == []
    assert calls == ["a", "boom", "b"]
    assert dead.total == 1 and "bug" in dead.kept[0]["reason"]
    assert stats.ignored["h"] == 2 and stats.unparsed["h"] == 1


def test_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown log kind"):
        list(parse_lines(["x"], "o", "nosuch"))
