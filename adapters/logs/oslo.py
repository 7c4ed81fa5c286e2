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

from adapters.logs.build import NO_IDS, SEVERITIES, IdTuple
from adapters.logs.fastre import compile_ascii_first
from adapters.logs.timeparse import iso_time

#: Everything before the message: date, fraction, pid, level, module, context.
#: An optional part is written ``(?:x|)``, not ``(?:x)?``: both try ``x`` first and then
#: nothing, but Python's ``re`` runs a group with ``?`` as a general repeat, which costs
#: an allocation and its bookkeeping per attempt (a sixth of the whole match).
OSLO_HEAD = (
    r"(?:(?P<date>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.(?P<frac>\d+)|) +(?:\d+ +|)|)"
    r"(?P<level>[A-Z]+) +\[?(?P<module>[a-z][\w.]*)\]? (?:\[(?P<ctx>[^\]]*)\] ?|)"
)
_OSLO = compile_ascii_first(OSLO_HEAD + r"(?P<msg>.*)\Z", re.DOTALL)


class OsloLine:
    """One oslo.log line, split; ``ids`` as ``context_ids`` gives them (``NO_IDS`` if none)."""

    __slots__ = ("ids", "instance_id", "level", "message", "module", "severity", "time")

    def __init__(
        self,
        time: datetime | None = None,
        severity: str | None = None,
        level: str = "",
        module: str = "",
        message: str = "",
        ids: IdTuple = NO_IDS,
        instance_id: str | None = None,
    ) -> None:
        self.time = time
        self.severity = severity
        self.level = level
        self.module = module
        self.message = message
        self.ids = ids
        self.instance_id = instance_id


def parse_oslo(text: str) -> OsloLine | None:
    """Split an oslo.log line, or None when ``text`` is not one."""
    m = _OSLO.match(text)
    if m is None:
        return None
    date, frac, level, module, ctx, msg = m.groups()
    ids = NO_IDS
    instance = None
    if ctx is not None:
        if ctx.startswith("instance: "):
            instance = ctx[10:].strip()
        else:
            ids = context_ids(ctx)
    if msg.startswith("[instance: "):
        end = msg.find("]")
        if end > 0:
            instance = msg[11:end].strip()
            msg = msg[end + 2:] if msg[end + 1:end + 2] == " " else msg[end + 1:]
    return OsloLine(
        iso_time(date, frac) if date is not None else None,
        SEVERITIES.get(level) or level.lower(), level, module, msg, ids, instance,
    )


def context_ids(ctx: str) -> IdTuple:
    """(request_id, global_request_id, user_id, project_id) from a ``[...]`` context."""
    parts = ctx.split()
    if len(parts) >= 3 and parts[0][:4] == "req-" and parts[1][:4] != "req-":  # the usual shape
        u, p = parts[1], parts[2]
        return (parts[0], None, None if u == "-" or u == "None" else u,
                None if p == "-" or p == "None" else p)
    if not parts:
        return NO_IDS
    if parts[0] == "None":
        del parts[0]
    global_id = None
    if len(parts) >= 2 and parts[0].startswith("req-") and parts[1].startswith("req-"):
        global_id = parts.pop(0)
    if not parts or not parts[0].startswith("req-"):
        return NO_IDS
    n = len(parts)
    user = parts[1] if n > 1 and parts[1] not in ("-", "None") else None
    project = parts[2] if n > 2 and parts[2] not in ("-", "None") else None
    return parts[0], global_id, user, project


def is_trace(line: OsloLine) -> bool:
    """Traceback frames and continuation lines: known, but they carry no event."""
    msg = line.message
    return line.level == "TRACE" or (
        line.severity == "error" and (not msg or msg[0] == " " or msg.startswith("Traceback"))
    ) or line.module == "" or msg == ""
