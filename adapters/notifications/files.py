"""Read raw notifications from files for replay and tests.

A file holds either one JSON document (pretty-printed is fine) or one JSON
notification per line. Each may be any of the three shapes and either
envelope version; nova's ``$ref`` sample templates are expanded relative to
the file. A line may also be a recording of the bus, as a capture consumer
writes it: ``{"exchange", "routing_key", "received_at", "raw"}`` with the AMQP
body exactly as published under ``raw`` (tests/corpus/openstack-2025.1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import orjson

from adapters.notifications.decode import decode_body
from adapters.notifications.errors import NotificationError
from adapters.notifications.normalize import normalize
from adapters.notifications.samples import SampleError, expand_refs, has_refs
from engine.events import Event


class DeadLetterSink(Protocol):
    """Where rejected input goes (``adapters.deadletter.DeadLetters`` fits)."""

    def put(self, origin: str, raw: Any, reason: str) -> None: ...


def _documents(path: Path,
               opener: Callable[[Path], BinaryIO] | None = None) -> Iterator[tuple[str, str]]:
    """(origin, text) per notification: the whole file, or each non-blank line.

    Lines are read from the handle as they are needed (not split from one
    string), so the handle's position says how far the file has been used.
    """
    with opener(path) if opener is not None else path.open("rb") as fh:
        data = fh.read()
        try:
            orjson.loads(data)
        except orjson.JSONDecodeError:
            del data
            fh.seek(0)
            for number, line in enumerate(fh, start=1):
                if line.strip():
                    yield f"{path}:{number}", line.decode("utf-8").rstrip("\r\n")
            return
    yield str(path), data.decode("utf-8")


def recorded_body(document: Any) -> str | None:
    """The published body of a recorded bus message, or None for anything else."""
    if isinstance(document, dict) and ("routing_key" in document or "exchange" in document):
        raw = document.get("raw")
        if isinstance(raw, str):
            return raw
    return None


def decode_document(text: str | bytes | dict[str, Any]) -> dict[str, Any]:
    """``decode_body``, looking through a recorded bus message to the body it recorded."""
    document = decode_body(text)
    body = recorded_body(document)
    return document if body is None else decode_body(body)


def _event(text: str, base: Path, fallback_time: datetime | None) -> Event | None:
    document: Any = decode_document(text)
    if has_refs(document):
        try:
            document = expand_refs(document, base)
        except SampleError as exc:
            raise NotificationError(str(exc)) from exc
    return normalize(document, fallback_time=fallback_time)


def events_from_file(
    path: Path,
    *,
    fallback_time: datetime | None = None,
    dead_letters: DeadLetterSink | None = None,
    opener: Callable[[Path], BinaryIO] | None = None,
) -> Iterator[Event]:
    """Yield the events of one file, in file order; ignored types yield nothing.

    A bad document raises ``NotificationError`` naming ``file:line``, unless
    ``dead_letters`` is given: then it is put there with the reason and
    reading goes on. ``fallback_time`` is for samples that carry no time at all.
    ``opener`` (binary) lets a caller watch the handle (progress).
    """
    for origin, text in _documents(path, opener):
        try:
            event = _event(text, path.parent, fallback_time)
        except NotificationError as exc:
            if dead_letters is None:
                raise type(exc)(f"{origin}: {exc.reason}") from exc
            dead_letters.put(origin, text, exc.reason)
            continue
        if event is not None:
            yield event
