"""What every line parser shares: the stream context and the parse contract.

A parser instance belongs to one stream (one file, one syslog sender), so a
parser that needs memory across lines (RabbitMQ's multi-line reports) keeps it
on itself and nothing leaks between streams.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar, Final

from adapters.deadletter import DeadLetters
from adapters.logs.header import Header
from adapters.logs.oslo import OsloFormat
from adapters.logs.stats import UnparsedStats
from engine.catalogue import EventSpec, event_spec
from engine.events import Event


class _Ignored:
    """Marker: the line is known and carries nothing (a traceback frame, a banner)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "IGNORED"


IGNORED: Final = _Ignored()

#: The default bound on a log line (characters): a longer one is cut to it, counted.
MAX_LINE: Final = 65536

Result = Event | _Ignored | None
#: Where a line sits in its stream: a byte offset, a sequence number, or a
#: generation-qualified offset (``<inode>:<offset>``) for a followed file.
Position = int | str


#: Envelope fields ``StreamEvents`` fills for every log event (``host`` when known).
LOG_ENVELOPE = ("origin", "service", "host", "severity")
#: The request ids an oslo log context carries (``adapters.logs.oslo.OsloLine.ids``).
OSLO_IDS = ("request_id", "global_request_id", "user_id", "project_id")
#: What every oslo.log event keeps in ``data``: the logger (``nova.compute.manager``) and,
#: when the format writes names instead of ids (DevStack), the user and project names.
OSLO_DATA = ("logger", "user_name", "project_name")


def emitting(types: Iterable[str], envelope: Iterable[str] = (),
          data: Iterable[str] = ()) -> dict[str, EventSpec]:
    """A parser's declaration: these types, with ``LOG_ENVELOPE`` + ``envelope`` and ``data``."""
    spec = event_spec((*LOG_ENVELOPE, *envelope), data)
    return dict.fromkeys(types, spec)


def pick_severity(own: str | None, head: Header, default: str | None = None) -> str | None:
    """The one precedence for an event's severity: the line's own level (an oslo
    ``ERROR``, a haproxy 5xx, a Cisco mnemonic's digit) wins; the syslog PRI fills in
    when the line carries none; the parser's ``default`` when neither does."""
    return own or head.severity or default


@dataclass
class StreamContext:
    """Where lines come from and what fills in what they leave out."""

    origin: str
    #: the stream's clock for stamps without a year: the year and month of its recent
    #: lines (``timeparse.rolled_year``); month 0 while unknown (``year`` is a hint)
    year: int = field(default_factory=lambda: datetime.now(UTC).year)
    default_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    host: str | None = None  # e.g. the syslog sender, or the file's configured host
    stats: UnparsedStats = field(default_factory=UnparsedStats)
    dead_letters: DeadLetters | None = None
    #: The site's oslo.log format (``adapters.logs.oslo.oslo_format``); None: the known ones.
    log_format: OsloFormat | None = None
    month: int = 0
    #: longer lines are cut to this many characters, and counted (``LINE_CUT``)
    max_line: int = MAX_LINE


class Parser:
    """One parser family; ``parse`` gets the line already split from its prefix."""

    kind: str = ""
    #: Every event type this parser builds, with the fields it may set (``validate``
    #: checks rules against it; ``tests/logs`` checks it against the corpus).
    emits: ClassVar[Mapping[str, EventSpec]] = {}

    def __init__(self, ctx: StreamContext) -> None:
        self.ctx = ctx
        #: Events completed as a side effect of a later line (multi-line records).
        self.ready: list[Event] = []

    def parse(self, head: Header, raw: str, position: Position) -> Result:
        """An Event, ``IGNORED`` for known noise, or None for an unknown line."""
        raise NotImplementedError

    def flush(self) -> list[Event]:
        """Records still held back (multi-line formats) at end of input or idle."""
        return []

    def time_of(self, head: Header) -> datetime:
        return head.time if head.time is not None else self.ctx.default_time
