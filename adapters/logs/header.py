"""Splitting a stored or received line into its transport prefix and message.

Files hold the same application lines behind different wrappers: rsyslog's
``Mmm dd HH:MM:SS host prog[pid]:``, journald's short-precise form, OpenWrt's
logread form with weekday and year, NX-OS's year-first stamp, raw ``<PRI>``,
loghub's source-file-name prefix and grep's ``path:`` prefix. Parsers only see
the message plus what the wrapper told us (time, host, program).
"""

from __future__ import annotations

import re
from datetime import datetime

from adapters.logs.fastre import compile_ascii_first
from adapters.logs.timeparse import bsd_time, iso_time

PRI_SEVERITY: tuple[str, ...] = (
    "critical", "critical", "critical", "error", "warning", "info", "info", "debug",
)


class Header:
    """What the transport wrapper said about a line; every field may be unknown."""

    __slots__ = ("host", "message", "program", "severity", "time")

    def __init__(
        self,
        message: str,
        time: datetime | None = None,
        host: str | None = None,
        program: str | None = None,
        severity: str | None = None,
    ) -> None:
        self.message = message
        self.time = time
        self.host = host
        self.program = program
        self.severity = severity

    def __repr__(self) -> str:
        return (
            f"Header(time={self.time!r}, host={self.host!r}, program={self.program!r}, "
            f"message={self.message[:40]!r})"
        )


# <PRI>? weekday? year? Mmm dd HH:MM:SS(.frac)? year? ':'? host? prog[pid]:?
_BSD = compile_ascii_first(
    r"(?:<(?P<pri>\d{1,3})>)?\*?(?:(?P<wd>[A-Z][a-z]{2}) )?(?:(?P<year0>\d{4}) )?"
    r"(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<clock>\d\d:\d\d:\d\d)(?:\.(?P<frac>\d+))?"
    r"(?: (?P<year>\d{4}))?:? +(?:(?P<host>[^\s:\[%]+) +)?"
    r"(?:(?P<prog>[\w./@-]+)(?:\[\d+\])?: ?)?(?P<msg>.*)\Z",
    re.DOTALL,
)
_ISO = compile_ascii_first(
    r"(?:<(?P<pri>\d{1,3})>)?(?P<stamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(?P<frac>\d+))?"
    r"(?P<zone>Z|[+-]\d\d:?\d\d)? (?P<host>\S+) (?:(?P<prog>[\w./@-]+)(?:\[\d+\])?: ?)?"
    r"(?P<msg>.*)\Z",
    re.DOTALL,
)
_PROG_ONLY = compile_ascii_first(r"(?P<prog>[\w./@-]+)\[\d+\]: ?(?P<msg>.*)\Z", re.DOTALL)
_FILE_PREFIX = re.compile(r"[^\s:]*\.log(?::|(?:\.\S*)? )")
_LEVELS = {"emerg": "critical", "alert": "critical", "crit": "critical", "err": "error",
           "warn": "warning", "warning": "warning", "notice": "info", "info": "info",
           "debug": "debug"}


#: The file-name prefix matched last. A prefix ending in a space is all the regex looks
#: at (its runs stop at that space), so a line that starts with it matches it again:
#: consecutive lines of one dump share it, and the check is a ``startswith``.
_last_prefix = ""


def split_header(line: str, year: int) -> Header:
    """Split ``line``; a line with no recognisable wrapper is all message.

    A file-name prefix is taken off and the rest split again, as many times as
    there are prefixes (a grep over loghub dumps has two).
    """
    global _last_prefix
    while line:
        c = line[0]
        if c.isdigit():
            if len(line) > 10 and line[4] == "-":
                if line[10] == "T":
                    return _iso(line) or Header(line)
                return Header(line)
            if len(line) > 5 and line[4] == " ":
                return _bsd(line, year) or Header(line)
            return Header(line)
        if c == "<" or c == "*" or c.isupper():
            return _bsd(line, year) or Header(line)
        if _last_prefix and line.startswith(_last_prefix):
            line = line[len(_last_prefix):]
            continue
        m = _FILE_PREFIX.match(line)
        if m is None:
            m = _PROG_ONLY.match(line)
            if m is not None:
                return Header(m.group("msg"), program=m.group("prog"))
            return Header(line)
        prefix = m.group()
        if prefix[-1] == " ":
            _last_prefix = prefix
        line = line[len(prefix):]
    return Header(line)


def _bsd(line: str, year: int) -> Header | None:
    m = _BSD.match(line)
    if m is None:
        return None
    pri, wd, year0, mon, day, clock, frac, year1, host, prog, msg = m.groups()
    y = year1 or year0
    time = bsd_time(mon, day, clock, int(y) if y else year, frac)
    severity = PRI_SEVERITY[int(pri) & 7] if pri is not None else None
    if wd is not None and host and "." in host:  # OpenWrt: facility.level, no host
        severity = _LEVELS.get(host.rsplit(".", 1)[1], severity)
        host = None
    return Header(msg, time, host, prog, severity)


def _iso(line: str) -> Header | None:
    m = _ISO.match(line)
    if m is None:
        return None
    pri, stamp, frac, zone, host, prog, msg = m.groups()
    return Header(msg, iso_time(stamp, frac, zone), host, prog,
                  PRI_SEVERITY[int(pri) & 7] if pri is not None else None)
