"""oslo.log lines, read from the format strings that wrote them.

oslo.log's ``ContextFormatter`` writes a record with ``logging_context_format_string``
when it has a request context, ``logging_default_format_string`` when not, and every
traceback line behind ``logging_exception_prefix``; ``%(user_identity)s`` is itself
``logging_user_identity_format``. A format string is data: ``oslo_format`` turns one
site's strings into the regexes that read them back, so an operator's override is
read as written and the user/project order never has to be guessed.

``KNOWN_FORMATS`` are the layouts clouds ship with (oslo.log's defaults since Train,
Pike..Stein and before Pike, DevStack's journald layout); ``AUTO`` tries them, then
``LEGACY``: the tolerant head the corpus's older shapes need (Grizzly's
``LEVEL [module]``, contexts of unknown width). ``JSONFormatter`` lines (one object
per line) are read by key. ANSI colour sequences (DevStack) are dropped first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson

from adapters.logs.build import NO_IDS, SEVERITIES, IdTuple
from adapters.logs.fastre import compile_ascii_first
from adapters.logs.timeparse import iso_time

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

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_FIELD = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifrx]")
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
    "name": r"(?P<logger>[^\s\[\]]+)",
    "instance": r"(?:\[instance: (?P<instance>[^\]]*)\] |)",
    "resource": r"(?:\[[^\]]*\] |)",
    "message": r"(?P<msg>.*)",
}
_NONES: tuple[None, ...] = (None,) * 32
_GROUPS = ("date", "frac", "level", "logger", "instance", "msg", "request_id",
           "global_request_id", "user", "project", "user_name", "project_name")


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


def format_pattern(fmt: str, user_identity: str = DEFAULT_USER_IDENTITY) -> str:
    """The regex (source) that reads what ``fmt`` writes.

    ``%(color)s`` and literal ANSI sequences are dropped (lines are read with their
    colours taken off); ``%(user_identity)s`` is expanded by ``user_identity``.
    """
    fmt = _ANSI.sub("", fmt.replace("%(color)s", "").replace("\\033", "\x1b"))
    fmt = fmt.replace("%(user_identity)s", _ANSI.sub("", user_identity))
    out: list[str] = []
    seen: set[str] = set()
    pos = 0
    for m in _FIELD.finditer(fmt):
        out.append(_literal(fmt[pos:m.start()]))
        name = m.group(1)
        group = _ID_FIELDS.get(name, name)
        if name in _ID_FIELDS:
            pattern = f"(?P<{group}>{_ID})"
        else:
            # any other field (domain, system_scope, thread, ...) is one token
            pattern = _FIELD_PATTERNS.get(name, r"[^\s\]]*")
        if group in seen:  # a field written twice is captured once
            pattern = re.sub(r"\(\?P<\w+>", "(?:", pattern)
        seen.add(group)
        out.append(pattern)
        pos = m.end()
    out.append(_literal(fmt[pos:]))
    return "".join(out)


class Layout:
    """One format string compiled: ``match`` a line, ``line`` builds its ``OsloLine``."""

    def __init__(self, name: str, fmt: str, user_identity: str = DEFAULT_USER_IDENTITY,
                 trace: bool = False) -> None:
        self.name = name
        self.format = fmt
        self.trace = trace
        self.role = "trace" if trace else "record"
        self.head = format_pattern(fmt, user_identity)
        if not self.head.endswith("(?P<msg>.*)"):
            raise ValueError(f"an oslo.log format must end with %(message)s: {fmt!r}")
        self.head = self.head[: -len("(?P<msg>.*)")]
        self.regex = compile_ascii_first(self.head + r"(?P<msg>.*)\Z", re.DOTALL)
        index = self.regex.groupindex
        if "level" not in index and not trace:
            raise ValueError(f"an oslo.log format needs %(levelname)s: {fmt!r}")
        #: Positions in ``m.groups()`` (or -1): one tuple index per field, no name lookups.
        self.at: tuple[int, ...] = tuple(index.get(g, 0) - 1 for g in _GROUPS)
        # a field the format lacks reads the position past the groups: None (see ``_pick``)
        at = [i if i >= 0 else self.regex.groups + 20 for i in self.at]
        getter = itemgetter(*at)
        self._pick: Callable[[Sequence[str | None]], tuple[str | None, ...]] = \
            lambda g: getter((*g, *_NONES))
        self.ngroups = self.regex.groups - 1  # the head's groups, without msg
        self.lookahead = ""
        self._fused: dict[str, re.Pattern[str]] = {}

    def fused(self, body: str) -> re.Pattern[str]:
        """The head followed by ``body`` in one atomic regex (the head never backtracks)."""
        regex = self._fused.get(body)
        if regex is None:
            regex = self._fused[body] = compile_ascii_first(
                f"(?>{self.head}){self.lookahead}" + body, re.DOTALL)
        return regex

    def line(self, g: Sequence[str | None], message: str) -> OsloLine:
        """The ``OsloLine`` of a match's groups (head groups first) and its message."""
        date, frac, level, logger, instance, _msg, request, global_request, user, project, \
            user_name, project_name = self._pick(g)
        if level is None:
            level = "ERROR"  # an exception prefix may name no level: it is always ERROR
        null = _NULL
        return OsloLine(
            iso_time(date, frac) if date is not None else None,
            SEVERITIES.get(level) or level.lower(), level, logger or "", message,
            (None if request in null else request,
             None if global_request in null else global_request,
             None if user in null else user, None if project in null else project)
            if request is not None or user is not None else NO_IDS,
            None if instance in null else instance,
            (None if user_name in null else user_name,
             None if project_name in null else project_name), self.trace,
        )


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
        self.at = ()
        self.ngroups = 5
        # an ``[instance: ..]`` prefix is taken off the message, after the match
        self.lookahead = r"(?!\[instance: )"
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
    oslo_format(DEVSTACK_CONTEXT, DEVSTACK_DEFAULT, exception_prefix=DEVSTACK_EXCEPTION_PREFIX,
                debug_suffix=DEVSTACK_DEBUG_SUFFIX, name="devstack"),
)
LEGACY = OsloFormat("legacy", (LegacyLayout(),))
#: Not a text layout: ``OsloReader`` reads JSON lines by key (see ``parse_json``).
JSON_FORMAT = OsloFormat("json", ())
AUTO: tuple[OsloFormat, ...] = (*KNOWN_FORMATS, LEGACY)


