"""Turning raw inputs (our JSON events, raw notifications, raw log lines, host facts)
into Events.

The app layer is the one place that knows every decoder, so the rule-test
runner and replay share this instead of each sniffing formats on its own.
"""

from __future__ import annotations

import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

import orjson
from pydantic import ValidationError

from adapters.deadletter import DeadLetters
from engine.events import Event
from engine.yamlsource import format_loc, validation_problems

if TYPE_CHECKING:
    from adapters.logs.stats import UnparsedStats

Opener = Callable[[Path], BinaryIO]


class InputError(ValueError):
    """One input that could not become an event (it goes to the dead letters)."""


def event_from_json(obj: Any) -> Event:
    """Our own envelope (``type`` + ``time``) as JSON, within the notifications' depth
    bound (``adapters.notifications.bounds``: what recurses over a notification's event
    recurses over this one)."""
    from adapters.notifications.bounds import check_depth
    from adapters.notifications.errors import DecodeError

    try:
        if isinstance(obj, dict):
            check_depth(obj)
        return Event.model_validate(obj)
    except DecodeError as exc:
        raise InputError(f"event: {exc.reason}") from None
    except ValidationError as exc:
        loc, message = validation_problems(exc)[0]
        raise InputError(f"{format_loc(loc) or 'event'}: {message}") from None


def is_notification(obj: Any) -> bool:
    """A notification in any shape or envelope, or a recording of one off the bus."""
    from adapters.notifications.files import recorded_body

    return isinstance(obj, dict) and (
        "event_type" in obj or "oslo.message" in obj or "oslo.version" in obj
        or recorded_body(obj) is not None
    )


def event_from_notification(obj: Any, fallback_id: str | None = None) -> Event | None:
    """A raw notification (any shape, either envelope, or a bus recording's record);
    None if deliberately ignored."""
    import adapters.notifications as notifications
    from adapters.notifications.files import decode_document

    try:
        message = decode_document(obj)
        return notifications.normalize(message, fallback_id=fallback_id)
    except (notifications.DecodeError, notifications.NormalizationError) as exc:
        raise InputError(str(exc)) from None


def events_from_log_lines(lines: list[str], origin: str, kind: str | None,
                          default_time: datetime | None = None,
                          year: int | None = None) -> list[Event]:
    import adapters.logs as logs

    return list(logs.parse_lines(lines, origin, kind, year=year, default_time=default_time))


def sniff(path: Path) -> str:
    """``events`` (our JSONL), ``notifications``, ``hostfacts`` (``ip -details -json
    link`` output or a recording of snapshots) or ``logs``, from the first line."""
    with path.open("rb") as fh:
        head = fh.read(65536)
    return sniff_bytes(head, path.read_bytes)


def sniff_bytes(head: bytes, whole: Callable[[], bytes] | None = None) -> str:
    """The kind of input that starts with ``head``; ``whole()`` (if given) is the
    entire input, tried when the first line is not JSON on its own."""
    text = head.lstrip()
    if not text.startswith((b"{", b"[")):
        return "logs"
    first = text.split(b"\n", 1)[0]
    try:
        obj = orjson.loads(first)
    except orjson.JSONDecodeError:
        if whole is None:
            return "logs"
        try:
            obj = orjson.loads(whole())  # one JSON document spread over lines
        except orjson.JSONDecodeError:
            return "logs"
    from adapters.hostfacts.iplink import is_ip_link, is_recording

    if is_ip_link(obj) or is_recording(obj):
        return "hostfacts"
    if isinstance(obj, list):
        obj = obj[0] if obj else {}
    if is_notification(obj) or (isinstance(obj, dict) and "payload" in obj):
        return "notifications"
    return "events"


def _our_event(line: bytes, origin: str) -> Event:
    return event_from_json(orjson.loads(line))


def _notification_event(line: bytes, origin: str) -> Event | None:
    return event_from_notification(line, fallback_id=origin)


