"""The oslo.log line layout shared by nova and cinder, across releases.

Seen in the corpus: ``date time.ms pid LEVEL module [context] msg`` with the
context as ``req-X user project - - -``, ``None req-X user project``,
``req-GLOBAL req-LOCAL user project - - - -`` or ``-``; Grizzly's
``date time  LEVEL [module] msg``; journald's variant without a timestamp; and
exception lines whose bracket holds ``instance: <uuid>`` instead of a context.
"""

from __future__ import annotations

import re
from datetime import datetime

from adapters.logs.build import SEVERITIES
from adapters.logs.timeparse import iso_time

_OSLO = re.compile(
    r"(?:(?P<date>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.(?P<frac>\d+))? +(?:\d+ +)?)?"
    r"(?P<level>[A-Z]+) +\[?(?P<module>[a-z][\w.]*)\]? (?:\[(?P<ctx>[^\]]*)\] ?)?(?P<msg>.*)\Z",
    re.DOTALL,
)


class OsloLine:
    """One oslo.log line, split; ids are None when the context did not carry them."""

    __slots__ = (
        "global_request_id", "instance_id", "level", "message", "module", "project_id",
        "request_id", "severity", "time", "user_id",
    )

    def __init__(self) -> None:
        self.time: datetime | None = None
        self.severity: str | None = None
        self.level = ""
        self.module = ""
        self.message = ""
        self.request_id: str | None = None
        self.global_request_id: str | None = None
        self.user_id: str | None = None
        self.project_id: str | None = None
        self.instance_id: str | None = None


def parse_oslo(text: str) -> OsloLine | None:
    """Split an oslo.log line, or None when ``text`` is not one."""
    m = _OSLO.match(text)
    if m is None:
        return None
    date, frac, level, module, ctx, msg = m.groups()
    line = OsloLine()
    if date is not None:
        line.time = iso_time(date, frac)
    line.level = level
    line.severity = SEVERITIES.get(level, level.lower())
    line.module = module
    if ctx is not None:
        if ctx.startswith("instance: "):
            line.instance_id = ctx[10:].strip()
        else:
            _context(line, ctx)
    if msg.startswith("[instance: "):
        end = msg.find("]")
        if end > 0:
            line.instance_id = msg[11:end].strip()
            msg = msg[end + 2:] if msg[end + 1:end + 2] == " " else msg[end + 1:]
    line.message = msg
    return line


def _context(line: OsloLine, ctx: str) -> None:
    parts = ctx.split()
    if not parts:
        return
    if parts[0] == "None":
        parts = parts[1:]
    if len(parts) >= 2 and parts[0].startswith("req-") and parts[1].startswith("req-"):
        line.global_request_id = parts[0]
        parts = parts[1:]
    if not parts or not parts[0].startswith("req-"):
        return
    line.request_id = parts[0]
    if len(parts) > 1 and parts[1] not in ("-", "None"):
        line.user_id = parts[1]
    if len(parts) > 2 and parts[2] not in ("-", "None"):
        line.project_id = parts[2]


def is_trace(line: OsloLine) -> bool:
    """Traceback frames and continuation lines: known, but they carry no event."""
    msg = line.message
    return line.level == "TRACE" or (
        line.severity == "error" and (not msg or msg[0] == " " or msg.startswith("Traceback"))
    ) or line.module == "" or msg == ""
