"""Splitting a stored or received line into its syslog/transport header and message.

One parser for files and the network alike, so a fix in one is a fix in the
other. It reads: RFC 3164 (``<PRI>Mmm dd HH:MM:SS host prog[pid]:``, with or
without PRI), RFC 5424 with structured data (``<PRI>1 STAMP host app procid
msgid [sd] msg``, also as rsyslog's ``RSYSLOG_SyslogProtocol23Format`` writes it
to a file), Cisco IOS's message counter and sequence number (``<186>45: *Mar  1
00:01:02.345:``, with the ``*``/``.`` clock-sync markers), a PRI followed only by
an ident (Python's ``SysLogHandler`` sends ``<14>ident: msg``, ``<14>ident[pid]:``
or ``<14>msg``), journald's short-precise/short-iso forms, OpenWrt's logread form
with weekday and year, NX-OS's year-first stamp, loghub's source-file-name prefix
and grep's ``path:`` prefix. Parsers only see the message plus what the header
told us (time, host, program, severity, and RFC 5424's msgid and structured data).

Every pattern is anchored at one position and has no nested unbounded repeat, and
the file-name prefix is found by ``file_prefix`` in one pass: the work per line is
linear in its length (a 64 KB line of ``a.log.`` took seconds with the old regex).
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
    """What the transport wrapper said about a line; every field may be unknown.

    ``severity`` is the syslog PRI's (or OpenWrt's level word): a parser's own level
    wins over it (``adapters.logs.base.pick_severity``). ``msgid`` and ``sd`` are
    RFC 5424's MSGID and raw STRUCTURED-DATA (Junos puts its message tag in MSGID).
    """

    __slots__ = ("host", "message", "msgid", "program", "sd", "severity", "time")

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
        self.msgid: str | None = None
        self.sd: str | None = None

    def __repr__(self) -> str:
        return (
            f"Header(time={self.time!r}, host={self.host!r}, program={self.program!r}, "
            f"message={self.message[:40]!r})"
        )


# Cisco counter(s)? clock-sync marker? weekday? year? Mmm dd HH:MM:SS(.frac)? year? ':'?
# host? prog[pid]:?  Optional parts are ``(?:x|)``: Python runs ``(?:x)?`` as a repeat.
_BSD = compile_ascii_first(
    r"(?:\d{1,10}: (?:\d{1,10}: |)|)[*.]?(?:(?P<wd>[A-Z][a-z]{2}) |)(?:(?P<year0>\d{4}) |)"
    r"(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<clock>\d\d:\d\d:\d\d)(?:\.(?P<frac>\d+)|)"
    r"(?: (?P<year>\d{4})|):? +(?:(?P<host>[^\s:\[%]+) +|)"
    r"(?:(?P<prog>[\w./@-]+)(?:\[\d+\]|): ?|)(?P<msg>.*)\Z",
    re.DOTALL,
)
_ISO = compile_ascii_first(
    r"(?P<stamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(?P<frac>\d+)|)"
    r"(?P<zone>Z|[+-]\d\d:?\d\d|) (?P<host>\S+) (?:(?P<prog>[\w./@-]+)(?:\[\d+\]|): ?|)"
    r"(?P<msg>.*)\Z",
    re.DOTALL,
)
# RFC 5424 after its PRI: VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID
# SP STRUCTURED-DATA [SP MSG]; SD elements may hold escaped ``\]``. rsyslog's protocol-23
# template writes a relayed RFC 3164 message with its leading space (``- -  text``).
_RFC5424 = compile_ascii_first(
    r"1 (?:-|(?P<stamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(?P<frac>\d+)|)"
    r"(?P<zone>Z|[+-]\d\d:\d\d)) (?P<host>\S+) (?P<app>\S+) \S+ (?P<msgid>\S+) "
    r"(?P<sd>-|(?:\[(?:[^\]\\]++|\\.)*+\])++) *(?P<msg>.*)\Z",
    re.DOTALL,
)
#: ``prog[pid]:`` with nothing before it (a file with no timestamps).
_PROG_ONLY = compile_ascii_first(r"(?P<prog>[\w./@-]+)\[\d+\]: ?(?P<msg>.*)\Z", re.DOTALL)
#: After a PRI without timestamp, the ident ``SysLogHandler`` prepends: ``x:`` or ``x[pid]:``.
_IDENT = compile_ascii_first(r"(?P<prog>[\w./@-]+)(?:\[\d+\]: ?|: )(?P<msg>.*)\Z", re.DOTALL)
_TOKEN = re.compile(r"[^\s:]*")
_NONSPACE = re.compile(r"\S*")
_LEVELS = {"emerg": "critical", "alert": "critical", "crit": "critical", "err": "error",
           "warn": "warning", "warning": "warning", "notice": "info", "info": "info",
           "debug": "debug"}
_NIL = "-"

#: The file-name prefix matched last. A prefix ending in a space is all ``file_prefix``
#: looks at (it stops at that space), so a line that starts with it matches it again:
#: consecutive lines of one dump share it, and the check is a ``startswith``.
_last_prefix = ""


def file_prefix(line: str, pos: int = 0) -> str:
    """The file-name prefix at ``pos`` (``x.log:`` or ``x.log[.suffix] ``), or "".

    The same prefix as ``[^\\s:]*\\.log(?::|(?:\\.\\S*)? )`` matches there, found in
    one pass (that pattern backtracks over every ``.log`` it meets: quadratic).
    """
    m = _TOKEN.match(line, pos)
    assert m is not None  # both patterns match the empty string
    run = m.end()  # no whitespace, no colon
    if line.find(".log", pos, run) < 0:
        return ""  # both forms have ".log" before any colon or whitespace
    if run < len(line) and line[run] == ":" and line.endswith(".log", pos, run):
        return line[pos:run + 1]
    t = _NONSPACE.match(line, run)
    assert t is not None
    token = t.end()
    if token >= len(line) or line[token] != " ":
        return ""
    if (run == token and line.endswith(".log", pos, run)) or line.find(".log.", pos, run) >= 0:
        return line[pos:token + 1]
    return ""


#: File-name prefixes taken off one line at most (a grep over loghub dumps has two); the
#: rest is sliced off each time, so a bound keeps a hostile line of prefixes linear.
_MAX_PREFIXES = 4


def split_header(line: str, year: int, month: int = 0) -> Header:
    """Split ``line``; a line with no recognisable header is all message.

    ``year`` and ``month`` are the stream's clock, for a stamp without a year
    (``timeparse.rolled_year``; month 0: take ``year`` as is). A file-name prefix is
    taken off and the rest split again, as many times as there are prefixes (up to
    ``_MAX_PREFIXES``). A stamp that names no instant raises ``BadTime``.
    """
    global _last_prefix
    prefixes = 0
    while line:
        c = line[0]
        if c.isdigit():
            if len(line) > 10 and line[4] == "-":  # the common oslo line: no header at all
                if line[10] == "T":
                    return _iso(line, 0, None) or Header(line)
                return Header(line)
            return _bsd(line, 0, year, None, month) or Header(line)
        if c == "<":
            return _after_pri(line, 0, year, month)
        if c == "*" or c.isupper():
            return _bsd(line, 0, year, None, month) or Header(line)
        if c == "." and line[1:2].isupper():
            head = _bsd(line, 0, year, None, month)
            if head is not None:
                return head
        if prefixes == _MAX_PREFIXES:
            break
        prefixes += 1
        if _last_prefix and line.startswith(_last_prefix):
            line = line[len(_last_prefix):]
            continue
        prefix = file_prefix(line)
        if not prefix:
            m = _PROG_ONLY.match(line)
            if m is not None:
                return Header(m.group("msg"), program=m.group("prog"))
            break
        if prefix[-1] == " ":
            _last_prefix = prefix
        line = line[len(prefix):]
    return Header(line)


def _stamped(line: str, pos: int, c: str, year: int, severity: str | None,
             month: int) -> Header | None:
    """A header that starts with a timestamp (or Cisco's counter) at ``pos``, or None."""
    if c.isdigit():
        if line[pos + 4:pos + 5] == "-":
            if line[pos + 10:pos + 11] == "T":
                return _iso(line, pos, severity)
            return None
        return _bsd(line, pos, year, severity, month)
    if c.isupper() or c == "*" or (c == "." and line[pos + 1:pos + 2].isupper()):
        return _bsd(line, pos, year, severity, month)
    return None


def _after_pri(line: str, pos: int, year: int, month: int) -> Header:
    """``<PRI>`` then RFC 5424, a stamped RFC 3164 header, an ident, or bare text."""
    end = line.find(">", pos + 1, pos + 5)
    if end < 0 or not line[pos + 1:end].isdigit():
        return Header(line[pos:] if pos else line)
    severity = PRI_SEVERITY[int(line[pos + 1:end]) & 7]
    pos = end + 1
    if line.startswith("1 ", pos):
        m = _RFC5424.match(line, pos)
        if m is not None:
            stamp, frac, zone, host, app, msgid, sd, msg = m.groups()
            head = Header(msg[1:] if msg[:1] == "\ufeff" else msg,
                          iso_time(stamp, frac, zone) if stamp is not None else None,
                          None if host == _NIL else host, None if app == _NIL else app,
                          severity)
            head.msgid = None if msgid == _NIL else msgid
            head.sd = None if sd == _NIL else sd
            return head
    if pos < len(line):
        stamped = _stamped(line, pos, line[pos], year, severity, month)
        if stamped is not None:
            return stamped
        m = _IDENT.match(line, pos)
        if m is not None:
            return Header(m.group("msg"), program=m.group("prog"), severity=severity)
    return Header(line[pos:], severity=severity)


def _bsd(line: str, pos: int, year: int, severity: str | None, month: int) -> Header | None:
    m = _BSD.match(line, pos)
    if m is None:
        return None
    wd, year0, mon, day, clock, frac, year1, host, prog, msg = m.groups()
    y = year1 or year0
    time = bsd_time(mon, day, clock, int(y), frac) if y else \
        bsd_time(mon, day, clock, year, frac, month)
    if wd is not None and host and "." in host:  # OpenWrt: facility.level, no host
        severity = _LEVELS.get(host.rsplit(".", 1)[1], severity)
        host = None
    if prog is not None and prog.isdigit():  # relayed Cisco: "host 45: *Mar  1 ...:"
        inner = _bsd(line, m.start("msg"), year, severity, month)
        if inner is not None:
            inner.host = inner.host or host
            return inner
    return Header(msg, time, host, prog, severity)


def _iso(line: str, pos: int, severity: str | None) -> Header | None:
    m = _ISO.match(line, pos)
    if m is None:
        return None
    stamp, frac, zone, host, prog, msg = m.groups()
    return Header(msg, iso_time(stamp, frac, zone or None), host, prog, severity)
