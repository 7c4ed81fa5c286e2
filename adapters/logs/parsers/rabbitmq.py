"""RabbitMQ memory alarms in the three layouts its versions wrote.

3.6 writes ``=WARNING REPORT==== 6-May-2019::03:56:36 ===`` and the message
on the following line(s); such a record is complete only when the next one
starts (or at end of input / idle flush), so this parser holds it back.
3.7 writes ``date time.ms [level] <pid> msg`` and 3.9+ the same with an
RFC 3339 stamp, its alarm banner spread over several prefixed lines.
The memory figures logged before an alarm are carried into it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from adapters.logs.base import IGNORED, Parser, Position, Result, StreamContext, emitting
from adapters.logs.build import SEVERITIES, StreamEvents
from adapters.logs.errors import as_int
from adapters.logs.header import Header
from adapters.logs.timeparse import bsd_time, iso_time
from engine.events import Event

_REPORT = re.compile(
    r"=(?P<level>[A-Z]+) REPORT==== (?P<day>\d{1,2})-(?P<mon>[A-Z][a-z]{2})-(?P<year>\d{4})::"
    r"(?P<clock>\d\d:\d\d:\d\d) ==="
)
_LAGER = re.compile(
    r"(?P<date>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.(?P<frac>\d+))?(?P<zone>Z|[+-]\d\d:?\d\d)? "
    r"\[(?P<level>\w+)\] <[\d.]+> ?(?P<msg>.*)"
)
_ALARM = re.compile(
    r"memory resource limit alarm (?P<what>set|cleared) "
    r"(?:on node '?(?P<node>[^'\s]+?)'?\.?\s*\Z|(?P<cluster>across the cluster))"
)
_USED = re.compile(r"vm_memory_high_watermark set\. Memory used:(?P<used>\d+) allowed:(?P<lim>\d+)")
_LIMIT_MIB = re.compile(r"Memory high watermark set to \d+ MiB \((?P<lim>\d+) bytes\) of \d+ MiB "
                        r"\((?P<total>\d+) bytes\) total")
_LIMIT_MB = re.compile(r"Memory limit set to (?P<lim>\d+)MB of (?P<total>\d+)MB total")


class RabbitmqParser(Parser):
    """RabbitMQ server logs: memory alarm set/cleared, and the memory limit lines."""

    kind = "rabbitmq"
    emits = {
        **emitting(["rabbitmq.alarm.memory.set", "rabbitmq.alarm.memory.cleared"], (),
                ["node", "scope", "used", "limit", "message"]),
        **emitting(["rabbitmq.memory.watermark", "rabbitmq.memory.limit_set"], (),
                ["used", "limit", "total", "message"]),
    }

    def __init__(self, ctx: StreamContext) -> None:
        super().__init__(ctx)
        self._events = StreamEvents(ctx.origin, "rabbitmq")
        self._pending: tuple[Position, datetime, str, list[str], list[str]] | None = None
        self._used: int | None = None
        self._limit: int | None = None

    def parse(self, head: Header, raw: str, position: Position) -> Result:
        msg = head.message
        if msg.startswith("="):
            r = _REPORT.match(msg)
            if r is not None:
                self._complete()
                g = r.group
                time = bsd_time(g("mon"), g("day"), g("clock"), int(g("year")))
                body = msg[r.end():].splitlines()  # a syslog message may carry the record
                self._pending = (position, time, SEVERITIES.get(g("level"), "info"), [raw], body)
                return IGNORED
        if msg[:1].isdigit():
            m = _LAGER.match(msg)
            if m is not None:
                self._complete()
                g = m.group
                time = iso_time(g("date"), g("frac"), g("zone"))
                severity = SEVERITIES.get(g("level"), g("level"))
                return self._message(g("msg"), raw, position, time, severity, head)
        if self._pending is not None:
            self._pending[3].append(raw)
            self._pending[4].append(msg)
            return IGNORED
        return self._message(msg, raw, position, self.time_of(head), head.severity, head)

    def flush(self) -> list[Event]:
        self._complete()
        out, self.ready = self.ready, []
        return out

    def _complete(self) -> None:
        """Turn the held-back 3.6 record into an event (or count it as unknown)."""
        if self._pending is None:
            return
        position, time, severity, lines, body = self._pending
        self._pending = None
        text = next((ln.strip() for ln in body if ln.strip()), "")
        raw = "\n".join(lines)
        result = self._message(text, raw, position, time, severity, None)
        if isinstance(result, Event):
            self.ready.append(result)
        elif result is None:
            self.ctx.stats.miss(self.ctx.origin, raw)

    def _message(self, msg: str, raw: str, position: Position, time: datetime,
                 severity: str | None, head: Header | None) -> Result:
        msg = msg.strip()
        if not msg or msg.startswith("***"):
            return IGNORED  # the "Publishers will be blocked" banner and its blank lines
        host = (head.host if head else None) or self.ctx.host
        data: dict[str, Any]
        if msg.startswith("memory resource limit alarm"):
            a = _ALARM.match(msg)
            if a is None:
                return None
            data = {"node": a.group("node"), "scope": "cluster" if a.group("cluster") else "node",
                    "used": self._used, "limit": self._limit, "message": msg}
            return self._events.make(
                position, f"rabbitmq.alarm.memory.{a.group('what')}", time, raw, data,
                a.group("node") or host, severity or "warning",
            )
        u = _USED.match(msg)
        if u is not None:
            self._used = as_int(u.group("used"), "used")
            self._limit = as_int(u.group("lim"), "limit")
            data = {"used": self._used, "limit": self._limit, "total": None, "message": msg}
            return self._events.make(position, "rabbitmq.memory.watermark", time, raw, data,
                                     host, severity or "info")
        lm = _LIMIT_MIB.match(msg)
        mb = 1
        if lm is None:
            lm = _LIMIT_MB.match(msg)
            mb = 1024 * 1024
        if lm is not None:
            self._limit = as_int(lm.group("lim"), "limit") * mb
            data = {"used": self._used, "limit": self._limit,
                    "total": as_int(lm.group("total"), "total") * mb, "message": msg}
            return self._events.make(position, "rabbitmq.memory.limit_set", time, raw, data,
                                     host, severity or "info")
        return None
