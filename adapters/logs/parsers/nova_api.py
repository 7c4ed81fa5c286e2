"""nova-api access lines in every layout the corpus shows.

The oslo wsgi line (``"GET /p HTTP/1.1" status: 200 len: 1893 time: 0.24``),
the requestlog middleware line (``"GET /p" status: 302 len: None microversion:
- time: 0.016``), uwsgi's request log and Apache's combined log all become
``nova.api.request`` so one rule covers a cloud whichever way it serves nova.
"""

from __future__ import annotations

import re
from typing import Any

from adapters.logs.base import (
    IGNORED,
    OSLO_DATA,
    OSLO_IDS,
    Parser,
    Position,
    Result,
    StreamContext,
    emitting,
)
from adapters.logs.build import StreamEvents
from adapters.logs.errors import BadTime
from adapters.logs.fastre import compile_ascii_first
from adapters.logs.header import Header
from adapters.logs.oslo import Layout, OsloReader, is_trace, record_twin
from adapters.logs.timeparse import bsd_time, clf_time

#: Optional parts as ``(?:x|)``, which ``re`` matches cheaper than ``(?:x)?``: both try
#: ``x`` first, but ``re`` runs a group with ``?`` as a general repeat (an allocation each).
_ACCESS_BODY = (
    r'(?P<remote>[^"]*)"(?P<method>[A-Z]+) (?P<path>\S+)(?: HTTP/[\d.]+|)" '
    r"status: (?P<status>\d+) len: (?P<len>\d+|None)(?: microversion: (?P<mv>\S+)|) "
    r"time: (?P<dur>[\d.]+)"
)
_ACCESS = compile_ascii_first(_ACCESS_BODY)  # ``remote`` keeps the space before the quote
#: Whether the oslo access line is read by the fused regex (tests compare it with the plain
#: way: ``OsloReader.parse``, then ``_ACCESS``).
FAST = True
#: Whether a line the usual layout's fused regex refuses is tried with its twin's.
TWIN = True
#: The remote user ``(...)`` and the ``{N vars in M bytes}`` are each skipped to the first
#: ``) {`` / ``} [`` after them, atomically: two nested lazy ``.*?`` made a failing line
#: cubic (a 16 KB line of ``() {`` took 3 s). Every repeat here is possessive or atomic.
_UWSGI = re.compile(
    r"\[pid: \d++\|app: \d++\|req: [\d/]++\] (?P<remote>\S++) (?>\(.*?\) \{)(?>.*?\} \[)"
    r"(?P<date>[^\]]++)\] (?P<method>[A-Z]++) (?P<path>\S++) => generated (?P<len>\d++) bytes "
    r"in (?P<ms>\d++) msecs \(HTTP/[\d.]++ (?P<status>\d++)\)"
)
_APACHE = re.compile(
    r'(?P<remote>\S+) \S+ \S+ \[(?P<date>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+)'
    r'(?: HTTP/[\d.]+)?" (?P<status>\d+) (?P<len>\d+|-)(?: "[^"]*" "[^"]*")?(?: (?P<us>\d+))?'
)
_HEX32 = re.compile(r"[0-9a-f]{32}\Z")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_VERSION = re.compile(r"v\d+(?:\.\d+)?\Z")
_EC2_ACTION = re.compile(r"[?&]Action=([A-Za-z]+)")
#: Path words that name an operation although they sit where an id would.
_VERBS = frozenset({"detail", "action", "statistics", "defaults", "search", "uptime"})

_action_cache: dict[str, tuple[str, str | None, str | None]] = {}
_api_cache: dict[str, str] = {}


def _api_of(module: str) -> str:
    """``nova.osapi_compute.wsgi.server`` -> ``compute``, ``nova.metadata.wsgi.server`` ->
    ``metadata`` (cached per module name)."""
    api = _api_cache.get(module)
    if api is None:
        api = module.split(".", 2)[1]  # no dot: IndexError, the line goes to dead letters
        if api in ("osapi_compute", "api"):
            api = "compute"
        if len(_api_cache) > 256:
            _api_cache.clear()
        _api_cache[module] = api
    return api


def api_action(path: str) -> tuple[str, str | None, str | None]:
    """(action, project_id, instance_id) from a request path; ids and versions dropped.

    The action joins the resource words of the path: ``/v2/<p>/servers/detail``
    is ``servers.detail``, ``/v2/<p>/servers/<id>/action`` is ``servers.action``.
    """
    hit = _action_cache.get(path)
    if hit is not None:
        return hit
    bare = path.split("?", 1)[0]
    segs = [s for s in bare.split("/") if s]
    project = instance = None
    if segs and segs[0] == "compute":  # devstack mounts nova under /compute
        segs = segs[1:]
    if bare.startswith("/services/Cloud"):
        m = _EC2_ACTION.search(path)
        action = "ec2." + m.group(1) if m else "ec2"
    elif segs and (segs[0] in ("openstack", "latest") or segs[0][:2] in ("19", "20")):
        action = "metadata"
    else:
        if segs and _VERSION.match(segs[0]):
            version = segs.pop(0)
            if segs and (version in ("v2", "v1.1") or _HEX32.match(segs[0])
                         or _UUID.match(segs[0])):
                project = segs.pop(0)
        names: list[str] = []
        for i, seg in enumerate(segs):
            if i % 2 == 0 or seg in _VERBS:
                names.append(seg)
            elif i == 1 and names[0] == "servers" and _UUID.match(seg):
                instance = seg
        action = ".".join(names) or "root"
    result = (action, project, instance)
    if len(_action_cache) > 8192:
        _action_cache.clear()
    _action_cache[path] = result
    return result


