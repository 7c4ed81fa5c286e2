"""Read raw notifications from files for replay and tests.

A file holds either one JSON document (pretty-printed is fine) or one JSON
notification per line. Each may be any of the three shapes and either
envelope version; nova's ``$ref`` sample templates are expanded relative to
the file. A line may also be a recording of the bus, as a capture consumer
writes it: ``{"exchange", "routing_key", "received_at", "raw"}`` with the AMQP
body exactly as published under ``raw`` (tests/corpus/openstack-2025.1).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import orjson

from adapters.notifications.decode import decode_body
from adapters.notifications.errors import NotificationError
from adapters.notifications.normalize import normalize
from adapters.notifications.samples import SampleError, expand_refs, has_refs
from engine.events import Event


class DeadLetterSink(Protocol):
    """Where rejected input goes (``adapters.deadletter.DeadLetters`` fits)."""

    def put(self, origin: str, raw: Any, reason: str) -> None: ...


def _documents(path: Path) -> Iterator[tuple[str, str]]:
    """(origin, text) per notification: the whole file, or each non-blank line."""
    text = path.read_text(encoding="utf-8")
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield f"{path}:{number}", line
        return
    yield str(path), text


def recorded_body(document: Any) -> str | None:
    """The published body of a recorded bus message, or None for anything else."""
    if isinstance(document, dict) and ("routing_key" in document or "exchange" in document):
        raw = document.get("raw")
        if isinstance(raw, str):
            return raw
    return None


def _event(text: str, base: Path, fallback_time: datetime | None) -> Event | None:
    document: Any = decode_body(text)
    body = recorded_body(document)
    if body is not None:
        document = decode_body(body)
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
) -> Iterator[Event]:
    """Yield the events of one file, in file order; ignored types yield nothing.

    A bad document raises ``NotificationError`` naming ``file:line``, unless
    ``dead_letters`` is given: then it is put there with the reason and
    reading goes on. ``fallback_time`` is for samples that carry no time at all.
    """
    for origin, text in _documents(path):
        try:
            event = _event(text, path.parent, fallback_time)
        except NotificationError as exc:
            if dead_letters is None:
                raise type(exc)(f"{origin}: {exc.reason}") from exc
            dead_letters.put(origin, text, exc.reason)
            continue
        if event is not None:
            yield event
