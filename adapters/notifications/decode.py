"""Bytes on the bus to the inner notification dict, and a uniform view of its three shapes.

oslo.messaging publishes either the bare message (driver ``messaging``, 1.0)
or ``{"oslo.version": "2.0", "oslo.message": "<JSON string>"}`` (driver
``messagingv2``). Once decoded, a notification still comes in three shapes
(see corpus SOURCES.md): bus (flat ``_context_*``, ``message_id``,
``timestamp``), listener (``ctxt`` + ``metadata``) and bare test samples.
``message_view`` folds them into one dict so mappings need one set of paths.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from adapters.notifications.bounds import check_depth, check_parsed, check_size
from adapters.notifications.errors import DecodeError

ENVELOPE_KEY = "oslo.message"
VERSION_KEY = "oslo.version"
_CONTEXT_PREFIX = "_context_"
_CONTEXT_PREFIX_LEN = len(_CONTEXT_PREFIX)
_NO_ENVELOPE = object()


def decode_body(body: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """Return the inner notification dict of an AMQP body (either envelope version).

    Raises ``DecodeError`` with a reason for anything that is not a JSON object,
    whose 2.0 envelope does not hold a JSON object, or that is over the size or depth
    bounds (``adapters.notifications.bounds``).
    """
    if body.__class__ is str or body.__class__ is bytes:
        found = _decode_wire(body)
        if found is not None:
            return found
    return decode_body_plain(body)


def _decode_wire(body: bytes | str) -> dict[str, Any] | None:
    """``decode_body`` of what the bus carries (a 2.0 envelope or a bare object, within
    the bounds) with no check it does not need; None for anything else, which
    ``decode_body_plain`` then decodes or refuses with its reason."""
    try:
        outer = _json_object(body, "body")
    except DecodeError:
        return None
    inner = outer.get(ENVELOPE_KEY, _NO_ENVELOPE)
    if inner is _NO_ENVELOPE:
        check_parsed(body, outer)
        return outer
    if inner.__class__ is not str or outer.get(VERSION_KEY) != "2.0":
        return None
    try:
        message = _json_object(inner, ENVELOPE_KEY)
    except DecodeError:
        return None
    check_parsed(inner, message)
    return message


def decode_body_plain(body: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """``decode_body`` for any body, every check in order: the reference ``_decode_wire``
    is tested against, and the path of everything it declines."""
    outer: dict[str, Any]
    if isinstance(body, dict):
        outer = body
        check_depth(outer)
    else:
        if isinstance(body, memoryview | bytearray):
            body = bytes(body)
        if not isinstance(body, bytes | str):
            raise DecodeError(f"body of type {type(body).__name__} is not JSON text")
        if not body or not body.strip():
            raise DecodeError("empty body")
        outer = _json_object(body, "body")
        if ENVELOPE_KEY not in outer:
            check_parsed(body, outer)  # an envelope's outer object is dropped: not walked
            return outer
    if ENVELOPE_KEY not in outer:  # a dict given: walked above
        return outer
    version = outer.get(VERSION_KEY)
    if version is not None and str(version).split(".", 1)[0] != "2":
        raise DecodeError(f"unsupported envelope version {version!r}")
    inner = outer[ENVELOPE_KEY]
    if isinstance(inner, dict):  # tolerated: some bridges re-serialise the envelope
        return inner
    if not isinstance(inner, str | bytes):
        raise DecodeError(f"{ENVELOPE_KEY} is a {type(inner).__name__}, not a JSON string")
    message = _json_object(inner, ENVELOPE_KEY)
    check_parsed(inner, message)
    return message


def _json_object(text: bytes | str, what: str) -> dict[str, Any]:
    """``text`` (within the size bound) parsed as a JSON object; a DecodeError naming
    ``what`` otherwise. orjson refuses more than 1024 levels, without recursion."""
    check_size(text)
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"{what} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise DecodeError(f"{what} is a JSON {type(value).__name__}, not an object")
    return value


def content_id(message: dict[str, Any]) -> str:
    """A stable id for a message that has no ``message_id`` (bare test samples).

    sha1 of the canonical JSON (sorted keys), so the same sample replayed twice
    is recognised as the same message.
    """
    canonical = orjson.dumps(message, option=orjson.OPT_SORT_KEYS, default=str)
    return "sha1:" + hashlib.sha1(canonical).hexdigest()


def split_publisher(publisher_id: Any) -> tuple[str | None, str | None]:
    """``compute.host1`` / ``volume.h@b#p`` (legacy) or ``nova-compute:host1`` (versioned)."""
    if not isinstance(publisher_id, str) or not publisher_id:
        return None, None
    sep = ":" if ":" in publisher_id else "."
    prefix, _, host = publisher_id.partition(sep)
    return prefix or None, host or None