def _json_lines(lines: Iterable[bytes], name: str, dead: DeadLetters,
                make: Callable[[bytes, str], Event | None]) -> Iterator[Event]:
    """One event per non-blank line (``make`` may return None: ignored on purpose);
    a line that is not JSON or not an event goes to the dead letters as ``name:line``."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        origin = f"{name}:{number}"
        try:
            event = make(line, origin)
        except orjson.JSONDecodeError as exc:
            dead.put(origin, line, f"not JSON: {exc}")
        except InputError as exc:
            dead.put(origin, line, str(exc))
        else:
            if event is not None:
                yield event


def events_from_jsonl(path: Path, dead: DeadLetters,
                      opener: Opener | None = None) -> Iterator[Event]:
    """Our envelope, one JSON object per line; bad lines go to the dead letters."""
    with opener(path) if opener is not None else path.open("rb") as fh:
        yield from _json_lines(fh, str(path), dead, _our_event)


def events_from_path(path: Path, dead: DeadLetters, kind: str | None = None, *,
                     stats: UnparsedStats | None = None,
                     opener: Opener | None = None,
                     host: str | None = None) -> Iterator[Event]:
    """Any replayable file, by its content (or an explicit kind).

    ``stats`` collects a log file's unparsed and ignored lines (for the run's
    summary); ``opener`` opens the file in binary, so a caller can watch how
    far it has been read; ``host`` is a log file's host, for lines naming none.
    """
    kind = kind or sniff(path)
    if kind == "events":
        yield from events_from_jsonl(path, dead, opener)
    elif kind == "notifications":
        import adapters.notifications as notifications

        yield from notifications.events_from_file(path, dead_letters=dead, opener=opener)
    elif kind == "hostfacts":
        yield from events_from_hostfacts(path, dead, opener)
    else:
        import adapters.logs as logs

        log_kind = None if kind == "logs" else kind
        yield from logs.events_from_file(path, log_kind, stats=stats, opener=opener, host=host)


def events_from_hostfacts(path: Path, dead: DeadLetters,
                          opener: Opener | None = None) -> Iterator[Event]:
    """A host-facts file (``ip`` output: its host unknown, its time the file's mtime;
    or a recording); each malformed snapshot goes to the dead letters with the reason."""
    from adapters.hostfacts import events_from_bytes

    with opener(path) if opener is not None else path.open("rb") as fh:
        data = fh.read()
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    events, problems = events_from_bytes(data, str(path), None, mtime)
    for origin, raw, reason in problems:
        dead.put(origin, raw, reason)
    yield from events


STDIN = "-"


def input_name(path: Path) -> str:
    """How an input is named in origins and the summary: ``stdin`` for ``-``."""
    return "stdin" if str(path) == STDIN else str(path)


def is_stream(path: Path) -> bool:
    """``-`` or anything that is not a regular file (a pipe, a FIFO, ``/dev/stdin``
    on a pipe): it can be read only once, and its events come while it is open."""
    if str(path) == STDIN:
        return True
    try:
        return not stat.S_ISREG(path.stat().st_mode) and not path.is_dir()
    except OSError:
        return False


def events_from_stream(path: Path, dead: DeadLetters, kind: str | None = None, *,
                       stats: UnparsedStats | None = None) -> Iterator[Event]:
    """A stream read once, line by line as it arrives; its kind from its first line.

    Each event is yielded as soon as its line is read (nothing waits for the
    stream to end), so a live ``listen ... |`` feeds the engine as it goes.
    """
    name = input_name(path)
    # stdin through a reader of our own: sys.stdin's lock, held by a reader thread
    # blocked in readline, would abort the interpreter's shutdown after Ctrl-C
    fh: IO[bytes] = (open(sys.stdin.fileno(), "rb", closefd=False) if str(path) == STDIN  # noqa: SIM115
                     else path.open("rb"))
    try:
        lines: Iterator[bytes] = iter(fh.readline, b"")
        head: list[bytes] = []
        if kind is None:
            for line in lines:
                head.append(line)
                if line.strip():
                    break
            kind = sniff_bytes(b"".join(head))
        yield from _stream_events(chain(head, lines), name, dead, kind, stats)
    finally:
        fh.close()


def _stream_events(lines: Iterable[bytes], name: str, dead: DeadLetters,
                   kind: str, stats: UnparsedStats | None) -> Iterator[Event]:
    if kind == "events":
        yield from _json_lines(lines, name, dead, _our_event)
    elif kind == "notifications":
        yield from _json_lines(lines, name, dead, _notification_event)
    elif kind == "hostfacts":  # a recording line, or `ip -json` output (one line), each as read
        from adapters.hostfacts import events_from_bytes

        for number, line in enumerate(lines, 1):
            if line.strip():
                events, problems = events_from_bytes(line, name, None, datetime.now(UTC))
                for _origin, raw, reason in problems:
                    dead.put(f"{name}:{number}", raw, reason)
                yield from events
    else:
        import adapters.logs as logs

        text = (line.decode("utf-8", errors="replace") for line in lines)
        yield from logs.parse_lines(text, name, None if kind == "logs" else kind,
                                    dead_letters=dead, stats=stats)
