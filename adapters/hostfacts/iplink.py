"""``ip -details -json link`` output as ``host.network.interface`` events.

One event per device: ``data`` holds its ``name``, its parent ``link``, its
``kind`` (``linkinfo.info_kind``: vlan, bond, bridge...; None for a plain NIC),
``link_kind`` (the parent's kind, looked up by name in the same snapshot, so a
VLAN on a VLAN is seen by kind, not by name), ``vlan_id`` and ``mtu``.

Two inputs: exactly what ``ip -details -json link`` printed (the host comes from
configuration, the time from the file), or a JSON-lines recording with one
snapshot per line, ``{"host": ..., "time": ..., "ip_link": [...]}``, as site
tooling collecting from many hosts writes it. Event ids hash the host and the
device's fields, not the time: re-reading an unchanged snapshot redelivers the
same ids, which the engine drops.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from engine.catalogue import EventSpec, event_spec
from engine.events import Event
from engine.eventtime import EventTimeError, check_event_time, outside

TYPE = "host.network.interface"
SERVICE = "facts"
DATA_FIELDS = ("name", "link", "kind", "link_kind", "vlan_id", "mtu")
#: The catalogue entry (as a log parser's ``emits``): ``validate`` checks rules against it.
EMITS: dict[str, EventSpec] = {TYPE: event_spec(("origin", "service", "host"), DATA_FIELDS)}


class SnapshotError(ValueError):
    """A snapshot that is not ``ip -details -json link`` output (or not a recording of one)."""


def interface_events(links: Any, host: str | None, time: datetime,
                     origin: str) -> list[Event]:
    """One event per device of one ``ip -details -json link`` snapshot (a parsed array)."""
    if not isinstance(links, list):
        raise SnapshotError("ip link output must be a JSON array of devices")
    kinds: dict[str, str | None] = {}
    for n, dev in enumerate(links):
        if not isinstance(dev, dict) or not isinstance(dev.get("ifname"), str):
            raise SnapshotError(f"device {n}: not an object with an 'ifname'")
        kinds[dev["ifname"]] = _kind(dev)
    events = []
    for dev in links:
        name = dev["ifname"]
        link = dev.get("link")
        info = dev.get("linkinfo") or {}
        kind = kinds[name]
        vlan_id = (info.get("info_data") or {}).get("id") if kind == "vlan" else None
        data = {
            "name": name,
            "link": link if isinstance(link, str) else None,
            "kind": kind,
            "link_kind": kinds.get(link) if isinstance(link, str) else None,
            "vlan_id": vlan_id,
            "mtu": dev.get("mtu"),
        }
        digest = hashlib.sha1(orjson.dumps([host, data], option=orjson.OPT_SORT_KEYS))
        events.append(Event(
            id=f"hostfacts:{host or '-'}:{name}:{digest.hexdigest()[:16]}", type=TYPE,
            time=time, service=SERVICE, host=host, origin=origin, data=data, raw=dev,
        ))
    return events


def _kind(dev: dict[str, Any]) -> str | None:
    info = dev.get("linkinfo")
    kind = info.get("info_kind") if isinstance(info, dict) else None
    return kind if isinstance(kind, str) else None


def is_ip_link(obj: Any) -> bool:
    """Whether a parsed JSON value looks like ``ip -json link`` output."""
    return isinstance(obj, list) and bool(obj) and isinstance(obj[0], dict) \
        and "ifname" in obj[0]


def is_recording(obj: Any) -> bool:
    """Whether a parsed JSON value is one line of a host-facts recording."""
    return isinstance(obj, dict) and "ip_link" in obj


def events_from_ip_output(data: bytes, host: str | None, time: datetime,
                          origin: str) -> list[Event]:
    """What ``ip -details -json link`` printed, as events (``SnapshotError`` if it is not)."""
    try:
        links = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise SnapshotError(f"not JSON: {exc}") from None
    return interface_events(links, host, time, origin)


def events_from_record(line: bytes | Any, origin: str) -> list[Event]:
    """One recording line ``{"host", "time", "ip_link"}`` (bytes or parsed) as events."""
    if isinstance(line, bytes | bytearray | str):
        try:
            line = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise SnapshotError(f"not JSON: {exc}") from None
    if not isinstance(line, dict):
        raise SnapshotError("a snapshot line must be a JSON object")
    missing = [k for k in ("host", "time", "ip_link") if k not in line]
    if missing:
        raise SnapshotError(f"snapshot without {', '.join(missing)}")
    host, stamp = line["host"], line["time"]
    if not isinstance(host, str) or not host:
        raise SnapshotError("'host' must be a non-empty string")
    return interface_events(line["ip_link"], host, parse_time(stamp), origin)


def mtime_time(mtime_ns: int) -> datetime:
    """A file's modification time (``st_mtime_ns``) as the time of the ``ip`` output it
    holds, to the microsecond and exactly (no float on the way, so two readers agree)."""
    return datetime.fromtimestamp(mtime_ns // 1_000_000_000, UTC).replace(
        microsecond=mtime_ns // 1000 % 1_000_000)


def parse_time(stamp: Any) -> datetime:
    """An ISO 8601 snapshot time; a time without zone is UTC."""
    if not isinstance(stamp, str):
        raise SnapshotError("'time' must be an ISO 8601 string")
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        raise SnapshotError(f"'time' is not ISO 8601: {stamp!r}") from None
    try:
        return check_event_time(when.astimezone(UTC) if when.tzinfo is not None
                                else when.replace(tzinfo=UTC))
    except (EventTimeError, OverflowError):
        raise SnapshotError(f"'time': {outside(when).reason}") from None


def sniff_form(head: bytes) -> str | None:
    """``ip`` (the command's own output), ``recording`` (JSON lines), or None."""
    text = head.lstrip()
    if text.startswith(b"["):
        return "ip"
    if text.startswith(b"{"):
        first = text.split(b"\n", 1)[0]
        try:
            return "recording" if is_recording(orjson.loads(first)) else None
        except orjson.JSONDecodeError:
            return None
    return None


Problem = tuple[str, bytes, str]  # (origin, raw, reason) for the dead letters


def events_from_bytes(data: bytes, origin: str, host: str | None,
                      mtime: datetime) -> tuple[list[Event], list[Problem]]:
    """A whole host-facts file in either form: its events and its malformed snapshots."""
    if sniff_form(data) == "ip":
        try:
            return events_from_ip_output(data, host, mtime, origin), []
        except SnapshotError as exc:
            return [], [(origin, data, str(exc))]
    return events_from_lines(data.splitlines(keepends=True), origin)


def events_from_lines(lines: Iterable[bytes], origin: str,
                      first_line: int = 1) -> tuple[list[Event], list[Problem]]:
    """Recording lines: their events, and each bad line as ``origin:number`` with why."""
    events: list[Event] = []
    problems: list[Problem] = []
    for number, line in enumerate(lines, first_line):
        if not line.strip():
            continue
        try:
            events.extend(events_from_record(line, origin))
        except SnapshotError as exc:
            problems.append((f"{origin}:{number}", line, str(exc)))
    return events, problems

