"""A syslog receiver on UDP and TCP: RFC 3164 and RFC 5424, every common TCP framing.

Bound to loopback unless told otherwise: a syslog port open to the network
lets anyone inject lines. The header is read by the same ``split_header`` as
files are. TCP frames are decided frame by frame (``_frames``): octet-counted
(``<len> <msg>``, RFC 6587 3.4.1) when they start with a digit, else ended by
LF (CRLF), or by NUL as Python's ``SysLogHandler`` ends them. Each sender is one
stream (``syslog:<address>``) whose lines are routed by program name.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from adapters.deadletter import DeadLetters
from adapters.logs.base import IGNORED, MAX_LINE, Parser, StreamContext
from adapters.logs.header import split_header
from adapters.logs.pipeline import cut_line, reject
from adapters.logs.router import make_parser
from adapters.logs.stats import UnparsedStats
from engine.events import Event

#: TCP connections served at once by default.
MAX_CONNECTIONS = 256
#: Why a connection was refused, or closed (``SyslogCounters.dropped``, ``UnparsedStats``).
TCP_REFUSED = "tcp connection refused"
OCTET_COUNT_OVER = "octet count over the line cap"


class ListenError(OSError):
    """The syslog socket could not be bound (port in use, address not ours)."""

    def __init__(self, errno: int | None, strerror: str, host: str, port: int,
                 proto: str) -> None:
        super().__init__(errno, strerror)
        self.host, self.port, self.proto = host, port, proto

    def __str__(self) -> str:
        return f"cannot listen on {self.host}:{self.port} ({self.proto}): {self.strerror}"


@dataclass
class SyslogCounters:
    """What the server saw: messages, events, and what it had to drop (with why)."""

    received: int = 0
    events: int = 0
    dropped: Counter[str] = field(default_factory=Counter)


class _Framing:
    """How one TCP connection ends its non-octet-counted frames: LF (or CRLF) or NUL.

    A frame ends at whichever comes first, except that a NUL ends it when the LFs
    before that NUL start no new message (``\n<``): Python's ``SysLogHandler`` sends
    ``<PRI>msg\x00`` and a logged traceback has LFs inside. Once a connection has
    ended a frame with NUL, only NUL ends its frames. (A connection's first frame that
    arrives cut right after an LF, before its NUL, is split there: nothing tells it
    from an LF-framed sender yet.)
    """

    __slots__ = ("nul", "skip")

    def __init__(self) -> None:
        self.nul = False
        #: the rest of a frame longer than the line cap is being read past (its head was
        #: handled, cut): everything up to the next terminator is dropped
        self.skip = False

    def end(self, buf: bytes, pos: int) -> int:
        """Where the frame at ``pos`` ends (its terminator's index), or -1: not yet."""
        nul = buf.find(b"\x00", pos)
        if self.nul:
            return nul
        nl = buf.find(b"\n", pos)
        if nul >= 0 and (nl < 0 or nul < nl or buf.find(b"\n<", pos, nul) < 0):
            self.nul = True
            return nul
        return nl


class _Stream:
    __slots__ = ("lock", "parser", "seq")

    def __init__(self, parser: Parser) -> None:
        self.parser = parser
        self.seq = 0
        self.lock = threading.Lock()


class SyslogServer:
    """Receive syslog on UDP and/or TCP and hand each parsed Event to ``callback``.

    ``port=0`` picks a free port (see ``udp_address`` / ``tcp_address``).
    Event ids are ``syslog:<sender>#<boot>:<seq>``: the boot stamp keeps ids of
    a restarted server from colliding with the previous run's.
    """

    def __init__(
        self,
        callback: Callable[[Event], None],
        *,
        host: str = "127.0.0.1",
        port: int = 5514,
        udp: bool = True,
        tcp: bool = True,
        routes: Mapping[str, str] | None = None,
        senders: Mapping[str, str] | None = None,
        stats: UnparsedStats | None = None,
        dead_letters: DeadLetters | None = None,
        max_message: int = MAX_LINE,
        rcvbuf: int = 8 * 1024 * 1024,
        batch: Callable[[list[Event]], None] | None = None,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.callback = callback
        #: when given, the events of one received TCP chunk (or UDP datagram) come in one
        #: call instead of one ``callback`` each: a sender's burst is one hand-over
        self.batch = batch
        self._local = threading.local()
        self.routes = routes
        self.senders = dict(senders or {})  # sender address -> kind, e.g. a switch
        self.stats = stats if stats is not None else UnparsedStats()
        self.dead_letters = dead_letters
        #: the line cap: a longer message is cut to it (counted); a TCP octet count over
        #: it closes the connection (counted): it cannot be honoured without eating lines
        self.max_message = max_message
        #: TCP connections served at once (a thread each); one more is refused, counted
        self.max_connections = max_connections
        self._connections: set[threading.Thread] = set()
        self.counters = SyslogCounters()
        self._count_lock = threading.Lock()
        self._boot = int(time.time())
        self._streams: dict[str, _Stream] = {}
        self._streams_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        if udp:
            self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            with contextlib.suppress(OSError):
                self._udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self._bind(self._udp, host, port, "udp")
            self._udp.settimeout(0.2)
        if tcp:
            self._tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._bind(self._tcp, host, port if not udp or port else 0, "tcp")
            self._tcp.listen(64)
            self._tcp.settimeout(0.2)

    def _bind(self, sock: socket.socket, host: str, port: int, proto: str) -> None:
        """Bind or raise ``ListenError`` naming the address, having closed what was open."""
        try:
            sock.bind((host, port))
        except OSError as exc:
            for opened in (self._udp, self._tcp):
                if opened is not None:
                    opened.close()
            raise ListenError(exc.errno, exc.strerror or str(exc), host, port, proto) from exc

    @property
    def udp_socket(self) -> socket.socket | None:
        """The UDP socket (the kernel's drop counter for it is in ``/proc/net/udp``)."""
        return self._udp

    @property
    def udp_address(self) -> tuple[str, int] | None:
        return self._udp.getsockname() if self._udp else None

    @property
    def tcp_address(self) -> tuple[str, int] | None:
        return self._tcp.getsockname() if self._tcp else None

    # -- lifecycle -------------------------------------------------------
    def start(self) -> SyslogServer:
        if self._udp is not None:
            self._spawn(self._udp_loop)
        if self._tcp is not None:
            self._spawn(self._accept_loop)
        return self

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        """Stop receiving, then flush held-back multi-line records."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        for sock in (self._udp, self._tcp):
            if sock is not None:
                sock.close()
        for stream in list(self._streams.values()):
            with stream.lock:
                self._emit(stream.parser.flush())

    def __enter__(self) -> SyslogServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- receiving -------------------------------------------------------
    def _udp_loop(self) -> None:
        assert self._udp is not None
        sock = self._udp
        size = max(self.max_message, 65535) + 1  # a datagram is read whole, then cut
        while not self._stop.is_set():
            try:
                data, addr = sock.recvfrom(size)
            except (TimeoutError, OSError):
                continue
            self.handle(data, addr[0])

    def _accept_loop(self) -> None:
        assert self._tcp is not None
        while not self._stop.is_set():
            try:
                conn, addr = self._tcp.accept()
            except (TimeoutError, OSError):
                continue
            with self._count_lock:
                full = len(self._connections) >= self.max_connections
            if full:
                self._limit(TCP_REFUSED, addr[0])
                conn.close()
                continue
            thread = threading.Thread(target=self._tcp_conn, args=(conn, addr[0]), daemon=True)
            with self._count_lock:
                self._connections.add(thread)
            thread.start()

    @property
    def connections(self) -> int:
        """TCP connections being served now."""
        with self._count_lock:
            return len(self._connections)

    def _tcp_conn(self, conn: socket.socket, sender: str) -> None:
        try:
            self._serve(conn, sender)
        finally:
            with self._count_lock:
                self._connections.discard(threading.current_thread())

    def _serve(self, conn: socket.socket, sender: str) -> None:
        conn.settimeout(0.5)
        buf = b""
        framing = _Framing()
        with conn:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(262144)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                self._collect()
                try:
                    rest = self._frames(buf + chunk, sender, framing)
                finally:
                    self._deliver()
                if rest is None:  # a frame the connection cannot go on after
                    return
                buf = rest
            if buf.strip() and not framing.skip:
                self.handle(buf, sender)  # a last frame without its terminator

    def _frames(self, buf: bytes, sender: str, framing: _Framing | None = None) -> bytes | None:
        """Handle every complete frame in ``buf``; return the incomplete rest, or None when
        the connection must be closed (an octet count over the line cap)."""
        framing = framing if framing is not None else _Framing()
        pos, n = 0, len(buf)
        while pos < n:
            if framing.skip:  # the rest of a frame over the cap: drop it to its terminator
                end = framing.end(buf, pos)
                if end < 0:
                    return b""
                framing.skip = False
                pos = end + 1
                continue
            first = buf[pos:pos + 1]
            if first.isdigit():  # octet counting: "<len> <msg>"
                sp = buf.find(b" ", pos, pos + 12)
                if sp < 0:
                    if n - pos >= 12:
                        return self._bad_frame(buf, pos, sender)
                    break
                length = int(buf[pos:sp]) if buf[pos:sp].isdigit() else -1
                if length < 0 or sp - pos > 9:  # no count: a line that starts with a number
                    return self._bad_frame(buf, pos, sender)
                if length > self.max_message:  # honoured, it would eat the lines after it
                    self._limit(OCTET_COUNT_OVER, sender, buf[pos:pos + 200])
                    return None
                end = sp + 1 + length
                if end > n:
                    break
                self.handle(buf[sp + 1:end], sender)
                pos = end
            else:
                end = framing.end(buf, pos)
                if end < 0:
                    if n - pos > self.max_message:  # its head, cut; the rest is dropped
                        self.handle(buf[pos:pos + self.max_message + 1], sender)
                        framing.skip = True
                        return b""
                    break
                if end > pos:
                    self.handle(buf[pos:end], sender)
                pos = end + 1
        return buf[pos:]

    def _bad_frame(self, buf: bytes, pos: int, sender: str) -> bytes:
        """A frame that is neither: dead-letter up to the next newline and resync."""
        nl = buf.find(b"\n", pos)
        bad = buf[pos:nl if nl >= 0 else len(buf)]
        self._drop("bad octet-count frame", sender, bad[:1000])
        return b"" if nl < 0 else buf[nl + 1:]

    def _limit(self, reason: str, sender: str, raw: bytes | None = None) -> None:
        """Input refused at a bound: counted here and in the shared stats (``raw``, what
        there is of it, dead-lettered)."""
        with self._count_lock:
            self.counters.dropped[reason] += 1
        self.stats.limit(f"syslog:{sender}", reason)
        if raw is not None and self.dead_letters is not None:
            self.dead_letters.put(f"syslog:{sender}", raw, reason)

    def _drop(self, reason: str, sender: str, raw: bytes) -> None:
        with self._count_lock:
            self.counters.dropped[reason] += 1
        if self.dead_letters is not None:
            self.dead_letters.put(f"syslog:{sender}", raw, reason)

    def _stream(self, sender: str) -> _Stream:
        origin = f"syslog:{sender}"
        stream = self._streams.get(origin)
        if stream is None:
            with self._streams_lock:
                stream = self._streams.get(origin)
                if stream is None:
                    now = datetime.now(UTC)
                    ctx = StreamContext(origin, now.year, now, host=sender, stats=self.stats,
                                        dead_letters=self.dead_letters, month=now.month,
                                        max_line=self.max_message)
                    stream = _Stream(make_parser(self.senders.get(sender), ctx, self.routes))
                    self._streams[origin] = stream
        return stream

    def handle(self, data: bytes, sender: str) -> None:
        """Parse one syslog message from ``sender`` and deliver its event(s)."""
        text = data.decode("utf-8", errors="replace").rstrip("\r\n\x00")
        with self._count_lock:
            self.counters.received += 1
        stream = self._stream(sender)
        parser, ctx = stream.parser, stream.parser.ctx
        if len(text) > ctx.max_line:
            text = cut_line(ctx, text)
        with stream.lock:
            stream.seq += 1
            position = f"{self._boot}:{stream.seq}"
            now = datetime.now(UTC)  # a live stream's clock is the arrival time
            try:
                head = split_header(text, now.year, now.month)
                if head.time is None:
                    ctx.default_time = now
                result = parser.parse(head, text, position)
            except Exception as exc:  # a bad line or a parser bug must not kill the receiver
                reject(ctx, parser.kind, text, exc)
                return
            out: list[Event] = []
            if result is None:
                self.stats.miss(ctx.origin, text)
            elif result is IGNORED:
                self.stats.ignore(ctx.origin)
            else:
                out.append(result)  # type: ignore[arg-type]
            if parser.ready:
                out.extend(parser.ready)
                parser.ready.clear()
            self._emit(out)

    def _collect(self) -> None:
        """From now on this thread's events wait in a list for ``_deliver`` (batch mode)."""
        if self.batch is not None:
            self._local.pending = []

    def _deliver(self) -> None:
        pending: list[Event] | None = getattr(self._local, "pending", None)
        self._local.pending = None
        if pending and self.batch is not None:
            self.batch(pending)

    def _emit(self, events: list[Event]) -> None:
        if not events:
            return
        with self._count_lock:
            self.counters.events += len(events)
        pending: list[Event] | None = getattr(self._local, "pending", None)
        if pending is not None:
            pending.extend(events)
        elif self.batch is not None:
            self.batch(events)
        else:
            for event in events:
                self.callback(event)
