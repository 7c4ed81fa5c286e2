"""A py-amqp transport that reads the socket in large chunks.

py-amqp reads every frame with three ``recv`` calls (7-byte header, payload,
frame-end octet), each preceded by a ``poll`` since the socket has a timeout:
a notification (method, header and body frames) costs ~18 system calls. Under
a backlog the socket holds dozens of messages, so reading 64 KiB at a time and
cutting frames out of that buffer costs one ``recv`` per ~40 messages.

Used through kombu's own extension point: ``kombu.Connection(url,
transport=BufferedAmqpTransport)``. TLS connections keep py-amqp's transport.
"""

from __future__ import annotations

import errno
import struct
from typing import Any

import amqp
import amqp.transport
from kombu.transport import pyamqp

_CHUNK = 65536
_FRAME_END = 0xCE
_RETRY = (errno.EAGAIN, errno.EINTR)
# errors after which the connection is still usable (py-amqp's own list)
_UNAVAIL = frozenset({errno.EAGAIN, errno.EINTR, errno.ENOENT, errno.EWOULDBLOCK})
_HEADER = struct.Struct(">BHI")

_TCPTransport: Any = amqp.transport.TCPTransport
_KombuConnection: Any = pyamqp.Connection  # amqp.Connection with kombu's Channel
_KombuTransport: Any = pyamqp.Transport


class BufferedTCPTransport(_TCPTransport):  # type: ignore[misc]
    """``TCPTransport`` whose ``read_frame`` takes frames out of a 64 KiB read buffer.

    A frame is consumed only once it is whole in the buffer, so a read timeout
    (the consumer's idle probe) never loses or splits one.
    """

    def _setup_transport(self) -> None:
        super()._setup_transport()
        self._read_buffer = b""
        self._read_pos = 0

    def has_unread(self) -> bool:
        """Bytes already read from the socket but not yet framed (poll would not see them)."""
        return len(self._read_buffer) > self._read_pos

    def _ensure(self, wanted: int, initial: bool) -> tuple[bytes, int]:
        """The buffer and read position, with at least ``wanted`` unread bytes."""
        buffer, pos = self._read_buffer, self._read_pos
        while len(buffer) - pos < wanted:
            try:
                chunk = self._quick_recv(max(_CHUNK, wanted - (len(buffer) - pos)))
            except TimeoutError:
                raise
            except OSError as exc:
                if exc.errno in _RETRY:
                    if initial and self.raise_on_initial_eintr:
                        raise TimeoutError() from exc
                    continue
                if exc.errno not in _UNAVAIL:
                    self.connected = False
                raise
            if not chunk:
                self.connected = False
                raise OSError("Server unexpectedly closed connection")
            buffer, pos = buffer[pos:] + chunk, 0
            self._read_buffer, self._read_pos = buffer, 0
        return buffer, pos

    def read_frame(self, unpack: Any = None) -> tuple[int, int, bytes]:
        buffer, pos = self._ensure(7, True)
        frame_type, channel, size = _HEADER.unpack_from(buffer, pos)
        buffer, pos = self._ensure(8 + size, False)
        end = pos + 7 + size
        if buffer[end] != _FRAME_END:
            raise amqp.exceptions.UnexpectedFrame(
                f"Received frame_end {buffer[end]:#04x} while expecting 0xce")
        self._read_pos = end + 1
        return frame_type, channel, buffer[pos + 7:end]


class BufferedConnection(_KombuConnection):  # type: ignore[misc]
    """kombu's py-amqp connection, opening plain TCP through ``BufferedTCPTransport``."""

    def Transport(self, host: str, connect_timeout: float | None, ssl: Any = False,
                  read_timeout: float | None = None, write_timeout: float | None = None,
                  socket_settings: Any = None, **kwargs: Any) -> Any:
        if ssl:
            return super().Transport(host, connect_timeout, ssl=ssl, read_timeout=read_timeout,
                                     write_timeout=write_timeout,
                                     socket_settings=socket_settings, **kwargs)
        return BufferedTCPTransport(host, connect_timeout=connect_timeout,
                                    read_timeout=read_timeout, write_timeout=write_timeout,
                                    socket_settings=socket_settings, **kwargs)


class BufferedAmqpTransport(_KombuTransport):  # type: ignore[misc]
    """kombu's ``pyamqp`` transport on ``BufferedConnection``."""

    Connection = BufferedConnection


__all__ = ["BufferedAmqpTransport", "BufferedConnection", "BufferedTCPTransport"]
