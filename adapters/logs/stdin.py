"""Standard input as a log stream (``tail -F x | dreamcatcher listen --stdin``)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping

from adapters.deadletter import DeadLetters
from adapters.logs.pipeline import parse_lines
from adapters.logs.stats import UnparsedStats
from engine.events import Event


def read_stdin(
    callback: Callable[[Event], None] | None = None,
    *,
    kind: str | None = None,
    origin: str = "stdin",
    stream: Iterable[str] | None = None,
    year: int | None = None,
    stats: UnparsedStats | None = None,
    dead_letters: DeadLetters | None = None,
    routes: Mapping[str, str] | None = None,
) -> Iterator[Event]:
    """Events from stdin (or ``stream``) as they arrive; positions are line numbers.

    With a ``callback`` each event is also handed to it before being yielded.
    """
    lines = stream if stream is not None else sys.stdin
    for event in parse_lines(lines, origin, kind, year=year, stats=stats,
                             dead_letters=dead_letters, routes=routes):
        if callback is not None:
            callback(event)
        yield event
