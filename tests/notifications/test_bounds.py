"""The size and depth bounds of a decoded notification (adapters/notifications/bounds.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapters.notifications import DecodeError, decode_body, normalize
from adapters.notifications.bounds import MAX_BYTES, MAX_DEPTH, check_depth
from adapters.notifications.decode import decode_body_plain
from tests.paths import corpus_notifications

START = "notifications/legacy/nova/designate__compute.instance.create.start.json"


def nested(depth: int, leaf: Any = "x") -> Any:
    """``leaf`` inside ``depth`` arrays."""
    for _ in range(depth):
        leaf = [leaf]
    return leaf


def dumps(value: Any) -> bytes:
    """JSON of any depth (orjson writes at most 254 levels)."""
    return json.dumps(value).encode()


def deep_message(corpus: Path, depth: int = 300) -> dict[str, Any]:
    """The probe's body: a create.start whose instance name nests ``depth`` deep."""
    message = json.loads((corpus / START).read_text())
    message["payload"]["display_name"] = nested(depth)
    return message


def test_a_300_deep_instance_name_is_refused_with_a_reason(corpus: Path) -> None:
    body = dumps(deep_message(corpus))
    assert len(body) < 6000  # small: the size bound is not what refuses it
    with pytest.raises(DecodeError, match=f"nested deeper than {MAX_DEPTH} levels"):
        decode_body(body)


@pytest.mark.parametrize("shape", ["bytes", "str", "dict", "envelope", "envelope-dict"])
def test_every_way_in_is_bounded(corpus: Path, shape: str) -> None:
    message = deep_message(corpus)
    body: Any = {
        "bytes": dumps(message),
        "str": dumps(message).decode(),
        "dict": message,
        "envelope": dumps({"oslo.version": "2.0", "oslo.message": dumps(message).decode()}),
        "envelope-dict": {"oslo.version": "2.0", "oslo.message": message},
    }[shape]
    with pytest.raises(DecodeError, match="nested deeper"):
        decode_body(body)


def test_the_bound_is_exact() -> None:
    """``MAX_DEPTH`` levels pass (the top object is level 1); one more is refused."""
    inside = MAX_DEPTH - 1  # levels below the top object
    ok = {"event_type": "x", "payload": nested(inside - 1, {})}
    check_depth(ok)
    assert decode_body(orjson.dumps(ok)) == ok
    with pytest.raises(DecodeError):
        decode_body(orjson.dumps({"event_type": "x", "payload": nested(inside, {})}))


def test_brackets_inside_strings_do_not_count() -> None:
    """The opener count is only the fast path: text full of ``[`` is walked, not refused."""
    message = {"event_type": "x", "payload": {"message": "[" * 5000 + "{" * 5000}}
    assert decode_body(orjson.dumps(message)) == message


def test_an_oversized_body_is_refused_before_parsing() -> None:
    body = b'{"event_type": "x", "payload": {"blob": "' + b"a" * MAX_BYTES + b'"}}'
    with pytest.raises(DecodeError, match=f"over the {MAX_BYTES}-byte bound"):
        decode_body(body)


def test_deeper_than_orjson_is_a_decode_error_not_a_crash() -> None:
    with pytest.raises(DecodeError):
        decode_body(b"[" * 5000 + b"]" * 5000)
    with pytest.raises(DecodeError):
        decode_body(b'{"a":' * 3000 + b"1" + b"}" * 3000)


def test_every_corpus_notification_is_within_the_bounds() -> None:
    """The bounds refuse nothing real (the deepest corpus message has 11 levels)."""
    for name, message in corpus_notifications():
        body = orjson.dumps(message)
        decode_body(body)  # raises if refused
        decoded = decode_body(message)
        assert decoded is not None, name


def test_a_refused_body_is_a_dead_letter_in_replay(corpus: Path, tmp_path: Path) -> None:
    """The file reader puts it in the dead letters with ``file:line`` and the reason."""
    from adapters.deadletter import DeadLetters
    from adapters.notifications import events_from_file

    good = json.loads((corpus / START).read_text())
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(orjson.dumps(good) + b"\n" + dumps(deep_message(corpus)) + b"\n")
    dead = DeadLetters(None)
    events = list(events_from_file(path, dead_letters=dead))
    assert [e.type for e in events] == ["compute.instance.create.start"]
    assert [(r["origin"], r["reason"]) for r in dead.kept] == [
        (f"{path}:2", f"nested deeper than {MAX_DEPTH} levels")]
    assert normalize(good) is not None


