"""The ``hostfacts`` source: ``ip -details -json link`` into ``host.network.interface``.

Real ``ip`` output in a namespace the test creates (skipped when ``ip netns`` is not
permitted, failed under ``CI=true``; skipped with the reason when the kernel cannot make
VLAN or bond devices, which no package installs), a captured real snapshot
(``data/PROVENANCE.md``), replay's sniffing and dead letters, and the live watcher.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.deadletter import DeadLetters
from adapters.hostfacts import HostFactsWatcher, events_from_bytes, interface_events
from adapters.hostfacts.iplink import mtime_time
from dreamcatcher.catalogue import shipped_catalogue
from dreamcatcher.inputs import events_from_path, events_from_stream, sniff, sniff_bytes
from dreamcatcher.resources import shipped_rules
from engine.engine import Engine
from engine.events import Event
from engine.loader import load_rules
from tests.conftest import unavailable
from tests.test_catalogue_truth import undeclared

DATA = Path(__file__).parent / "data"
CAPTURED = DATA / "ip-details-json-link.bridge-veth.json"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def fired(events: list[Event]) -> list[tuple[str, str | None]]:
    """``double-vlan-mtu`` (the shipped rule, loaded as ``run`` loads it) over ``events``."""
    rules = [r for r in load_rules(shipped_rules()) if r.rule == "double-vlan-mtu"]
    assert rules
    engine = Engine(rules)
    return [(f.rule, f.labels.get("interface")) for f in engine.process_many(events)]


# -- a real namespace -------------------------------------------------------

def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


@pytest.fixture()
def netns() -> Iterator[str]:
    """A network namespace of our own, removed afterwards whatever happened."""
    if shutil.which("ip") is None:
        unavailable("ip (iproute2) is not installed")
    name = f"dctest-{uuid.uuid4().hex[:8]}"
    made = _ip("netns", "add", name, check=False)
    if made.returncode != 0:
        unavailable(f"ip netns add is not permitted here (uid {os.getuid()}): "
                    f"{made.stderr.strip()}")
    try:
        yield name
    finally:
        _ip("netns", "del", name, check=False)


def _add(ns: str, *args: str) -> str | None:
    """``ip -n ns link add ...``; the error text when the kernel refuses it."""
    out = _ip("-n", ns, "link", "add", *args, check=False)
    return None if out.returncode == 0 else out.stderr.strip()


def _snapshot(ns: str) -> bytes:
    return _ip("-n", ns, "-details", "-json", "link").stdout.encode()


def test_real_vlans_in_a_namespace(netns: str) -> None:
    """A VLAN on a VLAN fires; a VLAN on a bond and a VLAN on a NIC do not."""
    errors = {what: _add(netns, *args) for what, args in (
        ("dummy", ("eth9", "type", "dummy")),
        ("bond", ("bond0", "type", "bond")),
    )}
    if errors["dummy"] is not None:  # a veth end is a plain NIC as well
        errors["dummy"] = _add(netns, "eth9", "type", "veth", "peer", "name", "eth9-peer")
    errors["vlan"] = errors["dummy"] or _add(netns, "link", "eth9", "name", "vlan100",
                                             "type", "vlan", "id", "100")
    missing = {k: v for k, v in errors.items() if v is not None}
    if missing:
        # a kernel built without 802.1Q or bonding (CONFIG_VLAN_8021Q, CONFIG_BONDING):
        # nothing a test script can install, so this skips even under CI
        pytest.skip(f"this kernel cannot create {', '.join(missing)} devices: {missing}")
    for args in (("link", "vlan100", "name", "vlan102", "type", "vlan", "id", "102"),
                 ("link", "bond0", "name", "bond0.200", "type", "vlan", "id", "200")):
        assert _add(netns, *args) is None
    events = events_from_bytes(_snapshot(netns), "ip", "compute-9", T0)[0]
    by_name = {e.data["name"]: e.data for e in events}
    assert by_name["vlan102"] == {"name": "vlan102", "link": "vlan100", "kind": "vlan",
                                  "link_kind": "vlan", "vlan_id": 102, "mtu": 1500}
    assert by_name["bond0.200"]["link_kind"] == "bond"
    assert by_name["vlan100"]["link_kind"] in ("dummy", "veth")  # a NIC-like parent
    assert fired(events) == [("double-vlan-mtu", "vlan102")]


def test_real_ip_output_of_this_machine(netns: str) -> None:
    """What this kernel can make (a bridge, a veth pair in it): read back, no firing."""
    assert _add(netns, "br100", "type", "bridge") is None
    assert _add(netns, "tap0", "type", "veth", "peer", "name", "tap0-peer") is None
    _ip("-n", netns, "link", "set", "tap0", "master", "br100")
    _ip("-n", netns, "link", "set", "tap0", "mtu", "1450")
    raw = _snapshot(netns)
    assert sniff_bytes(raw) == "hostfacts"
    events = events_from_bytes(raw, "ip", "compute-3", T0)[0]
    by_name = {e.data["name"]: e.data for e in events}
    assert set(by_name) == {"lo", "br100", "tap0", "tap0-peer"}
    assert by_name["tap0"] == {"name": "tap0", "link": "tap0-peer", "kind": "veth",
                               "link_kind": "veth", "vlan_id": None, "mtu": 1450}
    assert by_name["br100"]["kind"] == "bridge" and by_name["lo"]["kind"] is None
    assert all(e.host == "compute-3" and e.service == "facts" and e.time == T0 for e in events)
    assert fired(events) == []


# -- a captured snapshot and the documented VLAN shape --------------------------

def test_captured_snapshot() -> None:
    events = events_from_bytes(CAPTURED.read_bytes(), str(CAPTURED), "compute-1", T0)[0]
    catalogue = shipped_catalogue()  # what validate checks rules against: the events fit it
    assert [p for e in events for p in undeclared(e, catalogue)] == []
    assert [(e.data["name"], e.data["kind"], e.data["link"], e.data["link_kind"],
             e.data["mtu"]) for e in events] == [
        ("lo", None, None, None, 65536), ("br100", "bridge", None, None, 1450),
        ("tap0-peer", "veth", "tap0", "veth", 1500), ("tap0", "veth", "tap0-peer", "veth", 1450),
        ("ifb0", "ifb", None, None, 1500)]
    assert all(e.type == "host.network.interface" and e.origin == str(CAPTURED) for e in events)


def _dev(name: str, kind: str | None = None, link: str | None = None, vid: int | None = None,
         mtu: int = 1500) -> dict[str, Any]:
    """One device as iproute2 prints it: ``ifname``, ``link`` (the parent, ip/ipaddress.c
    prints it for IFLA_LINK), ``mtu``, and ``linkinfo.info_kind``/``info_data``; a VLAN's
    info_data is ``{"protocol", "id", "flags"}`` (ip/iplink_vlan.c, vlan_print_opt)."""
    dev: dict[str, Any] = {"ifindex": 1, "ifname": name, "mtu": mtu, "operstate": "UP"}
    if link is not None:
        dev["link"] = link
    if kind is not None:
        dev["linkinfo"] = {"info_kind": kind}
        if vid is not None:
            dev["linkinfo"]["info_data"] = {"protocol": "802.1Q", "id": vid,
                                            "flags": ["REORDER_HDR"]}
    return dev


VLAN_SHAPE = [_dev("eth0"), _dev("bond0", "bond"), _dev("vlan100", "vlan", "bond0", 100),
              _dev("vlan102", "vlan", "vlan100", 102), _dev("br102", "bridge"),
              _dev("eth0.300", "vlan", "eth0", 300), _dev("bond0.200", "vlan", "bond0", 200)]


def test_parent_kind_is_resolved_by_name_in_the_snapshot() -> None:
    events = interface_events(VLAN_SHAPE, "compute-6", T0, "x")
    kinds = {e.data["name"]: (e.data["kind"], e.data["link_kind"], e.data["vlan_id"])
             for e in events}
    assert kinds == {"eth0": (None, None, None), "bond0": ("bond", None, None),
                     "vlan100": ("vlan", "bond", 100), "vlan102": ("vlan", "vlan", 102),
                     "br102": ("bridge", None, None), "eth0.300": ("vlan", None, 300),
                     "bond0.200": ("vlan", "bond", 200)}
    assert fired(events) == [("double-vlan-mtu", "vlan102")]
    # names say nothing: a VLAN named like a NIC, on a VLAN, is still the incident
    renamed = [_dev("eth1", "vlan", "uplink", 5), _dev("uplink", "vlan", "eth0", 4), _dev("eth0")]
    assert fired(interface_events(renamed, "h", T0, "x")) == [("double-vlan-mtu", "eth1")]


def test_ids_are_stable_for_identical_content() -> None:
    a = interface_events(VLAN_SHAPE, "compute-6", T0, "x")
    b = interface_events(VLAN_SHAPE, "compute-6", datetime(2026, 3, 3, tzinfo=UTC), "y")
    assert [e.id for e in a] == [e.id for e in b]
    assert len({e.id for e in a}) == len(a)
    changed = [dict(d, mtu=9000) if d["ifname"] == "vlan102" else d for d in VLAN_SHAPE]
    c = {e.data["name"]: e.id for e in interface_events(changed, "compute-6", T0, "x")}
    assert c["vlan102"] != a[3].id and c["vlan100"] == a[2].id
    other = interface_events(VLAN_SHAPE, "compute-7", T0, "x")
    assert not {e.id for e in other} & {e.id for e in a}


# -- replay: sniffing, routing, dead letters ------------------------------------

def _recording(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "hostfacts.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    return path


def _line(host: str, devices: list[dict[str, Any]], at: str = "2026-03-02T08:00:00+00:00") -> str:
    return json.dumps({"host": host, "time": at, "ip_link": devices})


def test_replay_reads_both_forms(tmp_path: Path) -> None:
    raw = tmp_path / "compute-1.ip-link.json"
    raw.write_bytes(CAPTURED.read_bytes())
    rec = _recording(tmp_path, [_line("compute-1", VLAN_SHAPE[:3]),
                                _line("compute-6", VLAN_SHAPE, "2026-03-02T09:00:00Z")])
    assert sniff(raw) == "hostfacts" and sniff(rec) == "hostfacts"
    pretty = tmp_path / "pretty.json"  # ip -p -j: the array spread over lines
    pretty.write_text(json.dumps(json.loads(CAPTURED.read_text()), indent=4))
    assert sniff(pretty) == "hostfacts"
    dead = DeadLetters(None)
    first = list(events_from_path(raw, dead))
    assert len(first) == 5 and first[0].time == datetime.fromtimestamp(raw.stat().st_mtime, UTC)
    events = list(events_from_path(rec, dead))
    assert [(e.host, e.data["name"]) for e in events][:3] == \
        [("compute-1", "eth0"), ("compute-1", "bond0"), ("compute-1", "vlan100")]
    assert events[-1].time == datetime(2026, 3, 2, 9, tzinfo=UTC) and dead.total == 0
    assert fired(events) == [("double-vlan-mtu", "vlan102")]


def test_a_streamed_recording_is_read_line_by_line(tmp_path: Path) -> None:
    rec = _recording(tmp_path, [_line("compute-6", VLAN_SHAPE), '{"host": "c", "ip_link": []}',
                                json.dumps(VLAN_SHAPE[:1])])  # `ip -json` prints one line
    dead = DeadLetters(None)
    events = list(events_from_stream(rec, dead))
    assert [e.host for e in events] == ["compute-6"] * len(VLAN_SHAPE) + [None]
    assert dead.total == 1 and dead.kept[0]["origin"] == f"{rec}:2"
    assert fired(events) == [("double-vlan-mtu", "vlan102")]


def test_our_own_events_are_not_taken_for_host_facts(tmp_path: Path) -> None:
    ours = tmp_path / "events.jsonl"
    ours.write_text('{"id": "1", "type": "x", "time": "2026-03-02T08:00:00Z"}\n')
    assert sniff(ours) == "events"
    assert sniff_bytes(b'[{"id": "1", "type": "x", "time": "2026-03-02T08:00:00Z"}]') == "events"


@pytest.mark.parametrize(("line", "reason"), [
    ('{"host": "c1", "time": "2026-03-02T08:00:00Z", "ip_link": {"ifname": "x"}}',
     "must be a JSON array"),
    ('{"host": "c1", "ip_link": []}', "snapshot without time"),
    ('{"host": "c1", "time": "yesterday", "ip_link": []}', "not ISO 8601"),
    ('{"host": "", "time": "2026-03-02T08:00:00Z", "ip_link": []}', "'host' must be"),
    ('{"host": "c1", "time": "2026-03-02T08:00:00Z", "ip_link": [{"mtu": 1}]}',
     "device 0: not an object with an 'ifname'"),
    ('{"host": "c1", "time": "2026-03-02T08:00:00Z", "ip_link": [', "not JSON"),
])
def test_a_malformed_snapshot_goes_to_the_dead_letters(tmp_path: Path, line: str,
                                                       reason: str) -> None:
    rec = _recording(tmp_path, [_line("compute-1", VLAN_SHAPE[:2]), line,
                                _line("compute-2", VLAN_SHAPE[:1])])
    dead = DeadLetters(None)
    events = list(events_from_path(rec, dead))
    assert [e.host for e in events] == ["compute-1", "compute-1", "compute-2"]
    assert dead.total == 1
    kept = dead.kept[0]
    assert kept["origin"] == f"{rec}:2" and reason in kept["reason"] and kept["raw"].strip() == line


def test_a_broken_ip_output_file_is_dead_lettered_whole(tmp_path: Path) -> None:
    bad = tmp_path / "ip.json"
    bad.write_text('[{"ifname": "lo", "mtu": 65536}, {"ifname": ')
    dead = DeadLetters(None)
    assert list(events_from_path(bad, dead, "hostfacts")) == []
    assert dead.total == 1 and "not JSON" in dead.kept[0]["reason"]


# -- live: the watcher ---------------------------------------------------------

def _touch_later(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_watcher_delivers_changes_and_redelivers_unchanged_ids(tmp_path: Path) -> None:
    path = tmp_path / "ip-link.json"
    path.write_text(json.dumps(VLAN_SHAPE))
    got: list[Event] = []
    dead = DeadLetters(None)
    watcher = HostFactsWatcher(path, got.append, host="compute-6", poll_interval=0.05,
                               dead_letters=dead)
    assert watcher.poll() == len(VLAN_SHAPE)
    assert watcher.poll() == 0  # unchanged: not read again
    _touch_later(path)  # rewritten with the same content
    assert watcher.poll() == len(VLAN_SHAPE)
    assert [e.id for e in got[:7]] == [e.id for e in got[7:]]
    assert fired(got) == [("double-vlan-mtu", "vlan102")]  # the re-read fired nothing more
    assert got[7].time == mtime_time(path.stat().st_mtime_ns) != got[0].time
    # a half-written file is retried, not dead-lettered; completed, it is read
    full = json.dumps(VLAN_SHAPE[:2])
    path.write_text(full[:20])
    assert watcher.poll() == 0 and dead.total == 0
    path.write_text(full)
    _touch_later(path)
    assert watcher.poll() == 2 and dead.total == 0
    # still malformed when nothing changed any more: dead-lettered once, with the reason
    path.write_text("[{]")
    assert watcher.poll() == 0 and dead.total == 0
    assert watcher.poll() == 0 and dead.total == 1 and "not JSON" in dead.kept[0]["reason"]
    assert watcher.poll() == 0 and dead.total == 1


def test_watcher_thread_follows_a_recording(tmp_path: Path) -> None:
    path = _recording(tmp_path, [_line("compute-1", VLAN_SHAPE[:2])])
    got: list[Event] = []
    with HostFactsWatcher(path, got.append, poll_interval=0.02):
        deadline = time.monotonic() + 5
        while len(got) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        with path.open("a") as fh:
            fh.write(_line("compute-6", VLAN_SHAPE) + "\n")
        while len(got) < 2 + 2 + len(VLAN_SHAPE) and time.monotonic() < deadline:
            time.sleep(0.01)
    # each line read once: the first line is not delivered again when the second comes
    assert [e.host for e in got] == ["compute-1"] * 2 + ["compute-6"] * len(VLAN_SHAPE)
    assert fired(got) == [("double-vlan-mtu", "vlan102")]


def test_watcher_reads_a_recording_by_offset(tmp_path: Path) -> None:
    path = _recording(tmp_path, [_line("compute-1", VLAN_SHAPE[:2])])
    got: list[Event] = []
    dead = DeadLetters(None)
    watcher = HostFactsWatcher(path, got.append, dead_letters=dead)
    assert watcher.poll() == 2
    with path.open("a") as fh:
        fh.write('{"host": "c2", "time": "then", "ip_link": []}\n')
        fh.write(_line("compute-2", VLAN_SHAPE[:1]))
    assert watcher.poll() == 0 and dead.total == 1  # the cut last line waits for its newline
    assert dead.kept[0]["origin"] == f"{path}:2" and "not ISO 8601" in dead.kept[0]["reason"]
    with path.open("a") as fh:
        fh.write("\n")
    assert watcher.poll() == 1 and got[-1].host == "compute-2"
    replaced = tmp_path / "new.jsonl"
    replaced.write_text(_line("compute-3", VLAN_SHAPE[:1]) + "\n")
    os.replace(replaced, path)  # rotated: a new file is read from its start
    assert watcher.poll() == 1 and got[-1].host == "compute-3" and dead.total == 1
