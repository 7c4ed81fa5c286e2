"""HAProxy's HTTP, TCP and connection-error log lines.

The load balancer between nova-compute and cinder-api is where a volume POST
can vanish (incident volume-post-lost); its termination state (``CR--``,
``SC--``, ``cD``...) says who closed what, so it is kept verbatim.
"""

from __future__ import annotations

import re
from typing import Any

from adapters.logs.base import Parser, Position, Result
from adapters.logs.build import make_event
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

    def parse(self, head: Header, raw: str, position: Position) -> Result:
        msg = head.message
        m = _HTTP.match(msg)
        mode = "http"
        if m is None:
            m = _TCP.match(msg)
            mode = "tcp"
        if m is None:
            e = _ERROR.match(msg)
            if e is None:
                return None
            err = {"client": e.group("client"), "frontend": e.group("fe"),
                   "bind": e.group("bind"), "message": e.group("msg")}
            return self._event(head, raw, position, "haproxy.connection_error",
                               clf_time(e.group("date")), err, "warning")
        g = m.group
        method = path = None
        if mode == "http":
            parts = g("req").split(" ")
            if len(parts) >= 2:
                method, path = parts[0], parts[1]
        timers = g("timers")
        status = int(g("status")) if mode == "http" else None
        data: dict[str, Any] = {
            "mode": mode, "client": g("client"), "frontend": g("fe"), "backend": g("be"),
            "server": g("srv"), "timers": timers,
            "total_ms": int(timers.rsplit("/", 1)[1].lstrip("+")),
            "status": status, "bytes": int(g("bytes").lstrip("+")),
            "termination_state": g("term"), "connections": g("conns"), "queues": g("queues"),
            "method": method, "path": path,
        }
        severity = "error" if status is not None and (status < 0 or status >= 500) else "info"
        return self._event(head, raw, position, "haproxy.request", clf_time(g("date")), data,
                           severity)

    def _event(self, head: Header, raw: str, position: Position, type_: str, time: Any,
               data: dict[str, Any], severity: str) -> Result:
        return make_event(self.ctx.origin, position, type_, time, raw, data,
                          service="haproxy", host=head.host or self.ctx.host,
                          severity=head.severity or severity)
