"""The consuming channel's deliveries read straight from their frames.

py-amqp turns each delivery (a ``basic.deliver`` method frame, a content header, the
body frames) into a message through general machinery: a partial ``Message`` per
method, its generic argument decoder (``loads('sLbss', ...)``), every basic property
decoded, a method table and a listener list. For a notification that costs about as
much as decoding and normalizing it. ``DeliveryReader`` does only what the consumer
reads: the five deliver arguments, the body (decoded by its ``content_encoding`` as
py-amqp's ``auto_decode`` does) and the callback registered for the consumer tag.

Every other frame (other channels, other methods, heartbeats, a delivery to a consumer
tag with no callback or on a closing channel) goes to py-amqp's own frame handler, as
before. ``tests/amqp/test_delivery.py`` compares the messages with py-amqp's on the same
frames.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import amqp.exceptions

_METHOD, _HEADER, _BODY = 1, 2, 3
#: class 60 (basic), method 60 (deliver), as the method frame starts
DELIVER = struct.pack(">HH", 60, 60)
_TAG = struct.Struct(">Q")
#: content header: class id, weight (skipped), body size, the first property-flags word
_CONTENT = struct.Struct(">HxxQH")
_CONTENT_TYPE, _CONTENT_ENCODING = 0x8000, 0x4000
Frame = tuple[int, int, bytes]


class Delivery:
    """A delivered message as the consumer reads it (py-amqp's attribute names)."""

    __slots__ = ("body", "delivery_info", "delivery_tag")

    def __init__(self, body: Any, delivery_tag: int, delivery_info: dict[str, Any]) -> None:
        self.body = body
        self.delivery_tag = delivery_tag
        self.delivery_info = delivery_info


def _shortstr(payload: bytes, at: int) -> tuple[str, int]:
    end = at + 1 + payload[at]
    return payload[at + 1:end].decode("utf-8", "surrogatepass"), end


def deliver_arguments(payload: bytes) -> dict[str, Any]:
    """A ``basic.deliver`` method frame's arguments, as py-amqp's ``delivery_info``."""
    consumer_tag, at = _shortstr(payload, 4)
    (delivery_tag,) = _TAG.unpack_from(payload, at)
    redelivered = payload[at + 8] & 1 == 1
    exchange, at = _shortstr(payload, at + 9)
    routing_key, _ = _shortstr(payload, at)
    return {"consumer_tag": consumer_tag, "delivery_tag": delivery_tag,
            "redelivered": redelivered, "exchange": exchange, "routing_key": routing_key}


def content_header(payload: bytes) -> tuple[int, str | None]:
    """A content header's body size and ``content_encoding`` property (None if unset)."""
    _, size, flags = _CONTENT.unpack_from(payload, 0)
    if not flags & _CONTENT_ENCODING:
        return size, None
    at = 14
    if flags & _CONTENT_TYPE:
        at += 1 + payload[at]
    return size, _shortstr(payload, at)[0]


class DeliveryReader:
    """Feeds the frames of one connection: deliveries on ``channel`` to its consumers'
    callbacks, everything else to py-amqp (``connection.on_inbound_frame``)."""

    def __init__(self, connection: Any, channel: Any) -> None:
        self._connection = connection
        self._pass_on: Callable[[Frame], Any] = connection.on_inbound_frame
        self._channel = channel
        self._channel_id: int = channel.channel_id
        self._info: dict[str, Any] | None = None  # the delivery whose content is read
        self._expect = _HEADER
        self._size = 0
        self._encoding: str | None = None
        self._chunks: list[bytes] = []
        self._received = 0

    @property
    def in_delivery(self) -> bool:
        """A delivery begun, its content frames still to come."""
        return self._info is not None

    def feed(self, frame: Frame) -> None:
        """One frame, as ``transport.read_frame`` returns it."""
        frame_type, channel_id, payload = frame
        if channel_id != self._channel_id:
            self._pass_on(frame)
            return
        if self._info is None:
            if frame_type == _METHOD and payload[:4] == DELIVER and not self._channel.is_closing:
                info = deliver_arguments(payload)
                if info["consumer_tag"] in self._channel.callbacks:  # consumers come and go
                    self._connection.bytes_recv += 1  # what py-amqp counts for heartbeats
                    self._info = info
                    self._expect = _HEADER
                    return
            self._pass_on(frame)
            return
        self._connection.bytes_recv += 1
        if frame_type != self._expect:
            raise amqp.exceptions.UnexpectedFrame(
                f"Received frame {frame_type} while expecting type: {self._expect}")
        if frame_type == _HEADER:
            self._size, self._encoding = content_header(payload)
            self._chunks, self._received = [], 0
            if self._size:
                self._expect = _BODY
                return
            body: bytes | str = ""  # py-amqp's Message leaves its body "" when there is none
        else:
            self._received += len(payload)
            if self._received < self._size:
                self._chunks.append(payload)
                return
            if self._chunks:
                self._chunks.append(payload)
                payload = b"".join(self._chunks)
                self._chunks = []
            body = payload
        self._deliver(body)

    def _deliver(self, body: bytes | str) -> None:
        info, encoding = self._info, self._encoding
        assert info is not None
        self._info = None
        self._expect = _HEADER
        decoded: Any = body
        if encoding is not None and body.__class__ is bytes:
            try:  # py-amqp's auto_decode: a body its encoding does not decode stays bytes
                decoded = body.decode(encoding)
            except Exception:  # the same catch as py-amqp's
                decoded = body
        callback = self._channel.callbacks[info["consumer_tag"]]
        callback(Delivery(decoded, info["delivery_tag"], info))