class FlatContext(Mapping[str, Any]):
    """The bus shape's ``_context_*`` keys read as one mapping, without copying them.

    A bus message carries ~20 of them (service catalog included) and mappings
    read a handful, so a view is cheaper than a dict built for every message.
    """

    __slots__ = ("_message",)

    def __init__(self, message: dict[str, Any]) -> None:
        self._message = message

    def get(self, key: str, default: Any = None) -> Any:
        return self._message.get(_CONTEXT_PREFIX + key, default)

    def __getitem__(self, key: str) -> Any:
        return self._message[_CONTEXT_PREFIX + key]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and _CONTEXT_PREFIX + key in self._message

    def __iter__(self) -> Iterator[str]:
        return (key[_CONTEXT_PREFIX_LEN:] for key in self._message
                if key.startswith(_CONTEXT_PREFIX))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"FlatContext({dict(self)!r})"


#: the ``metadata`` of a message without one (bus and bare shapes): read, never written
_NO_METADATA: dict[str, Any] = {}
_PUBLISHER_VIEWS: dict[str, dict[str, str | None]] = {}


def _publisher_view(publisher_id: Any) -> dict[str, str | None]:
    """``{"prefix", "host"}`` of ``split_publisher``, one dict per publisher id, shared by
    its messages' views (paths only read it): a site has a few hundred ids (one per
    service and host), each on every message it sends; bounded like the mapping cache."""
    if publisher_id.__class__ is str:
        found = _PUBLISHER_VIEWS.get(publisher_id)
        if found is not None:
            return found
    prefix, host = split_publisher(publisher_id)
    view = {"prefix": prefix, "host": host}
    if publisher_id.__class__ is str:
        if len(_PUBLISHER_VIEWS) > 10_000:
            _PUBLISHER_VIEWS.clear()
        _PUBLISHER_VIEWS[publisher_id] = view
    return view


def message_view(message: dict[str, Any]) -> dict[str, Any]:
    """One shape for the three: the root that mapping paths are resolved against.

    Keys: ``event_type``, ``publisher_id``, ``publisher`` (``prefix``, ``host``),
    ``priority``, ``payload``, ``message_id``, ``timestamp``, ``context`` (a dict,
    or for the bus shape a read-only ``FlatContext`` over its ``_context_*`` keys).
    """
    metadata = message.get("metadata")
    if not isinstance(metadata, dict):
        metadata = _NO_METADATA  # only read: one shared empty dict, none built per message
    context: Mapping[str, Any] | None = message.get("ctxt")
    if not isinstance(context, dict):
        context = message.get("context")
    if not isinstance(context, dict):
        context = FlatContext(message)
    publisher_id = message.get("publisher_id")
    publisher = _PUBLISHER_VIEWS.get(publisher_id) if publisher_id.__class__ is str else None
    return {
        "event_type": message.get("event_type"),
        "publisher_id": publisher_id,
        "publisher": publisher or _publisher_view(publisher_id),
        "priority": message.get("priority") or metadata.get("priority"),
        "payload": message.get("payload"),
        "message_id": message.get("message_id") or metadata.get("message_id"),
        "timestamp": message.get("timestamp") or metadata.get("timestamp"),
        "context": context,
    }
