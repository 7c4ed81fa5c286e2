"""oslo.log lines, read from the format strings that wrote them.

oslo.log's ``ContextFormatter`` writes a record with ``logging_context_format_string``
when it has a request context, ``logging_default_format_string`` when not, and every
traceback line behind ``logging_exception_prefix``; ``%(user_identity)s`` is itself
``logging_user_identity_format``. A format string is data: ``oslo_format`` turns one
site's strings into the regexes that read them back, so an operator's override is
read as written and the user/project order never has to be guessed.

``KNOWN_FORMATS`` are the layouts clouds ship with (oslo.log's defaults since Train,
Pike..Stein, before Pike, Kilo's ``TRACE`` prefix, Grizzly's ``log_format``, DevStack's
journald layout); ``AUTO`` tries them, then ``LEGACY``: the tolerant head the corpus's
other shapes need (contexts of unknown width, journald lines without a format).
``JSONFormatter`` lines (one object per line) are read by key. ANSI colour sequences
(DevStack) are dropped first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

import orjson

from adapters.logs.build import NO_IDS, SEVERITIES, IdTuple
from adapters.logs.fastre import compile_ascii_first
from adapters.logs.timeparse import epoch_time, iso_time

#: oslo.log's defaults (``oslo_log._options``, 8.x).
DEFAULT_CONTEXT = ("%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s "
                   "[%(global_request_id)s %(request_id)s %(user_identity)s] "
                   "%(instance)s%(message)s")
DEFAULT_DEFAULT = ("%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [-] "
                   "%(instance)s%(message)s")
DEFAULT_EXCEPTION_PREFIX = "%(asctime)s.%(msecs)03d %(process)d ERROR %(name)s %(instance)s"
DEFAULT_USER_IDENTITY = ("%(user)s %(project)s %(domain)s %(system_scope)s "
                         "%(user_domain)s %(project_domain)s")
DEFAULT_DEBUG_SUFFIX = "%(funcName)s %(pathname)s:%(lineno)d"
#: Pike..Stein: ``global_request_id`` added (Pike), ``system_scope`` not yet (Train).
PIKE_USER_IDENTITY = "%(user)s %(tenant)s %(domain)s %(user_domain)s %(project_domain)s"
#: Before Pike: no global request id.
PRE_PIKE_CONTEXT = ("%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s "
                    "[%(request_id)s %(user_identity)s] %(instance)s%(message)s")
#: DevStack's ``setup_systemd_logging`` (journald adds the time): project *name*, then user.
DEVSTACK_CONTEXT = ("%(color)s%(levelname)s %(name)s [%(global_request_id)s %(request_id)s "
                    "%(project_name)s %(user_name)s%(color)s] %(instance)s%(color)s%(message)s")
DEVSTACK_DEFAULT = "%(color)s%(levelname)s %(name)s [-%(color)s] %(instance)s%(color)s%(message)s"
DEVSTACK_EXCEPTION_PREFIX = "ERROR %(name)s %(instance)s"
DEVSTACK_DEBUG_SUFFIX = "{{(pid=%(process)d) %(funcName)s %(pathname)s:%(lineno)d}}"
#: Until Kilo the exception prefix wrote ``TRACE`` where it now writes ``ERROR``.
KILO_EXCEPTION_PREFIX = "%(asctime)s.%(msecs)03d %(process)d TRACE %(name)s %(instance)s"
#: Grizzly's ``log_format`` (openstack.common.log), lines without a request context.
GRIZZLY_DEFAULT = "%(asctime)s %(levelname)8s [%(name)s] %(message)s"

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_FIELD = re.compile(r"%\((\w+)\)([-#0 +]*)(\d*)(?:\.\d+)?[sdifrx]")
_ID_FIELDS: dict[str, str] = {
    "request_id": "request_id", "global_request_id": "global_request_id",
    "user": "user", "user_id": "user", "tenant": "project", "project": "project",
    "project_id": "project", "user_name": "user_name", "project_name": "project_name",
}
_ID = r"[^\s\]]+"
#: What each field oslo.log knows looks like; a field not listed is one token.
_FIELD_PATTERNS: dict[str, str] = {
    "asctime": r"(?P<date>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)",
    "msecs": r"(?P<frac>\d+)",
    "process": r"\d+",
    "levelname": r"(?P<level>[A-Z]+)",
    "name": r"(?P<logger>[^ \[\]]+)",
    "instance": r"(?:\[instance: (?P<instance>[^\]]*)\] |)",
    "resource": r"(?:\[[^\]]*\] |)",
    "message": r"(?P<msg>.*)",
}


class OsloLine:
    """One oslo.log line, split.

    ``ids`` are (request_id, global_request_id, user_id, project_id), ``NO_IDS`` if
    none; ``names`` (user name, project name) when the format writes names; ``trace``
    marks a line written behind the exception prefix; ``exception`` is the summary of
    a record's exception when the format keeps it apart (JSON's ``error_summary``).
    """

    __slots__ = ("exception", "ids", "instance_id", "level", "message", "module", "names",
                 "severity", "time", "trace")

    def __init__(
        self,
        time: datetime | None = None,
        severity: str | None = None,
        level: str = "",
        module: str = "",
        message: str = "",
        ids: IdTuple = NO_IDS,
        instance_id: str | None = None,
        names: tuple[str | None, str | None] = (None, None),
        trace: bool = False,
        exception: str | None = None,
    ) -> None:
        self.time = time
        self.severity = severity
        self.level = level
        self.module = module  # the logger name, e.g. nova.compute.manager
        self.message = message
        self.ids = ids
        self.instance_id = instance_id
        self.names = names
        self.trace = trace
        self.exception = exception


def _none(value: str | None) -> str | None:
    return None if value is None or value == "-" or value == "None" or value == "" else value


def _literal(text: str) -> str:
    return re.escape(text.replace("%%", "%"))


def _clean(fmt: str) -> str:
    return _ANSI.sub("", fmt.replace("%(color)s", "").replace("\\033", "\x1b"))


def format_runs(fmt: str, user_identity: str = DEFAULT_USER_IDENTITY,
                ) -> tuple[str, list[list[str]]]:
    """The regex (source) that reads what ``fmt`` writes, and its runs of tokens.

    ``%(color)s`` and literal ANSI sequences are dropped (lines are read with their
    colours taken off); ``%(user_identity)s`` is expanded by ``user_identity``. Fields
    without a pattern of their own (ids, names, domains, scope) are one token each; a
    run of them separated by single spaces is captured as one group ``runN`` (and split
    in Python), which ``re`` matches faster than a group per token. ``runs[N]`` names
    the run's fields in order.
    """
    fmt = _clean(fmt).replace("%(user_identity)s", _clean(user_identity))
    parts: list[tuple[str, str, str, str]] = []  # (literal before, field, flags, width)
    pos = 0
    for m in _FIELD.finditer(fmt):
        parts.append((fmt[pos:m.start()], m.group(1), m.group(2), m.group(3)))
        pos = m.end()
    tail = fmt[pos:]
    out: list[str] = []
    runs: list[list[str]] = []
    seen: set[str] = set()
    open_run: list[str] | None = None

    def close(run: list[str], before: str) -> str:
        """A run's group: before a ``]`` one class (``Layout.fits`` counts its tokens),
        elsewhere the tokens themselves."""
        runs.append(run)
        if before.startswith("]"):
            return f"(?P<run{len(runs) - 1}>[^\\]]*)"
        more = "" if len(run) == 1 else f"(?: [^ \\]]+){{{len(run) - 1}}}"
        return f"(?P<run{len(runs) - 1}>[^ \\]]+{more})"

    for literal, name, flags, width in parts:
        token = name not in _FIELD_PATTERNS and not width
        if open_run is not None and token and literal == " ":
            open_run.append(name)  # the run goes on
            continue
        if open_run is not None:
            out.append(close(open_run, literal))
            open_run = None
        out.append(_literal(literal))
        if token:
            open_run = [name]
            continue
        group = _ID_FIELDS.get(name, name)
        pattern = _FIELD_PATTERNS.get(name, r"[^ \]]*")
        if group in seen:  # a field written twice is captured once
            pattern = re.sub(r"\(\?P<\w+>", "(?:", pattern)
        if width and "0" not in flags:  # ``%(levelname)8s``: padded before, or after
            pattern = pattern + " *" if "-" in flags else " *" + pattern
        seen.add(group)
        out.append(pattern)
    if open_run is not None:
        out.append(close(open_run, tail))
    out.append(_literal(tail))
    return "".join(out), runs


def format_pattern(fmt: str, user_identity: str = DEFAULT_USER_IDENTITY) -> str:
    """The regex (source) that reads what ``fmt`` writes (see ``format_runs``)."""
    return format_runs(fmt, user_identity)[0]


#: The id and name slots a layout fills from its runs, in ``line``'s order.
_SLOTS = ("request_id", "global_request_id", "user", "project", "user_name", "project_name")
#: What ``Layout.values`` reads of a line: (time, severity, level, logger, ids, instance,
#: (user name, project name)).
Values = tuple[datetime | None, str | None, str, str, IdTuple, str | None,
               tuple[str | None, str | None]]
#: Head fields taken from their own groups (a field the format lacks: an empty group).
_HEAD = ("date", "frac", "level", "logger", "instance")


class Layout:
    """One format string compiled: ``match`` a line, ``line`` builds its ``OsloLine``."""

    def __init__(self, name: str, fmt: str, user_identity: str = DEFAULT_USER_IDENTITY,
                 trace: bool = False) -> None:
        self.name = name
        self.format = fmt
        self.trace = trace
        self.role = "trace" if trace else "record"
        head, runs = format_runs(fmt, user_identity)
        if not head.endswith("(?P<msg>.*)"):
            raise ValueError(f"an oslo.log format must end with %(message)s: {fmt!r}")
        head = head[: -len("(?P<msg>.*)")]
        # every head field has a group, so ``line`` picks them by position, no look-ups
        missing = "".join(f"(?P<{g}>)" for g in _HEAD if f"(?P<{g}>" not in head)
        self.head = missing + head
        self.regex = compile_ascii_first(self.head + r"(?P<msg>.*)\Z", re.DOTALL)
        index = self.regex.groupindex
        if "(?P<level>)" in missing and not trace:
            raise ValueError(f"an oslo.log format needs %(levelname)s: {fmt!r}")
        self._head = itemgetter(*(index[g] - 1 for g in _HEAD))
        self._runs = tuple(index[f"run{i}"] - 1 for i in range(len(runs)))
        #: (group, spaces) of each run read as one class: its width is its format's
        self._widths = tuple((index[f"run{i}"] - 1, len(run) - 1) for i, run in enumerate(runs)
                             if f"(?P<run{i}>[^\\]]*)" in self.head)
        self._width1 = self._widths[0] if len(self._widths) == 1 else None
        self._one_run = self._runs[0] if len(self._runs) == 1 else -1
        names = [_ID_FIELDS.get(n, n) for run in runs for n in run]
        # a slot the format lacks reads the "-" appended after the run's tokens
        self._slots = itemgetter(*(names.index(s) if s in names else len(names)
                                   for s in _SLOTS))
        self.has_ids = any(s in names for s in _SLOTS[:4])
        self.has_names = any(s in names for s in _SLOTS[4:])
        self.ngroups = self.regex.groups - 1  # the head's groups, without msg
        self.lookahead = ""
        self._fused: dict[str, re.Pattern[str]] = {}

    def fits(self, g: Sequence[str | None]) -> bool:
        """Whether a match's bracketed runs hold as many tokens as the format writes
        (what tells the formats apart: 8, 7, 6 or 4 fields in the context)."""
        one = self._width1
        if one is not None:  # the usual layout: one bracketed context
            run: str = g[one[0]]  # type: ignore[assignment]  # a run always takes part
            return run.count(" ") == one[1] and "  " not in run \
                and not run.startswith(_NOT_A_RUN)
        for i, spaces in self._widths:
            run = g[i]  # type: ignore[assignment]
            # (a traceback line's ``[instance: x]`` is no context)
            if run.count(" ") != spaces or "  " in run or run.startswith(_NOT_A_RUN):
                return False
        return True

    def fused(self, body: str) -> re.Pattern[str]:
        """The head followed by ``body`` in one atomic regex (the head never backtracks)."""
        regex = self._fused.get(body)
        if regex is None:
            regex = self._fused[body] = compile_ascii_first(
                f"(?>{self.head}){self.lookahead}" + body, re.DOTALL)
        return regex

    def fitting_values(self, g: Sequence[str | None], check: bool = True) -> Values | None:
        """``values(g)`` when ``fits(g)``, else None, the usual one-run context split once
        for both, in one call (the usual line's). A context that ends in an empty token,
        which ``fits`` lets by, is None here too: the caller reads it the plain way.
        ``check=False``: ``values(g)``, fitting or not."""
        date, frac, level, logger, instance = self._head(g)
        one = self._one_run
        if one >= 0:
            tokens = g[one].split(" ")  # type: ignore[union-attr]  # a run always takes part
            width = self._width1
            if check and width is not None and (
                    len(tokens) != width[1] + 1 or "" in tokens
                    or tokens[0].startswith("instance:")):
                return None
        else:
            if check and self._widths and not self.fits(g):
                return None
            tokens = [t for i in self._runs for t in g[i].split(" ")]  # type: ignore[union-attr]
        tokens.append("-")
        request, global_request, user, project, user_name, project_name = self._slots(tokens)
        if not level:
            level = "ERROR"  # an exception prefix may name no level: it is always ERROR
        null = _NULL
        return (
            iso_time(date, frac or None) if date else None,
            SEVERITIES.get(level) or level.lower(), level, logger or "",
            (None if request in null else request,
             None if global_request in null else global_request,
             None if user in null else user, None if project in null else project)
            if self.has_ids else NO_IDS,
            None if instance in null else instance,
            (None if user_name in null else user_name,
             None if project_name in null else project_name) if self.has_names else _NO_NAMES,
        )

    def values(self, g: Sequence[str | None]) -> Values:
        """(time, severity, level, logger, ids, instance, names) of a match's groups."""
        read = self.fitting_values(g, check=False)
        assert read is not None  # nothing is refused unchecked
        return read

    def line(self, g: Sequence[str | None], message: str) -> OsloLine:
        """The ``OsloLine`` of a match's groups (head groups first) and its message."""
        time, severity, level, logger, ids, instance, names = self.values(g)
        return OsloLine(time, severity, level, logger, message, ids, instance, names,
                        self.trace)


_NO_NAMES: tuple[None, None] = (None, None)
_NOT_A_RUN = (" ", "instance:")
#: What oslo.log writes for a missing value.
_NULL = frozenset({None, "-", "None", ""})


class LegacyLayout(Layout):
    """The corpus's older shapes, split by a tolerant head and ``context_ids``."""

    HEAD = (
        r"(?:(?P<date>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.(?P<frac>\d+)|) +(?:\d+ +|)|)"
        r"(?P<level>[A-Z]+) +\[?(?P<logger>[a-z][\w.]*)\]? (?:\[(?P<ctx>[^\]]*)\] ?|)"
    )

    def __init__(self) -> None:
        self.name = "legacy"
        self.format = ""
        self.trace = False
        self.role = "legacy"
        self.head = self.HEAD
        self.regex = compile_ascii_first(self.HEAD + r"(?P<msg>.*)\Z", re.DOTALL)
        self.ngroups = 5
        # an ``[instance: ..]`` prefix is taken off the message, after the match
        self.lookahead = r"(?!\[instance: )"
        self._widths = ()
        self._width1 = None
        self._fused = {}

    def line(self, g: Sequence[str | None], message: str) -> OsloLine:
        date, frac, level, module, ctx = g[:5]
        assert level is not None and module is not None
        ids = NO_IDS
        instance = None
        if ctx is not None:
            if ctx.startswith("instance: "):
                instance = ctx[10:].strip()
            else:
                ids = context_ids(ctx)
        if message.startswith("[instance: "):
            end = message.find("]")
            if end > 0:
                instance = message[11:end].strip()
                message = message[end + 2:] if message[end + 1:end + 2] == " " \
                    else message[end + 1:]
        return OsloLine(iso_time(date, frac) if date is not None else None,
                        SEVERITIES.get(level) or level.lower(), level, module, message, ids,
                        instance)


class OsloFormat:
    """One site's layouts: context, default and exception prefix, tried in that order.

    The order matters: an exception prefix (``... ERROR name <message>``) would also
    match a context line, taking its context as message.
    """

    __slots__ = ("_suffix", "_suffix_spaces", "debug_suffix", "layouts", "name")

    def __init__(self, name: str, layouts: tuple[Layout, ...],
                 debug_suffix: str = DEFAULT_DEBUG_SUFFIX) -> None:
        self.name = name
        self.layouts = layouts
        self.debug_suffix = debug_suffix
        suffix = _ANSI.sub("", debug_suffix.replace("\\033", "\x1b"))
        self._suffix_spaces = suffix.count(" ") + 1
        self._suffix = re.compile(format_pattern(suffix) + r"\Z") if suffix else None

    def __repr__(self) -> str:
        return f"OsloFormat({self.name!r})"

    def strip_debug_suffix(self, message: str) -> str:
        """A DEBUG message without ``logging_debug_format_suffix`` (``func path:line``)."""
        suffix = self._suffix
        if suffix is None:
            return message
        parts = message.rsplit(" ", self._suffix_spaces)
        if len(parts) > 1 and suffix.match(" ".join(parts[1:])):
            return parts[0]
        return message


def oslo_format(context: str = DEFAULT_CONTEXT, default: str | None = None,
                user_identity: str = DEFAULT_USER_IDENTITY,
                exception_prefix: str = DEFAULT_EXCEPTION_PREFIX,
                debug_suffix: str = DEFAULT_DEBUG_SUFFIX, name: str = "site") -> OsloFormat:
    """A site's oslo.log options (``logging_context_format_string``, ``..._default_...``,
    ``logging_user_identity_format``, ``logging_exception_prefix``,
    ``logging_debug_format_suffix``) as the layouts that read its lines.

    ``default`` unset: the context format with its bracketed context written ``[-]``
    (what oslo.log's own default does).
    """
    if default is None:
        default = re.sub(r"\[[^\]]*%\((?:global_)?request_id\)s[^\]]*\]", "[-]", context)
    layouts = [Layout(f"{name}:context", context, user_identity),
               Layout(f"{name}:default", default, user_identity)]
    if exception_prefix:
        layouts.append(Layout(f"{name}:exception", exception_prefix + "%(message)s",
                              user_identity, trace=True))
    unique = {layout.head: layout for layout in layouts}  # default == context: once
    return OsloFormat(name, tuple(unique.values()), debug_suffix)


def format_from_config(spec: str | dict[str, Any]) -> OsloFormat:
    """The ``format:`` option of a followed file: a known format's name, a
    ``logging_context_format_string``, or a mapping of oslo.log option names."""
    if isinstance(spec, str):
        known = {f.name: f for f in KNOWN_FORMATS}
        if spec in known:
            return known[spec]
        if spec == "json":
            return JSON_FORMAT
        return oslo_format(spec)
    keys = {"logging_context_format_string": "context",
            "logging_default_format_string": "default",
            "logging_user_identity_format": "user_identity",
            "logging_exception_prefix": "exception_prefix",
            "logging_debug_format_suffix": "debug_suffix"}
    unknown = set(spec) - set(keys) - set(keys.values())
    if unknown:
        raise ValueError(f"unknown oslo.log format options: {sorted(unknown)}; "
                         f"known: {sorted(keys)}")
    return oslo_format(**{keys.get(k, k): v for k, v in spec.items()})


KNOWN_FORMATS: tuple[OsloFormat, ...] = (
    oslo_format(name="oslo"),
    oslo_format(user_identity=PIKE_USER_IDENTITY, name="oslo-pike"),
    oslo_format(PRE_PIKE_CONTEXT, user_identity=PIKE_USER_IDENTITY, name="oslo-pre-pike"),
    oslo_format(PRE_PIKE_CONTEXT, user_identity=PIKE_USER_IDENTITY,
                exception_prefix=KILO_EXCEPTION_PREFIX, name="oslo-kilo"),
    oslo_format(GRIZZLY_DEFAULT, GRIZZLY_DEFAULT, exception_prefix="", name="grizzly"),
    oslo_format(DEVSTACK_CONTEXT, DEVSTACK_DEFAULT, exception_prefix=DEVSTACK_EXCEPTION_PREFIX,
                debug_suffix=DEVSTACK_DEBUG_SUFFIX, name="devstack"),
)
LEGACY = OsloFormat("legacy", (LegacyLayout(),))
#: Not a text layout: ``OsloReader`` reads JSON lines by key (see ``parse_json``).
JSON_FORMAT = OsloFormat("json", ())
AUTO: tuple[OsloFormat, ...] = (*KNOWN_FORMATS, LEGACY)


def record_twin(layout: Layout) -> Layout | None:
    """The other record layout of ``layout``'s known format (its ``[-]`` layout for its
    context one, and back), or None: a site's own format, or one without two.

    A line the twin reads (and ``fits``) is read so by ``OsloReader.parse`` too, whatever
    its state, so a parser may try the twin first without asking the reader: the known
    formats' record layouts exclude each other (a context of four or more tokens, or
    ``[-]``, after the same head; Grizzly's and DevStack's heads differ from the start)
    but for identical ones (the ``[-]`` layouts of oslo.log's own formats, the contexts
    of pre-Pike and Kilo), which read a line alike; and the reader refuses an exception
    prefix's match that leaves a bracket (``[-]``, a context) after the logger name.
    """
    for fmt in KNOWN_FORMATS:
        if layout in fmt.layouts:
            records = [other for other in fmt.layouts if other.role == "record"]
            if len(records) == 2:
                return records[1] if records[0] is layout else records[0]
    return None


#: Per stream origin, the format and record layout that read its last line: a stream
#: read in batches (``parse_lines`` per delivery) starts where the last batch left off.
#: The known formats exclude each other, so the start changes no result, only its cost.
_origin_layouts: dict[str, tuple[OsloFormat, Layout]] = {}


def remember_layout(origin: str, fmt: OsloFormat, layout: Layout) -> None:
    """Note ``origin``'s usual layout (bounded: cleared past 4,096 streams)."""
    if len(_origin_layouts) >= 4096:
        _origin_layouts.clear()
    _origin_layouts[origin] = (fmt, layout)


#: Whether ``OsloReader.parse`` reads a line of the stream's usual layout itself (one
#: ``groups``, the context split once) before ``match``; the same line either way.
USUAL_FIRST = True


class OsloReader:
    """One stream's reader: its formats (``AUTO`` unless the site declared one).

    A stream keeps to one format, so the format that read the last line is tried
    first; the known formats exclude each other (their contexts differ in width), so
    the order changes no result. ``LEGACY`` reads almost anything: it stays last. Traceback lines
    take the request ids of the record they belong to (same time and logger).
    """

    __slots__ = ("_last", "_layout", "_trace", "formats", "json", "origin", "usual")

    def __init__(self, formats: OsloFormat | Sequence[OsloFormat] | None = None,
                 origin: str | None = None) -> None:
        if formats is None:
            formats = AUTO
        elif isinstance(formats, OsloFormat):
            formats = (formats,)
        self.formats: tuple[OsloFormat, ...] = tuple(formats)
        self.json = any(f is JSON_FORMAT for f in self.formats) or self.formats == AUTO
        self._last: OsloLine | None = None  # the last record line with ids
        #: the record layout that read the last record line, the prefix of the last trace
        self._layout: tuple[OsloFormat, Layout] | None = None
        #: The record layout that read the stream's last record line (None at first): a
        #: slot, kept with ``_layout``, since the nova-api parser reads it every line.
        self.usual: Layout | None = None
        self._trace: tuple[OsloFormat, Layout] | None = None
        self.origin = origin
        known = _origin_layouts.get(origin) if origin is not None else None
        if known is not None and known[0] in self.formats:  # a new parser of a known stream
            self._layout = known
            self.usual = known[1]
            self.formats = (known[0], *(f for f in self.formats if f is not known[0]))

    def match(self, text: str, skip_usual: bool = False,
              ) -> tuple[OsloFormat, Layout, re.Match[str]] | None:
        """The first layout that reads ``text``, its format moved to the front.

        Every format's record layouts are tried before any exception prefix: a prefix
        (``... ERROR name <message>``) also matches another format's record line; the
        catch-all ``LEGACY`` comes last of all. The stream's usual record layout is
        tried first, then the exception prefix that read its last traceback line when
        what it leaves is no bracketed context (a record line of another layout).
        """
        last = self._layout
        if last is not None and not skip_usual:  # the stream's usual line
            layout = last[1]
            m = layout.regex.match(text)
            if m is not None and (not layout._widths or layout.fits(m.groups())):
                return last[0], layout, m
        trace = self._trace
        if trace is not None:  # the next line of a traceback
            m = trace[1].regex.match(text)
            if m is not None:
                rest = m.group("msg")
                if rest[:1] != "[" or rest[:11] == "[instance: ":
                    return trace[0], trace[1], m
        formats = self.formats
        for role in ("record", "trace", "legacy"):
            for i, fmt in enumerate(formats):
                for layout in fmt.layouts:
                    if layout.role != role:
                        continue
                    m = layout.regex.match(text)
                    if m is not None and (not layout._widths or layout.fits(m.groups())):
                        if fmt is not LEGACY:  # the catch-all never goes first
                            if i:
                                self.formats = (fmt, *formats[:i], *formats[i + 1:])
                            if role == "trace":
                                self._trace = (fmt, layout)
                            else:
                                self._layout = (fmt, layout)
                                self.usual = layout
                                if self.origin is not None:
                                    remember_layout(self.origin, fmt, layout)
                        return fmt, layout, m
        return None

    def parse(self, text: str) -> OsloLine | None:
        """Split an oslo.log line (text or JSON), or None when ``text`` is not one.

        A DEBUG line loses its debug suffix; a traceback line gets the ids of its
        record (the last record line with ids, of the same time and logger).
        """
        if "\x1b" in text:
            text = _ANSI.sub("", text)
        if text[:1] == "{" and self.json:
            return parse_json(text)
        line = None
        usual = self._layout
        m = None
        if usual is not None and USUAL_FIRST:  # the stream's usual line, its groups taken once
            fmt, layout = usual
            m = layout.regex.match(text)
            if m is not None:
                g = m.groups()
                read = layout.fitting_values(g)
                if read is not None:
                    time, severity, level, logger, ids, instance, names = read
                    line = OsloLine(time, severity, level, logger, g[-1] or "", ids, instance,
                                    names, layout.trace)
        if line is None:
            # (the usual layout need not be tried again when its regex refused the line)
            found = self.match(text, skip_usual=usual is not None and USUAL_FIRST and m is None)
            if found is None:
                return None
            fmt, layout, m = found
            g = m.groups()
            line = layout.line(g, g[-1] or "")
        if line.level == "DEBUG":
            line.message = fmt.strip_debug_suffix(line.message)
        if line.trace:
            last = self._last
            if last is not None and last.module == line.module \
                    and _same_record(last.time, line.time):
                line.ids, line.names = last.ids, last.names
        elif line.ids is not NO_IDS:
            self._last = line
        return line


def _same_record(a: datetime | None, b: datetime | None) -> bool:
    """Two stamps of one record: equal, or one format writes no milliseconds or no time."""
    if a is None or b is None or a == b:
        return True
    return a.replace(microsecond=0) == b.replace(microsecond=0) and (
        a.microsecond == 0 or b.microsecond == 0)


def parse_json(text: str) -> OsloLine | None:
    """A ``JSONFormatter`` record: message, levelname, name, created, context, extra."""
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(obj, dict) or "levelname" not in obj or "message" not in obj:
        return None
    level = str(obj["levelname"])
    ctx = obj.get("context") or {}
    extra = obj.get("extra") or {}
    if not isinstance(ctx, dict):
        ctx = {}
    if not isinstance(extra, dict):
        extra = {}
    created = obj.get("created")
    time = epoch_time(created) if isinstance(created, int | float) else None
    instance = extra.get("instance_uuid") or ctx.get("resource_uuid")
    inst = extra.get("instance")
    if isinstance(inst, dict):
        instance = inst.get("uuid") or instance
    ids: IdTuple = (
        _none(ctx.get("request_id")), _none(ctx.get("global_request_id")),
        _none(ctx.get("user_id") or ctx.get("user")),
        _none(ctx.get("project_id") or ctx.get("project") or ctx.get("tenant")),
    )
    return OsloLine(
        time, SEVERITIES.get(level) or level.lower(), level, str(obj.get("name") or ""),
        str(obj["message"]), ids if any(ids) else NO_IDS, _none(instance),
        (_none(ctx.get("user_name")), _none(ctx.get("project_name"))),
        exception=_none(obj.get("error_summary")),
    )


_default_reader = OsloReader()


def parse_oslo(text: str) -> OsloLine | None:
    """Split an oslo.log line with the known formats (a parser keeps its own reader)."""
    return _default_reader.parse(text)


def context_ids(ctx: str) -> IdTuple:
    """(request_id, global_request_id, user_id, project_id) from a ``[...]`` context
    of unknown layout (``LEGACY``): ``req-X user project ...`` or ``None req-X ...``."""
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
    return line.trace or line.level == "TRACE" or (
        line.severity == "error" and (not msg or msg[0] == " " or msg.startswith("Traceback"))
    ) or line.module == "" or msg == ""


def oslo_data(line: OsloLine, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with what every oslo.log event keeps (``base.OSLO_DATA``): the logger
    name, and the user and project names when the format writes names."""
    data["logger"] = line.module or None
    user_name, project_name = line.names
    if user_name is not None:
        data["user_name"] = user_name
    if project_name is not None:
        data["project_name"] = project_name
    return data