def test_a_decoded_message_with_an_integer_json_cannot_hold_is_refused(corpus: Path) -> None:
    """Found by tests/fuzz: from the wire orjson reads such a number as a float, but a
    message handed in decoded (a rule test's YAML) kept it, and the snapshot of its
    event raised ``Integer exceeds 64-bit range``."""
    message = json.loads((corpus / START).read_text())
    message["payload"]["state"] = -(2**63) - 1
    with pytest.raises(DecodeError, match="an integer of 64 bits is out of the 64-bit range"):
        decode_body(message)
    message["payload"]["state"] = 2**64 - 1  # the largest orjson writes: kept
    assert decode_body(message)["payload"]["state"] == 2**64 - 1
    assert normalize(decode_body(dumps({**message, "payload": {
        **message["payload"], "state": 10**30}}))) is not None  # from the wire: a float


def test_our_own_events_are_bounded_alike(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """``replay`` of events JSONL: a ``data`` nested 300 deep is a dead letter, not a crash
    of whatever later dumps the event."""
    from dreamcatcher.cli import main

    events = tmp_path / "e.jsonl"
    deep = {"id": "s1", "type": "volume.create.start", "time": "2026-01-01T00:00:00Z",
            "volume_id": "v1", "data": {"name": nested(300)}}
    ok = {"id": "s2", "type": "volume.create.start", "time": "2026-01-01T00:00:01Z",
          "volume_id": "v2"}
    events.write_bytes(dumps(deep) + b"\n" + dumps(ok) + b"\n")
    dead = tmp_path / "dead.jsonl"
    rules = Path(__file__).parents[1] / "operator_rules"
    assert main(["replay", str(events), "--rules", str(rules), "--dead-letter", str(dead),
                 "--allow-rejects", "--format", "json"]) == 0
    fired = [json.loads(line)["title"] for line in capsys.readouterr().out.splitlines()]
    assert fired == ["volume v2 was never created"]
    [rejected] = [json.loads(line) for line in dead.read_text().splitlines()]
    assert (rejected["origin"], rejected["reason"]) == (
        f"{events}:1", f"event: nested deeper than {MAX_DEPTH} levels")


def _outcome(decode: Any, body: Any) -> Any:
    try:
        return decode(body)
    except DecodeError as exc:
        return ("refused", exc.reason)


def test_the_wire_path_decodes_as_the_plain_path(corpus: Path) -> None:
    """``decode_body``'s path for bus bodies gives ``decode_body_plain``'s message or its
    reason, on every corpus notification in both envelopes and as text, and on bodies
    it must decline (other versions, wrong types, too big, too deep, not JSON)."""
    bodies: list[Any] = []
    for _, message in corpus_notifications():
        bare = orjson.dumps(message)
        wrapped = orjson.dumps({"oslo.version": "2.0", "oslo.message": bare.decode()})
        bodies += [bare, wrapped, wrapped.decode()]
    deep = orjson.dumps({"event_type": "x", "payload": nested(MAX_DEPTH, {})}).decode()
    bodies += [b"", b"  ", b"[1]", b"null", b"{broken", "{}", b"{}", deep.encode(),
               orjson.dumps({"oslo.version": "2.0", "oslo.message": deep}),
               orjson.dumps({"oslo.version": "3.0", "oslo.message": "{}"}),
               orjson.dumps({"oslo.version": 2, "oslo.message": "{}"}),
               orjson.dumps({"oslo.message": "{}"}),
               orjson.dumps({"oslo.version": "2.0", "oslo.message": {"event_type": "x"}}),
               orjson.dumps({"oslo.version": "2.0", "oslo.message": "[1]"}),
               orjson.dumps({"oslo.version": "2.0", "oslo.message": "{nope"}),
               orjson.dumps({"oslo.version": "2.0", "oslo.message": 5}),
               b'{"a": "' + b"a" * MAX_BYTES + b'"}',
               orjson.dumps({"oslo.version": "2.0", "oslo.message": "1" * (MAX_BYTES + 1)})]
    assert len(bodies) > 1500
    for body in bodies:
        assert _outcome(decode_body, body) == _outcome(decode_body_plain, body), body[:80]