class OsloReader:
    """One stream's reader: its formats (``AUTO`` unless the site declared one).

    A stream keeps to one format, so the format that read the last line is tried
    first; the known formats exclude each other (their contexts differ in width), so
    the order changes no result. ``LEGACY`` reads almost anything: it stays last. Traceback lines
    take the request ids of the record they belong to (same time and logger).
    """

    __slots__ = ("_last", "_layout", "formats", "json")

    def __init__(self, formats: OsloFormat | Sequence[OsloFormat] | None = None) -> None:
        if formats is None:
            formats = AUTO
        elif isinstance(formats, OsloFormat):
            formats = (formats,)
        self.formats: tuple[OsloFormat, ...] = tuple(formats)
        self.json = any(f is JSON_FORMAT for f in self.formats) or self.formats == AUTO
        self._last: tuple[Any, str, IdTuple, tuple[str | None, str | None]] | None = None
        self._layout: Layout | None = None  # the record layout that read the last line

    @property
    def first(self) -> OsloFormat:
        return self.formats[0]

    def match(self, text: str) -> tuple[OsloFormat, Layout, re.Match[str]] | None:
        """The first layout that reads ``text``, its format moved to the front.

        Every format's record layouts are tried before any exception prefix: a prefix
        (``... ERROR name <message>``) also matches another format's record line; the
        catch-all ``LEGACY`` comes last of all.
        """
        last = self._layout
        if last is not None:  # the stream's usual line
            m = last.regex.match(text)
            if m is not None:
                return self.formats[0], last, m
        formats = self.formats
        for role in ("record", "trace", "legacy"):
            for i, fmt in enumerate(formats):
                for layout in fmt.layouts:
                    if layout.role != role:
                        continue
                    m = layout.regex.match(text)
                    if m is not None:
                        if fmt is not LEGACY:  # the catch-all never goes first
                            if i:
                                self.formats = (fmt, *formats[:i], *formats[i + 1:])
                            self._layout = layout if role == "record" else None
                        return fmt, layout, m
        return None

    def parse(self, text: str) -> OsloLine | None:
        """Split an oslo.log line (text or JSON), or None when ``text`` is not one."""
        if "\x1b" in text:
            text = _ANSI.sub("", text)
        if text[:1] == "{" and self.json:
            return parse_json(text)
        found = self.match(text)
        if found is None:
            return None
        fmt, layout, m = found
        g = m.groups()
        return self.finish(fmt, layout.line(g, g[-1] or ""))

    def finish(self, fmt: OsloFormat, line: OsloLine) -> OsloLine:
        """Debug suffix off; a traceback line gets its record's ids (same time, logger)."""
        stamp = line.time
        if line.level == "DEBUG":
            line.message = fmt.strip_debug_suffix(line.message)
        if line.trace:
            last = self._last
            if last is not None and last[1] == line.module and _same_record(last[0], stamp):
                line.ids, line.names = last[2], last[3]
        elif line.ids is not NO_IDS:
            self._last = (stamp, line.module, line.ids, line.names)
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
    time = datetime.fromtimestamp(created, UTC) if isinstance(created, int | float) else None
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
