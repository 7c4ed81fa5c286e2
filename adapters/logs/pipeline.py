"""Raw lines in, Events out: the loop every log source shares.

Positions are what make a line's identity (``log_event_id``): a byte offset
for files, a sequence number for anything else. A line no parser knows is
counted, never raised; a parser bug on a strange line sends that line to the
dead letters with the error, and the stream goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from adapters.deadletter import DeadLetters
from adapters.logs.base import IGNORED, MAX_LINE, Parser, Position, StreamContext
from adapters.logs.errors import BadLine
from adapters.logs.header import split_header
from adapters.logs.oslo import OsloFormat
from adapters.logs.router import kind_for_origin, make_parser
from adapters.logs.stats import LINE_CUT, UnparsedStats
from engine.events import Event


def run_parser(parser: Parser, numbered: Iterable[tuple[Position, str]],
               flush: bool = True) -> Iterator[Event]:
    """Feed ``(position, line)`` pairs to one stream's parser, yielding its events.

    A line over the stream's ``max_line`` is cut to it (counted, ``LINE_CUT``); the
    stream's clock (``ctx.year``/``ctx.month``) follows the times of its headers.
    """
    ctx = parser.ctx
    origin, stats, max_line = ctx.origin, ctx.stats, ctx.max_line
    year, month = ctx.year, ctx.month
    parse, ready = parser.parse, parser.ready
    hits = 0
    try:
        for position, text in numbered:
            line = text.rstrip("\r\n")
            if not line:
                stats.ignore(origin)
                continue
            if len(line) > max_line:
                line = cut_line(ctx, line)
            try:
                head = split_header(line, year, month)
                result = parse(head, line, position)
            except Exception as exc:  # a bad line or a parser bug must not stop the stream
                reject(ctx, parser.kind, line, exc)
                continue
            t = head.time
            if t is not None and (t.month != month or t.year != year):
                year, month = t.year, t.month
            if result is None:
                stats.miss(origin, line)
            elif result is IGNORED:
                stats.ignore(origin)
            else:
                hits += 1
                yield result  # type: ignore[misc]
            if ready:
                hits += len(ready)
                yield from ready
                ready.clear()
    finally:
        ctx.year, ctx.month = year, month  # the next batch of this stream starts there
    if flush:
        tail = parser.flush()
        hits += len(tail)
        yield from tail
    stats.hit(origin, hits)


def cut_line(ctx: StreamContext, line: str) -> str:
    """``line`` cut to the stream's ``max_line``, counted as ``LINE_CUT``: a longer line
    is no log format's, and every pattern's work stays bounded by the cap."""
    ctx.stats.limit(ctx.origin, LINE_CUT)
    return line[:ctx.max_line]


def failure_reason(kind: str, exc: Exception) -> str:
    """A dead letter's reason for a line that raised: a ``BadLine``'s own (``bad
    timestamp: ...``), else the parser's failure with the error."""
    if isinstance(exc, BadLine):
        return f"{exc.reason}: {exc} ({kind or 'syslog'} line)"
    return f"{kind or 'syslog'} parser failed: {exc!r}"[:2000]


def reject(ctx: StreamContext, kind: str, line: str, exc: Exception) -> None:
    """A line that raised: counted as unparsed and dead-lettered with its reason."""
    ctx.stats.miss(ctx.origin, line)
    if ctx.dead_letters is not None:
        ctx.dead_letters.put(ctx.origin, line, failure_reason(kind, exc))


def parse_lines(
    lines: Iterable[str],
    origin: str,
    kind: str | None = None,
    *,
    year: int | None = None,
    default_time: datetime | None = None,
    start_position: int = 0,
    stats: UnparsedStats | None = None,
    dead_letters: DeadLetters | None = None,
    routes: Mapping[str, str] | None = None,
    host: str | None = None,
    log_format: OsloFormat | None = None,
    max_line: int = MAX_LINE,
) -> Iterator[Event]:
    """Parse ``lines`` of one stream; positions are sequence numbers from ``start_position``.

    ``kind`` names the parser family; None chooses it from ``origin``. ``year``: the
    year of stamps without one (none: the clock's now, with its rollover).
    """
    now = datetime.now(UTC)
    ctx = StreamContext(
        origin,
        year if year is not None else now.year,
        default_time if default_time is not None else now,
        host=host,
        stats=stats if stats is not None else UnparsedStats(),
        dead_letters=dead_letters,
        log_format=log_format,
        month=0 if year is not None else now.month,
        max_line=max_line,
    )
    parser = make_parser(kind or kind_for_origin(origin, routes), ctx, routes)
    return run_parser(parser, enumerate(lines, start_position))


def numbered_bytes(fh: Iterable[bytes], start: int = 0) -> Iterator[tuple[int, str]]:
    """``(byte offset, decoded line)`` for each line of a binary file object."""
    offset = start
    for chunk in fh:
        yield offset, chunk.decode("utf-8", errors="replace")
        offset += len(chunk)


def events_from_file(
    path: Path,
    kind: str | None = None,
    *,
    year: int | None = None,
    stats: UnparsedStats | None = None,
    dead_letters: DeadLetters | None = None,
    routes: Mapping[str, str] | None = None,
    opener: Callable[[Path], BinaryIO] | None = None,
    host: str | None = None,
    log_format: OsloFormat | None = None,
    max_line: int = MAX_LINE,
) -> Iterator[Event]:
    """Parse a whole log file; positions are byte offsets, the origin is the path.

    Lines without a year take the year nearest the file's modification time (or
    ``year`` as given), lines without any time take its modification time.
    ``opener`` (binary) lets a caller watch the handle, e.g. for a progress
    percentage. ``host`` is the file's host, for lines that name none;
    ``log_format`` the site's oslo.log format.
    """
    path = Path(path)
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    origin = str(path)
    ctx = StreamContext(
        origin, year if year is not None else mtime.year, mtime, host=host,
        stats=stats if stats is not None else UnparsedStats(), dead_letters=dead_letters,
        log_format=log_format, month=0 if year is not None else mtime.month,
        max_line=max_line,
    )
    parser = make_parser(kind or kind_for_origin(origin, routes), ctx, routes)
    with opener(path) if opener is not None else path.open("rb") as fh:
        yield from run_parser(parser, numbered_bytes(fh))