class NovaApiParser(Parser):
    """nova-api logs: access lines become events; everything else is not ours."""

    kind = "nova-api"
    emits = emitting(["nova.api.request"], [*OSLO_IDS, "instance_id"], [
        "method", "path", "status", "length", "duration", "action", "remote_addr",
        "microversion", "api", "layout", *OSLO_DATA])

    def __init__(self, ctx: StreamContext) -> None:
        super().__init__(ctx)
        self._events = StreamEvents(ctx.origin, "nova-api")
        self._oslo = OsloReader(ctx.log_format, ctx.origin)
        self._fast_layout: Layout | None = None
        #: the fused regexes of the usual layout and of its twin (``oslo.record_twin``)
        self._fast: tuple[re.Pattern[str], Layout] | None = None
        self._twin: tuple[re.Pattern[str], Layout] | None = None

    def parse(self, head: Header, raw: str, position: Position) -> Result:
        """An access line of any layout; the oslo one is read and built here in one go.

        The oslo access line is two thirds of a cloud's log volume, so its fields go
        straight into the event without a helper call per line (a call is ~600
        instructions, a tenth of what the line's own Python costs).
        """
        msg = head.message
        c = msg[:1]
        if c == "[":
            return self._uwsgi(head, raw, position)
        if c.isdigit() and msg[4:5] != "-":
            return self._apache(head, raw, position)
        reader = self._oslo
        if reader.usual is not self._fast_layout:  # the stream's format changed (or first line)
            self._set_fast(reader.usual)
        fast = self._fast
        read = g = None
        if fast is not None and "\x1b" not in msg:
            m = fast[0].match(msg)
            if m is not None:
                g = m.groups()
                read = fast[1].fitting_values(g)
            twin = self._twin
            if read is None and twin is not None:  # a ``[-]`` line among context ones
                m = twin[0].match(msg)
                if m is not None:
                    g = m.groups()
                    read = twin[1].fitting_values(g)
        if read is not None and g is not None:
            # the common line: one regex for head and access part, no OsloLine
            time, severity, _level, module, ids, _instance, names = read
            remote, method, path, status, length, mv, dur = g[-7:]  # the access part's
        else:
            line = reader.parse(msg)
            if line is None:
                return None
            a = _ACCESS.match(line.message)
            if a is None:
                return IGNORED if is_trace(line) else None
            remote, method, path, status, length, mv, dur = a.groups()
            time, severity, module, ids, names = \
                line.time, line.severity, line.module, line.ids, line.names
        # A cache hit is a dict lookup here; the call is made for a path or module not seen yet.
        action, project, instance = _action_cache.get(path) or api_action(path)
        api = _api_cache.get(module) or _api_of(module)
        if remote[-1:] == " ":  # the fused regex keeps the space before the quote
            remote = remote[:-1]
        data: dict[str, Any] = {
            "method": method, "path": path, "status": int(status),
            "length": None if length == "None" else int(length), "duration": float(dur),
            "action": action, "remote_addr": remote or None,
            "microversion": None if mv is None or mv == "-" else mv, "api": api,
            "logger": module,
        }
        if names[0] is not None:
            data["user_name"] = names[0]
        if names[1] is not None:
            data["project_name"] = names[1]
        if project is not None:  # the path names the project: it wins over the context
            ids = (ids[0], ids[1], ids[2], project)
        return self._events.make(position, "nova.api.request", time or self.time_of(head), raw,
                                 data, head.host or self.ctx.host, severity, ids, instance)

    def _set_fast(self, layout: Layout | None) -> None:
        """Fuse the access part to the stream's usual layout and to its twin (the other
        record layout of its known format, which reads the same as the plain way would)."""
        self._fast_layout = layout
        self._fast = self._twin = None
        if layout is not None and FAST:
            self._fast = (layout.fused(_ACCESS_BODY), layout)
            twin = record_twin(layout) if TWIN else None
            if twin is not None:
                self._twin = (twin.fused(_ACCESS_BODY), twin)

    def _request(
        self, head: Header, raw: str, position: Position, method: str, path: str, status: str,
        length: str, duration: float | None, remote: str, time: Any, layout: str,
    ) -> Result:
        action, project, instance = api_action(path)
        data: dict[str, Any] = {
            "method": method, "path": path, "status": int(status),
            "length": None if length == "-" else int(length), "duration": duration,
            "action": action, "remote_addr": remote, "microversion": None,
            "api": "metadata" if action == "metadata" else "compute", "layout": layout,
        }
        return self._events.make(position, "nova.api.request", time, raw, data,
                                 head.host or self.ctx.host, "info",
                                 (None, None, None, project), instance)

    def _uwsgi(self, head: Header, raw: str, position: Position) -> Result:
        m = _UWSGI.match(head.message)
        if m is None:
            return None
        parts = m.group("date").split()
        if len(parts) != 5 or not parts[4].isdigit() or len(parts[4]) != 4:
            raise BadTime(f"{m.group('date')[:40]!r} is no 'Www Mmm dd HH:MM:SS yyyy' date")
        _wd, mon, day, clock, year = parts
        time = bsd_time(mon, day, clock, int(year))
        return self._request(
            head, raw, position, m.group("method"), m.group("path"), m.group("status"),
            m.group("len"), int(m.group("ms")) / 1000.0, m.group("remote"), time, "uwsgi",
        )

    def _apache(self, head: Header, raw: str, position: Position) -> Result:
        m = _APACHE.match(head.message)
        if m is None:
            return None
        us = m.group("us")
        return self._request(
            head, raw, position, m.group("method"), m.group("path"), m.group("status"),
            m.group("len"), int(us) / 1e6 if us else None, m.group("remote"),
            clf_time(m.group("date")), "apache",
        )
