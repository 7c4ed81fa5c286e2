"""The demo days as raw inputs: each log record parses to the event the generator meant,
the manifest covers every file, and the timeline merges them the way a live test sends them."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

import adapters.logs as logs
from adapters.logs.header import split_header
from demo import generate
from demo.sources import (
    HOSTFACTS,
    SOURCES,
    SyslogLine,
    demo_timeline,
)
from dreamcatcher.resources import demo_day
from engine.events import Event
from tests.paths import REPO

DAYS = [name for name, _ in generate.DAYS]
BAD = dict(generate.DAYS)
#: the types nova-compute's exception records give
EXCEPTION_TYPES = {"nova.compute.block_device_setup_failed", "nova.compute.volume_not_created"}

def folder(day: str) -> Path:
    return REPO / "demo" / day


def parsed(day: str) -> list[Event]:
    out: list[Event] = []
    for source in SOURCES:
        if source.file.endswith(".log"):
            out.extend(logs.events_from_file(folder(day) / source.file))
    return out


def matches(event: Event, want: dict[str, Any]) -> bool:
    for key, value in want.items():
        if key == "data":
            if any(event.data.get(k) != v for k, v in value.items()):
                return False
        elif key == "time":
            if event.time != datetime.fromisoformat(value):
                return False
        elif getattr(event, key) != value:
            return False
    return True


def unmatched(day: str, types: set[str] | None, skip: set[str]) -> tuple[list[Any], list[Any]]:
    """(expected events no parsed event matches, parsed events of those types left over)."""
    built = generate.build_day(BAD[day])
    expected = [e for r in built.records for e in r.expected
                if (types is None or e["type"] in types) and e["type"] not in skip]
    kinds = {e["type"] for e in expected} | (types or set())
    pool = [e for e in parsed(day) if e.type in kinds]
    missing = []
    for want in expected:
        hit = next((i for i, e in enumerate(pool) if matches(e, want)), None)
        if hit is None:
            missing.append(want)
        else:
            pool.pop(hit)
    return missing, [(e.type, e.raw) for e in pool]


@pytest.mark.parametrize("day", DAYS)
def test_each_log_record_parses_to_the_event_it_stands_for(day: str) -> None:
    missing, extra = unmatched(day, None, skip=EXCEPTION_TYPES)
    assert missing == []
    assert extra == []


def test_exception_records_parse_to_setup_failed_and_not_created() -> None:
    missing, extra = unmatched("bad-day", EXCEPTION_TYPES, skip=set())
    assert missing == []
    assert extra == []


def test_the_exception_records_are_the_ones_oslo_log_writes() -> None:
    """First line: message + ``: <summary>``; then every traceback line (chained ones
    too) behind the prefix, ending in the summary and the prefix alone (the empty
    string after the traceback's last newline), as oslo.log's formatException does."""
    lines = (folder("bad-day") / "nova-compute.log").read_text().splitlines()
    starts = [i for i, line in enumerate(lines) if "Instance failed block device setup: " in line]
    assert len(starts) == 3
    for i in starts:
        head = split_header(lines[i], 2026).message
        stamp_pid = head[:28]  # "2026-03-02 08:46:04.000 983 "
        instance = head.split("[instance: ", 1)[1].split("]", 1)[0]
        prefix = f"{stamp_pid}ERROR nova.compute.manager [instance: {instance}] "
        summary = head.split("Instance failed block device setup: ", 1)[1]
        body = []
        for line in lines[i + 1:]:
            message = split_header(line, 2026).message
            if not message.startswith(prefix):
                break
            body.append(message[len(prefix):])
        assert body[0] == "Traceback (most recent call last):"
        assert body[-2:] == [summary, ""]
        assert body.count("Traceback (most recent call last):") == 1 + body.count(
            "During handling of the above exception, another exception occurred:")


@pytest.mark.parametrize("day", DAYS)
def test_the_manifest_names_every_file_of_the_day(day: str) -> None:
    on_disk = {str(p.relative_to(folder(day))) for p in folder(day).rglob("*") if p.is_file()}
    assert on_disk == {s.file for s in SOURCES}
    top = {p.name for p in demo_day(day)}
    assert top == {s.file for s in SOURCES if "/" not in s.file}


@pytest.mark.parametrize("day", DAYS)
def test_the_hostfacts_reader_gives_every_vlan_of_the_recording(day: str) -> None:
    """Each VLAN device of each snapshot becomes one fact with its parent's kind."""
    from adapters.hostfacts import events_from_file

    vlans = set()
    for line in (folder(day) / HOSTFACTS).read_bytes().splitlines():
        snap = orjson.loads(line)
        links = {link["ifname"]: link for link in snap["ip_link"]}
        for link in links.values():
            info = link.get("linkinfo", {})
            if info.get("info_kind") == "vlan":
                parent = links[link["link"]]
                vlans.add((snap["host"], link["ifname"], link["link"],
                           parent["linkinfo"]["info_kind"], info["info_data"]["id"],
                           link["mtu"]))
    events, problems = events_from_file(folder(day) / HOSTFACTS)
    assert problems == []
    read = {(e.host, e.data["name"], e.data["link"], e.data["link_kind"], e.data["vlan_id"],
             e.data["mtu"]) for e in events if e.data.get("kind") == "vlan"}
    assert read == vlans
    assert len(vlans) == 12


@pytest.mark.parametrize("day", DAYS)
def test_the_timeline_merges_every_input_by_event_time(day: str) -> None:
    items = list(demo_timeline(day))
    times = [t for t, _, _ in items]
    assert times == sorted(times)
    channels = Counter(channel for _, channel, _ in items)
    want: Counter[str] = Counter()
    for source in SOURCES:
        if source.channel == "replay":
            continue
        n = sum(1 for line in (folder(day) / source.file).read_bytes().splitlines() if line)
        want[source.channel if source.channel != "file" else f"file:{source.file}"] += n
    assert channels == want
    hosts = {h for s in SOURCES if s.channel == "syslog" for h in s.hosts}
    for _, channel, payload in items:
        if channel == "syslog":
            assert isinstance(payload, SyslogLine)
            head = split_header(payload.line, 2026)
            assert (head.host, head.program, head.message, head.time) == (
                payload.host, payload.program, payload.message, payload.time)
            assert payload.host in hosts
        elif channel.startswith("file:"):
            assert isinstance(payload, str) and "\n" not in payload


def test_an_exception_record_stays_together_in_the_timeline() -> None:
    """A sender in time order sends a record's lines one after another: from its first
    line to the prefix alone that ends it, nothing of another record comes between."""
    items = [p for _, _, p in demo_timeline("bad-day")]
    firsts = [i for i, p in enumerate(items) if isinstance(p, SyslogLine)
              and "Instance failed block device setup: " in p.message]
    assert len(firsts) == 3
    for i in firsts:
        first = items[i]
        assert isinstance(first, SyslogLine)
        prefix = first.message.split(" [", 1)[0] + " [instance: "
        end = next(j for j in range(i + 1, len(items)) if isinstance(items[j], SyslogLine)
                   and items[j].message.startswith(prefix) and items[j].message.endswith("] "))
        record = items[i:end + 1]
        assert len(record) > 10
        assert all(isinstance(p, SyslogLine) and p.host == first.host
                   and p.message.startswith(prefix)
                   for p in record[1:])
