"""The buffered AMQP transport cuts frames out of large reads without losing any.

A socket pair stands in for the broker, so partial frames and timeouts can be
produced at will.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import amqp
import pytest

from adapters.amqp.transport import BufferedTCPTransport


def _frame(frame_type: int, channel: int, payload: bytes) -> bytes:
    return struct.pack(">BHI", frame_type, channel, len(payload)) + payload + b"\xce"


@pytest.fixture
def pair() -> Iterator[tuple[BufferedTCPTransport, socket.socket]]:
    ours, broker = socket.socketpair()
    transport = BufferedTCPTransport.__new__(BufferedTCPTransport)
    transport.sock = ours
    transport.connected = True
    transport.raise_on_initial_eintr = True
    transport._setup_transport()
    ours.settimeout(0.05)
    yield transport, broker
    ours.close()
    broker.close()


def test_partial_frame_waits_and_nothing_is_lost(
    pair: tuple[BufferedTCPTransport, socket.socket],
) -> None:
    transport, broker = pair
    first = _frame(1, 1, b"method" * 10)
    broker.sendall(first[:5])  # not even a whole header
    with pytest.raises(TimeoutError):
        transport.read_frame()
    broker.sendall(first[5:20])  # header whole, payload not
    with pytest.raises(TimeoutError):
        transport.read_frame()
    big = bytes(range(256)) * 600  # larger than one 64 KiB read
    broker.sendall(first[20:] + _frame(2, 1, b"header") + _frame(3, 7, big))
    assert transport.read_frame() == (1, 1, b"method" * 10)
    assert transport.read_frame() == (2, 1, b"header")
    assert transport.read_frame() == (3, 7, big)
    with pytest.raises(TimeoutError):
        transport.read_frame()


def test_many_frames_in_one_read(pair: tuple[BufferedTCPTransport, socket.socket]) -> None:
    transport, broker = pair
    payloads = [f"body-{i}".encode() * (i + 1) for i in range(200)]
    broker.sendall(b"".join(_frame(3, 1, p) for p in payloads))
    assert [transport.read_frame()[2] for _ in payloads] == payloads


def test_bad_frame_end_and_closed_peer(pair: tuple[BufferedTCPTransport, socket.socket]) -> None:
    transport, broker = pair
    broker.sendall(_frame(1, 1, b"x")[:-1] + b"\x00")
    with pytest.raises(amqp.exceptions.UnexpectedFrame):
        transport.read_frame()
    transport._read_buffer, transport._read_pos = b"", 0
    broker.close()
    with pytest.raises(OSError, match="unexpectedly closed"):
        transport.read_frame()
    assert transport.connected is False
