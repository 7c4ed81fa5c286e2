"""The consumer's delivery reader gives what py-amqp gives, on the same frames (no broker).

``DeliveryReader`` reads ``basic.deliver`` + content frames of the consuming channel
itself; py-amqp's frame handler and channel (``auto_decode`` on, as kombu opens
channels) are the reference: same body (decoded or not), tag and ``delivery_info``,
and every frame it does not take reaches py-amqp unchanged, in order.
"""

from __future__ import annotations

import struct
from typing import Any

import amqp
import pytest
from amqp.basic_message import Message
from amqp.method_framing import frame_handler
from amqp.serialization import dumps

from adapters.amqp.delivery import DELIVER, DeliveryReader

Frame = tuple[int, int, bytes]
CHANNEL = 1


def deliver(tag: str, delivery_tag: int, redelivered: bool, exchange: str,
            routing_key: str) -> Frame:
    args = dumps("sLbss", [tag, delivery_tag, redelivered, exchange, routing_key])
    return 1, CHANNEL, DELIVER + args


def content(body: bytes, chunk: int = 0, channel: int = CHANNEL, **properties: Any,
            ) -> list[Frame]:
    header = struct.pack(">HHQ", 60, 0, len(body)) + Message(**properties)._serialize_properties()
    step = chunk or max(len(body), 1)
    bodies = [(3, channel, body[i:i + step]) for i in range(0, len(body), step)]
    return [(2, channel, header), *bodies]


class _Side:
    """A py-amqp connection and channel (never connected), recording what reaches them."""

    def __init__(self) -> None:
        self.connection: Any = amqp.Connection(host="127.0.0.1:1")
        self.connection.channels = {}
        self.channel: Any = amqp.Channel(self.connection, CHANNEL)
        self.got: list[tuple[Any, int, dict[str, Any]]] = []
        self.channel.callbacks["ours"] = lambda m: self.got.append(
            (m.body, m.delivery_tag, dict(m.delivery_info)))
        self.passed: list[Frame] = []
        handler = frame_handler(self.connection, self.connection.on_inbound_method)

        def on_frame(frame: Frame) -> Any:
            self.passed.append(frame)
            return handler(frame)

        self.connection.on_inbound_frame = on_frame


def _both(frames: list[Frame]) -> tuple[_Side, _Side]:
    plain, fast = _Side(), _Side()
    reader = DeliveryReader(fast.connection, fast.channel)
    for frame in frames:
        plain.connection.on_inbound_frame(frame)
        reader.feed(frame)
    return plain, fast


CASES = {
    "json utf-8": [deliver("ours", 1, False, "nova", "notifications.info"),
                   *content(b'{"a": "\xc3\xa9"}', content_type="application/json",
                            content_encoding="utf-8")],
    "chunked": [deliver("ours", 2**40, True, "", "q"), *content(b"x" * 1000, chunk=300)],
    "empty body": [deliver("ours", 3, False, "e", "k"), *content(b"", content_encoding="utf-8")],
    "empty, no properties": [deliver("ours", 9, False, "e", "k"), *content(b"")],
    "binary": [deliver("ours", 4, False, "e", "k"),
               *content(b"\xff\xfe", content_encoding="binary", delivery_mode=2)],
    "undecodable": [deliver("ours", 5, False, "e", "k"),
                    *content(b"\xff\xfe", content_encoding="utf-8")],
    "no properties": [deliver("ours", 6, False, "\u00e9x", "r\u00e9"), *content(b"{}")],
    "encoding alone": [deliver("ours", 7, False, "e", "k"),
                       *content(b"ok", content_encoding="ascii",
                                application_headers={"x": 1})],
    "several": [frame for i in range(5)
                for frame in [deliver("ours", i, bool(i % 2), "e", "k"), *content(b"%d" % i)]],
    "another channel in between": [deliver("ours", 8, False, "e", "k"),
                                   (8, 0, b""),
                                   *content(b"abc")],
}


@pytest.mark.parametrize("name", CASES)
def test_deliveries_equal_py_amqps(name: str) -> None:
    plain, fast = _both(CASES[name])
    assert plain.got and fast.got == plain.got
    assert fast.connection.bytes_recv == plain.connection.bytes_recv
    assert all(frame[1] != CHANNEL for frame in fast.passed)  # heartbeats only


def test_what_it_does_not_take_reaches_py_amqp_in_order() -> None:
    """A consumer tag without a callback and other methods go to py-amqp, whole."""
    frames = [(1, CHANNEL, struct.pack(">HH", 60, 31) + dumps("s", ["ours"])),  # cancel-ok
              deliver("ours", 1, False, "e", "k"), *content(b"mine")]
    other = [deliver("someone else", 2, False, "e", "k"), *content(b"not mine")]
    fast = _Side()
    fast.connection.on_inbound_frame = fast.passed.append  # record only
    reader = DeliveryReader(fast.connection, fast.channel)
    for frame in frames + other:
        reader.feed(frame)
    assert fast.passed == [frames[0], *other]
    assert [body for body, _, _ in fast.got] == [b"mine"]


def test_a_closing_channel_leaves_deliveries_to_py_amqp() -> None:
    fast = _Side()
    fast.channel.is_closing = True
    fast.connection.on_inbound_frame = fast.passed.append
    reader = DeliveryReader(fast.connection, fast.channel)
    frames = [deliver("ours", 1, False, "e", "k"), *content(b"x")]
    for frame in frames:
        reader.feed(frame)
    assert fast.passed == frames and not fast.got


def test_a_frame_out_of_order_is_refused_as_py_amqp_refuses_it() -> None:
    frames = [deliver("ours", 1, False, "e", "k"), (3, CHANNEL, b"body before header")]
    plain, fast = _Side(), _Side()
    reader = DeliveryReader(fast.connection, fast.channel)
    plain.connection.on_inbound_frame(frames[0])
    reader.feed(frames[0])
    with pytest.raises(amqp.exceptions.UnexpectedFrame):
        plain.connection.on_inbound_frame(frames[1])
    with pytest.raises(amqp.exceptions.UnexpectedFrame):
        reader.feed(frames[1])


def test_in_delivery_from_the_method_frame_to_the_last_body_frame() -> None:
    """The consumer reads nothing through py-amqp while this is true."""
    fast = _Side()
    reader = DeliveryReader(fast.connection, fast.channel)
    states = []
    for frame in [deliver("ours", 1, False, "e", "k"), *content(b"x" * 10, chunk=4)]:
        reader.feed(frame)
        states.append(reader.in_delivery)
    assert states == [True, True, True, True, False]
    assert fast.got and not reader.in_delivery
