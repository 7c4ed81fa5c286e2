"""Issue 19: the syslog receiver's bounds: TCP connections, octet counts, message length."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest

from adapters.deadletter import DeadLetters
from adapters.logs import SyslogServer, UnparsedStats
from adapters.logs.stats import LINE_CUT
from adapters.logs.syslog import OCTET_COUNT_OVER, TCP_REFUSED
from engine.events import Event

LINE = (b"<28>Feb 15 01:40:18 SW-1 Stp: %SPANTREE-4-BLOCK_BPDUGUARD: Received BPDU packet on "
        b"Port-Channel35 with BPDU guard enabled. Disabling interface.")


def _until(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return check()


@pytest.fixture()
def server() -> Iterator[tuple[SyslogServer, list[Event], DeadLetters]]:
    events: list[Event] = []
    dead = DeadLetters(None)
    srv = SyslogServer(events.append, port=0, udp=False, dead_letters=dead,
                       stats=UnparsedStats(), max_message=4096, max_connections=4).start()
    yield srv, events, dead
    srv.stop()


def _closed(conn: socket.socket) -> bool:
    """Whether the peer closed ``conn`` (a read gives EOF or a reset)."""
    conn.settimeout(2.0)
    try:
        return conn.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_connections_over_the_cap_are_refused_and_counted(
        server: tuple[SyslogServer, list[Event], DeadLetters]) -> None:
    srv, events, _ = server
    assert srv.tcp_address is not None
    held = [socket.create_connection(srv.tcp_address) for _ in range(4)]
    try:
        assert _until(lambda: srv.connections == 4)
        extra = socket.create_connection(srv.tcp_address)
        with extra:
            assert _closed(extra)
        assert _until(lambda: srv.counters.dropped[TCP_REFUSED] == 1)
        assert srv.stats.limits() == {("syslog:127.0.0.1", TCP_REFUSED): 1}
        held[0].sendall(LINE + b"\n")  # the ones served still are
        assert _until(lambda: len(events) == 1)
    finally:
        for conn in held:
            conn.close()
    assert _until(lambda: srv.connections == 0)  # a closed connection frees its place
    with socket.create_connection(srv.tcp_address) as again:
        again.sendall(LINE + b"\n")
        assert _until(lambda: len(events) == 2)


def test_threads_do_not_grow_with_connections_served(
        server: tuple[SyslogServer, list[Event], DeadLetters]) -> None:
    srv, events, _ = server
    assert srv.tcp_address is not None
    for n in range(1, 21):
        with socket.create_connection(srv.tcp_address) as conn:
            conn.sendall(LINE + b"\n")
        assert _until(lambda n=n: len(events) == n)
    assert _until(lambda: srv.connections == 0)
    assert len(srv._threads) == 1  # the accept loop; connections are not kept once done


def test_a_lying_octet_count_closes_the_connection_and_eats_nothing_after(
        server: tuple[SyslogServer, list[Event], DeadLetters]) -> None:
    """Issue 19: an octet count that lies swallowed the next 130 lines. Over the line cap it
    closes the connection (counted, dead-lettered); the lines after it are not one message."""
    srv, events, dead = server
    assert srv.tcp_address is not None
    follow = b"".join(str(len(LINE)).encode() + b" " + LINE for _ in range(130))
    with socket.create_connection(srv.tcp_address) as conn:
        conn.sendall(str(len(LINE)).encode() + b" " + LINE)  # one good frame first
        conn.sendall(b"50000 " + LINE + follow)
        assert _closed(conn)
    assert _until(lambda: srv.counters.dropped[OCTET_COUNT_OVER] == 1)
    assert srv.stats.limits()[("syslog:127.0.0.1", OCTET_COUNT_OVER)] == 1
    assert len(events) == 1  # the frame before it; nothing was taken as a 50,000-byte message
    assert srv.counters.received == 1
    assert [d["reason"] for d in dead.kept] == [OCTET_COUNT_OVER]
    assert dead.kept[0]["raw"].startswith("50000 <28>")


def test_a_count_within_the_cap_is_still_honoured(
        server: tuple[SyslogServer, list[Event], DeadLetters]) -> None:
    srv, events, _ = server
    assert srv.tcp_address is not None
    body = LINE + b" " + b"x" * 3000
    with socket.create_connection(srv.tcp_address) as conn:
        conn.sendall(str(len(body)).encode() + b" " + body)
        conn.sendall(str(len(LINE)).encode() + b" " + LINE)
    assert _until(lambda: len(events) == 2)
    assert len(events[0].raw) == len(body)


def test_an_lf_frame_over_the_cap_is_cut_and_its_rest_dropped(
        server: tuple[SyslogServer, list[Event], DeadLetters]) -> None:
    srv, events, _ = server
    assert srv.tcp_address is not None
    with socket.create_connection(srv.tcp_address) as conn:
        conn.sendall(LINE + b" " + b"y" * 10_000)
        time.sleep(0.2)
        conn.sendall(b"y" * 10_000 + b"\n" + LINE + b"\n")
    assert _until(lambda: len(events) == 2)
    assert len(events[0].raw) == 4096 and events[1].raw == LINE.decode()
    assert srv.stats.limits()[("syslog:127.0.0.1", LINE_CUT)] == 1
    assert srv.counters.received == 2  # the dropped rest is no message of its own


def test_a_udp_datagram_over_the_cap_is_cut_and_counted() -> None:
    events: list[Event] = []
    srv = SyslogServer(events.append, port=0, tcp=False, max_message=2048).start()
    try:
        assert srv.udp_address is not None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(LINE + b" " + b"z" * 5000, srv.udp_address)
        assert _until(lambda: len(events) == 1)
        assert len(events[0].raw) == 2048
        assert srv.stats.limits() == {("syslog:127.0.0.1", LINE_CUT): 1}
    finally:
        srv.stop()
