"""HAProxy's HTTP, TCP and connection-error log lines.

The load balancer between nova-compute and cinder-api is where a volume POST
can vanish (incident volume-post-lost); its termination state (``CR--``,
``SC--``, ``cD``...) says who closed what, so it is kept verbatim.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from adapters.logs.base import (
    Parser,
    Position,
    Result,
    StreamContext,
    emitting,
    pick_severity,
)
from adapters.logs.build import StreamEvents
from adapters.logs.errors import as_int
from adapters.logs.header import Header
from adapters.logs.timeparse import clf_time

_HEAD = r"(?P<client>\S+) \[(?P<date>[^\]]+)\] "
_HTTP = re.compile(
    _HEAD + r"(?P<fe>\S+) (?P<be>[^/\s]+)/(?P<srv>\S+) "
    r"(?P<timers>[-+\d]+/[-+\d]+/[-+\d]+/[-+\d]+/[-+\d]+) (?P<status>-?\d+) (?P<bytes>\+?\d+) "
    r"\S+ \S+ (?P<term>\S+) (?P<conns>[\d/]+) (?P<queues>[\d/]+)"
    r'(?: \{(?P<hreq>[^}]*)\})?(?: \{(?P<hresp>[^}]*)\})? "(?P<req>[^"]*)"'
)
_TCP = re.compile(
    _HEAD + r"(?P<fe>\S+) (?P<be>[^/\s]+)/(?P<srv>\S+) (?P<timers>[-+\d]+/[-+\d]+/[-+\d]+) "
    r"(?P<bytes>\+?\d+) (?P<term>\S+) (?P<conns>[\d/]+) (?P<queues>[\d/]+)\Z"
)
_ERROR = re.compile(_HEAD + r"(?P<fe>[^/\s]+)/(?P<bind>[^:\s]+): (?P<msg>.*)")


class HaproxyParser(Parser):
    """haproxy: requests (HTTP and TCP mode) and frontend connection errors."""

    kind = "haproxy"
    emits = {
        **emitting(["haproxy.request"], (), [
            "mode", "client", "frontend", "backend", "server", "timers", "total_ms", "status",
            "bytes", "termination_state", "connections", "queues", "method", "path"]),
        **emitting(["haproxy.connection_error"], (), ["client", "frontend", "bind", "message"]),
    }

    def __init__(self, ctx: StreamContext) -> None:
        super().__init__(ctx)
        self._events = StreamEvents(ctx.origin, "haproxy")

    def parse(self, head: Header, raw: str, position: Position) -> Result:
        msg = head.message
        m = _HTTP.match(msg)
        if m is not None:
            client, date, fe, be, srv, timers, status_text, size, term, conns, queues, _, _, \
                req = m.groups()
            method = path = None
            parts = req.split(" ")
            if len(parts) >= 2:
                method, path = parts[0], parts[1]
            status: int | None = as_int(status_text, "status")
            mode = "http"
        else:
            m = _TCP.match(msg)
            if m is None:
                return self._error(head, raw, position)
            client, date, fe, be, srv, timers, size, term, conns, queues = m.groups()
            method = path = status = None
            mode = "tcp"
        data: dict[str, Any] = {
            "mode": mode, "client": client, "frontend": fe, "backend": be,
            "server": srv, "timers": timers,
            "total_ms": as_int(timers.rsplit("/", 1)[1].lstrip("+"), "total time"),
            "status": status, "bytes": as_int(size.lstrip("+"), "bytes"),
            "termination_state": term, "connections": conns, "queues": queues,
            "method": method, "path": path,
        }
        # a 5xx (or an aborted request) is the line's own level; else the PRI says
        # (haproxy's log-separate-errors sends abnormal ends at err), default info
        own = "error" if status is not None and (status < 0 or status >= 500) else None
        return self._event(head, raw, position, "haproxy.request", clf_time(date), data,
                           own, "info")

    def _error(self, head: Header, raw: str, position: Position) -> Result:
        e = _ERROR.match(head.message)
        if e is None:
            return None
        client, date, fe, bind, msg = e.groups()
        err = {"client": client, "frontend": fe, "bind": bind, "message": msg}
        return self._event(head, raw, position, "haproxy.connection_error", clf_time(date), err,
                           None, "warning")

    def _event(self, head: Header, raw: str, position: Position, type_: str, time: datetime,
               data: dict[str, Any], own: str | None, default: str) -> Result:
        return self._events.make(position, type_, time, raw, data, head.host or self.ctx.host,
                                 pick_severity(own, head, default))
