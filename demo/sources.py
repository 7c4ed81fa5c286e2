"""How each file of a demo day reaches a live worker, and the day's inputs merged by time.

The files are what the real programs leave behind (``generate.py`` writes them):

- ``notifications.jsonl``: what nova, neutron and cinder publish on the bus (AMQP).
- ``nova-api.log``, ``cinder-api.log``, ``cinder-volume.log``: the files a central
  rsyslog writes per OpenStack program (``RSYSLOG_FileFormat``:
  ``<RFC 3339 stamp> <host> <program>[<pid>]: <oslo.log line>``); the worker on the log
  host follows them.
- ``nova-compute.log``: the compute hosts' nova-compute lines, the same layout; they
  arrive over syslog (each host's rsyslog forwards its journal).
- ``syslog.log``: everything else the log host receives over syslog: dnsmasq on the
  network node and the switch (``%FACILITY-SEV-MNEMONIC`` lines).
- ``host-facts.jsonl``: the hosts' network facts, one ``ip -details -json link``
  snapshot per host and line (``HOSTFACTS``), as site tooling records them.

Every log line names its host in the header, so replay of the day folder needs no
per-file host; the header stamp is RFC 3339, so no line depends on a file's year.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson

#: False until adapters/hostfacts (replay kind ``hostfacts``) is on this branch; then set it
#: True (and regenerate): the recording moves into the day folder, the events file goes.
HOSTFACTS = "host-facts.jsonl"

Channel = Literal["amqp", "syslog", "file", "hostfacts", "replay"]


@dataclass(frozen=True)
class Source:
    """One file of a day and the way its content reaches a live worker.

    ``channel``: ``amqp`` (publish each notification with oslo.messaging's Notifier),
    ``syslog`` (send each line's message as its host and program would: header
    fields in ``SyslogLine``), ``file`` (append each line to a followed file of
    ``kind``), ``hostfacts`` (the host-facts source reads each snapshot) or
    ``replay`` (our own events, read by replay only).
    """

    file: str
    channel: Channel
    kind: str | None  # the parser kind (logs) or input kind a worker configures
    hosts: tuple[str, ...]  # who sends or writes it; the lines' headers name the host too
    sender: str  # the real program that delivers it


_COMPUTES = tuple(f"compute-{i}" for i in range(1, 7))

SOURCES: tuple[Source, ...] = (
    Source("notifications.jsonl", "amqp", "notifications", ("ctl-1", *_COMPUTES, "cinder-vol-1"),
           "oslo.messaging Notifier (driver messagingv2, topic notifications)"),
    Source(HOSTFACTS, "hostfacts", "hostfacts", _COMPUTES,
           "a host agent recording `ip -details -json link`"),
    Source("nova-compute.log", "syslog", "nova-compute", _COMPUTES,
           "each compute host's rsyslog (imjournal) forwarding over TCP"),
    Source("syslog.log", "syslog", "syslog", ("net-1", "SW-1"),
           "dnsmasq's host rsyslog over TCP; the switch's own syslog client over UDP"),
    Source("nova-api.log", "file", "nova-api", ("ctl-1",),
           "the central rsyslog's per-program file, followed by the worker"),
    Source("cinder-api.log", "file", "cinder-api", ("ctl-1",),
           "the central rsyslog's per-program file, followed by the worker"),
    Source("cinder-volume.log", "file", "cinder-volume", ("cinder-vol-1",),
           "the central rsyslog's per-program file, followed by the worker"),
)


@dataclass(frozen=True)
class SyslogLine:
    """One syslog message as its sender emits it; ``line`` is how the log host stored it.

    A sender that writes its own header (Python's ``SysLogHandler`` with a formatter)
    can send ``line`` as it is; util-linux ``logger`` sets the time and host itself,
    so it can carry only ``program``, ``pid`` and ``message`` (fine for oslo lines,
    whose time is inside the message; not for dnsmasq or the switch).
    """

    time: datetime
    host: str
    program: str | None
    pid: int | None
    message: str
    line: str


def split_stored_line(line: str) -> SyslogLine:
    """``<RFC 3339 stamp> <host> <program>[<pid>]: <message>`` (the stored form) apart."""
    stamp, host, rest = line.split(" ", 2)
    program: str | None = None
    pid: int | None = None
    message = rest
    tag, sep, after = rest.partition(": ")
    if sep and " " not in tag and not tag.startswith("%"):
        message = after
        program, _, pid_text = tag.partition("[")
        pid = int(pid_text.rstrip("]")) if pid_text else None
    return SyslogLine(datetime.fromisoformat(stamp), host, program, pid, message, line)


def day_folder(day: str) -> Path:
    """The folder of one bundled day (this package's data)."""
    folder = Path(__file__).resolve().parent / day
    if not folder.is_dir():
        raise FileNotFoundError(f"no demo day {day!r} at {folder}")
    return folder


TimelineItem = tuple[datetime, str, Any]


def _notifications(path: Path) -> Iterator[TimelineItem]:
    for raw in path.read_bytes().splitlines():
        if raw.strip():
            note = orjson.loads(raw)
            at = datetime.fromisoformat(note["timestamp"]).replace(tzinfo=UTC)
            yield at, "amqp", note


def _snapshots(path: Path) -> Iterator[TimelineItem]:
    for raw in path.read_bytes().splitlines():
        if raw.strip():
            snap = orjson.loads(raw)
            yield datetime.fromisoformat(snap["time"]), "hostfacts", snap


def _log_lines(path: Path, source: Source) -> Iterator[TimelineItem]:
    with path.open(encoding="utf-8") as fh:
        for text in fh:
            line = text.rstrip("\n")
            if not line:
                continue
            parsed = split_stored_line(line)
            if source.channel == "syslog":
                yield parsed.time, "syslog", parsed
            else:
                yield parsed.time, f"file:{source.file}", line


def _items(folder: Path, source: Source) -> Iterator[TimelineItem]:
    path = folder / source.file
    if source.channel == "amqp":
        return _notifications(path)
    if source.channel == "hostfacts":
        return _snapshots(path)
    return _log_lines(path, source)


def demo_timeline(day: str, folder: Path | None = None) -> Iterator[TimelineItem]:
    """Every input of ``day`` as ``(event time, channel, payload)``, oldest first.

    Channels: ``amqp`` (the notification dict, wire shape), ``syslog`` (a
    ``SyslogLine``), ``file:<name>`` (the line to append, without its newline) and
    ``hostfacts`` (the snapshot dict). Items of one time keep ``SOURCES`` order, and
    lines of one file keep file order (an exception record stays together).
    ``folder`` reads a regenerated day instead of the bundled one.
    """
    where = folder if folder is not None else day_folder(day)
    streams = [_items(where, s) for s in SOURCES if s.channel != "replay"]
    # heapq.merge is stable: on equal times the earlier stream, then the earlier line, first
    yield from heapq.merge(*streams, key=lambda item: item[0])
