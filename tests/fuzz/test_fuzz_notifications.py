"""Fuzz the notification decoder and normalizer: every body is an event or a reason.

Whatever arrives on the bus (any bytes, any JSON, a corpus message with any field
replaced by anything, nested past any bound, stamped with any date), the intake's
path (``decode_body`` then the normalizer) returns an Event, None (ignored on
purpose) or raises ``NotificationError`` with a reason for the dead letter;
nothing else escapes. And an Event it returns survives what the engine does with
it later: the snapshot an expectation keeps and the JSON of the evidence.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from adapters.notifications import NotificationError, decode_body, normalize
from engine.eventtime import EARLIEST, LATEST
from engine.snapshots import snapshot
from tests.fuzz.settings import FUZZ
from tests.paths import corpus_notifications

MESSAGES = [message for _, message in corpus_notifications()]
STAMPS = st.sampled_from([
    "9999-12-31 23:59:59.999999", "9999-12-31T23:30:00-05:00", "0001-01-01T00:00:00+05:00",
    "1969-12-31T23:59:59Z", "2026-02-30 10:00:00", "2026-01-01T25:00:00Z", "", " ", "Z",
    "2026-01-01T00:00:00+24:00", "2026-01-01", "1e309", "-1"]) | st.text(max_size=40)
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
           | st.text(max_size=50) | STAMPS)


def _json_values(max_leaves: int = 40) -> st.SearchStrategy[Any]:
    return st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                        max_leaves=max_leaves)


@st.composite
def _nested(draw: st.DrawFn) -> Any:
    """A value nested ``depth`` deep, around the bounds (32 here, 254 in orjson)."""
    depth = draw(st.integers(1, 400))
    value: Any = draw(SCALARS)
    for _ in range(depth):
        value = [value] if draw(st.booleans()) else {draw(st.text(max_size=3)): value}
    return value


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


@st.composite
def _mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A corpus message with a few of its values (or the whole) replaced by anything."""
    message = json.loads(json.dumps(draw(st.sampled_from(MESSAGES))))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(message)
        path = draw(st.sampled_from(paths[1:] or paths))
        new = draw(_json_values() | _nested() | STAMPS)
        if not path:
            message = new
            break
        parent = message
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = new
    return message


def _wire(value: Any, envelope: bool) -> bytes:
    try:
        text = json.dumps(value)
    except (ValueError, RecursionError):  # a float NaN is fine; this is a value json refuses
        text = "null"
    if envelope:
        text = json.dumps({"oslo.version": "2.0", "oslo.message": text})
    return text.encode()


BODIES = (
    st.binary(max_size=300)
    | st.builds(_wire, _json_values(), st.booleans())
    | st.builds(_wire, _mutated(), st.booleans())
    | st.builds(_wire, _nested(), st.booleans())
)


def _intake(body: bytes) -> None:
    """What the consumer does with a delivery, and the engine with its event after."""
    try:
        event = normalize(decode_body(body), fallback_id="fuzz")
    except NotificationError as exc:
        assert exc.reason  # a dead letter has a reason
        return
    if event is None:
        return
    assert EARLIEST <= event.time < LATEST
    snapshot(event)
    orjson.dumps(event.model_dump(mode="json"), default=str)


@FUZZ
@given(BODIES)
def test_every_body_is_an_event_or_a_reason(body: bytes) -> None:
    _intake(body)


@FUZZ
@given(_mutated())
def test_every_mutated_corpus_message_is_an_event_or_a_reason(message: Any) -> None:
    _intake(_wire(message, False))
    try:
        event = normalize(decode_body(message)) if isinstance(message, dict) else None
    except NotificationError:
        return
    if event is not None:
        snapshot(event)
