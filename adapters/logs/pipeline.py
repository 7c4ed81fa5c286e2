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
from adapters.logs.base import IGNORED, Parser, Position, StreamContext
from adapters.logs.header import split_header
from adapters.logs.oslo import OsloFormat
from adapters.logs.router import kind_for_origin, make_parser
from adapters.logs.stats import UnparsedStats
from engine.events import Event


def run_parser(parser: Parser, numbered: Iterable[tuple[Position, str]],
               flush: bool = True) -> Iterator[Event]:
    """Feed ``(position, line)`` pairs to one stream's parser, yielding its events."""
    ctx = parser.ctx
    origin, year, stats = ctx.origin, ctx.year, ctx.stats
    parse, ready = parser.parse, parser.ready
    hits = 0
    for position, text in numbered:
        line = text.rstrip("\r\n")
        if not line:
            stats.ignore(origin)
            continue
        try:
            result = parse(split_header(line, year), line, position)
        except Exception as exc:  # a parser bug must not stop the stream
            stats.miss(origin, line)
            if ctx.dead_letters is not None:
                ctx.dead_letters.put(origin, line, f"{parser.kind} parser failed: {exc!r}")
            continue
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
    if flush:
        tail = parser.flush()
        hits += len(tail)
        yield from tail
    stats.hit(origin, hits)


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
) -> Iterator[Event]:
    """Parse ``lines`` of one stream; positions are sequence numbers from ``start_position``.

    ``kind`` names the parser family; None chooses it from ``origin``.
    """
    ctx = StreamContext(
        origin,
        year if year is not None else datetime.now(UTC).year,
        default_time if default_time is not None else datetime.now(UTC),
        host=host,
        stats=stats if stats is not None else UnparsedStats(),
        dead_letters=dead_letters,
        log_format=log_format,
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
) -> Iterator[Event]:
    """Parse a whole log file; positions are byte offsets, the origin is the path.

    Lines without a year take the file's modification year, lines without
    any time take its modification time. ``opener`` (binary) lets a caller
    watch the handle, e.g. for a progress percentage. ``host`` is the file's host,
    for lines that name none; ``log_format`` the site's oslo.log format.
    """
    path = Path(path)
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    origin = str(path)
    ctx = StreamContext(
        origin, year if year is not None else mtime.year, mtime, host=host,
        stats=stats if stats is not None else UnparsedStats(), dead_letters=dead_letters,
        log_format=log_format,
    )
    parser = make_parser(kind or kind_for_origin(origin, routes), ctx, routes)
    with opener(path) if opener is not None else path.open("rb") as fh:
        yield from run_parser(parser, numbered_bytes(fh))
