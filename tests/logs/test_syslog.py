"""Syslog listener: RFC 3164 and RFC 5424 over UDP, and over TCP in both framings."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.deadletter import DeadLetters
from adapters.logs import SyslogServer
from adapters.logs.header import split_header
from engine.events import Event


class Sink:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self.lock:
            self.events.append(event)

    def wait(self, n: int, timeout: float = 5.0) -> list[Event]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.events) >= n:
                    return list(self.events)
            time.sleep(0.01)
        return list(self.events)


@pytest.fixture()
def arista(corpus: Path) -> str:
    return (corpus / "logs" / "switch-bpduguard-arista-eos.log").read_text().splitlines()[0]


@pytest.fixture()
def dnsmasq(corpus: Path) -> list[str]:
    return (corpus / "logs" / "dnsmasq-dhcp.log").read_text().splitlines()[:4]


def rfc3164(line: str) -> bytes:
    return b"<28>" + line.encode()


def rfc5424(line: str) -> bytes:
    """The same line re-sent as RFC 5424 (host, app, procid from its 3164 header)."""
    _mon, _day, _clock, host, tag, msg = line.split(None, 5)
    app, pid = tag.rstrip(":").rstrip("]").split("[") if "[" in tag else (tag.rstrip(":"), "-")
    return f"<30>1 2019-02-15T01:40:18.123+01:00 {host} {app} {pid} - - {msg}".encode()


@pytest.fixture()
def server() -> Iterator[tuple[SyslogServer, Sink, DeadLetters]]:
    sink, dead = Sink(), DeadLetters(None)
    srv = SyslogServer(sink, port=0, dead_letters=dead).start()
    yield srv, sink, dead
    srv.stop()


def test_binds_loopback_by_default() -> None:
    srv = SyslogServer(lambda e: None, port=0)
    try:
        assert srv.udp_address is not None and srv.udp_address[0] == "127.0.0.1"
        assert srv.tcp_address is not None and srv.tcp_address[0] == "127.0.0.1"
    finally:
        srv.stop()


def test_rfc5424_header(arista: str) -> None:
    head = split_header(rfc5424(arista).decode(), 2020)
    assert (head.host, head.program) == ("SW-1", "Stp")
    assert head.message.startswith("%SPANTREE-4-BLOCK_BPDUGUARD")
    assert head.time is not None and head.time.isoformat() == "2019-02-15T00:40:18.123000+00:00"


def test_udp_both_rfcs(server: tuple[SyslogServer, Sink, DeadLetters], arista: str,
                       dnsmasq: list[str]) -> None:
    srv, sink, _ = server
    assert srv.udp_address is not None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(rfc3164(arista), srv.udp_address)
        udp.sendto(rfc5424(arista), srv.udp_address)
        udp.sendto(rfc3164(dnsmasq[3]), srv.udp_address)
        udp.sendto(rfc5424(dnsmasq[3]), srv.udp_address)
    events = sink.wait(4)
    types = sorted(e.type for e in events)
    assert types == ["dnsmasq.dhcp.ack"] * 2 + ["switch.stp.bpdu_guard"] * 2
    assert {e.mac for e in events} == {"fa:16:3e:24:e7:22", "fa:16:3e:56:0b:6f"}
    assert all(e.origin == "syslog:127.0.0.1" for e in events)
    assert len({e.id for e in events}) == 4


@pytest.mark.parametrize("octet_counted", [False, True])
def test_tcp_framing_both_rfcs(server: tuple[SyslogServer, Sink, DeadLetters], arista: str,
                               dnsmasq: list[str], octet_counted: bool) -> None:
    srv, sink, _ = server
    messages = [rfc3164(dnsmasq[0]), rfc5424(dnsmasq[1]), rfc3164(arista), rfc5424(dnsmasq[2])]
    if octet_counted:
        stream = b"".join(str(len(m)).encode() + b" " + m for m in messages)
    else:
        stream = b"".join(m + b"\n" for m in messages)
    assert srv.tcp_address is not None
    with socket.create_connection(srv.tcp_address) as tcp:
        for i in range(0, len(stream), 37):  # frames split across segments
            tcp.sendall(stream[i:i + 37])
            time.sleep(0.001)
    events = sink.wait(4)
    assert [e.type for e in events] == [
        "dnsmasq.dhcp.discover", "dnsmasq.dhcp.offer", "switch.stp.bpdu_guard",
        "dnsmasq.dhcp.request",
    ]


def test_octet_counting_keeps_embedded_newlines(
        server: tuple[SyslogServer, Sink, DeadLetters], corpus: Path) -> None:
    srv, sink, _ = server
    record = "\n".join((corpus / "logs" / "rabbitmq-memory-alarm.log").read_text()
                       .splitlines()[2:7]).encode()
    msg = b"<28>1 2019-05-06T03:56:36Z ctl001 rabbitmq-server - - - " + record
    assert srv.tcp_address is not None
    with socket.create_connection(srv.tcp_address) as tcp:
        tcp.sendall(str(len(msg)).encode() + b" " + msg)
    deadline = time.monotonic() + 5
    while srv.counters.received < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    srv.stop()  # flushes the held-back 3.6 record
    events = sink.wait(1)
    assert [e.type for e in events] == ["rabbitmq.alarm.memory.set"]
    assert events[0].host == "rabbit@ctl001"


def test_bad_frame_is_dead_lettered_and_stream_goes_on(
        server: tuple[SyslogServer, Sink, DeadLetters], arista: str) -> None:
    srv, sink, dead = server
    assert srv.tcp_address is not None
    with socket.create_connection(srv.tcp_address) as tcp:
        tcp.sendall(b"99999999999 nonsense\n" + rfc3164(arista) + b"\n")
    events = sink.wait(1)
    assert [e.type for e in events] == ["switch.stp.bpdu_guard"]
    assert srv.counters.dropped["bad octet-count frame"] == 1
    assert dead.total == 1 and "nonsense" in dead.kept[0]["raw"]


def test_unknown_lines_are_counted_not_errors(
        server: tuple[SyslogServer, Sink, DeadLetters], arista: str) -> None:
    srv, sink, _ = server
    assert srv.udp_address is not None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(b"<13>Feb 15 01:40:18 host1 sshd[1]: Accepted publickey for x", srv.udp_address)
        udp.sendto(rfc3164(arista), srv.udp_address)
    sink.wait(1)
    deadline = time.monotonic() + 5
    while srv.counters.received < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert srv.stats.unparsed["syslog:127.0.0.1"] == 1
    assert "sshd" in srv.stats.sample()[0]


NUL_FIRST = b"<13>a: hello\x00"
TRACEBACK = (b"<11>a: failed\nTraceback (most recent call last):\n  File \"x\"\nValueError: x\x00"
             b"<13>a: next\n\x00")


@pytest.mark.parametrize(("stream", "frames", "first_cut"), [
    (b"<13>a: one\r\n<13>a: two\r\n", ["<13>a: one", "<13>a: two"], 1),  # CRLF
    (b"<13>a: one\x00<13>a: two\x00", ["<13>a: one", "<13>a: two"], 1),  # NUL (SysLogHandler)
    # a traceback's LFs stay inside its NUL-ended frame: when it arrives whole, or in pieces
    # once the connection has ended a frame with NUL (a first frame cut right after an LF
    # cannot be told from an LF-framed one)
    (TRACEBACK, ["<11>a: failed\nTraceback (most recent call last):\n  File \"x\"\nValueError: x",
                 "<13>a: next\n"], len(TRACEBACK)),
    (NUL_FIRST + TRACEBACK, ["<13>a: hello", "<11>a: failed\nTraceback (most recent call last):"
                             "\n  File \"x\"\nValueError: x", "<13>a: next\n"], len(NUL_FIRST)),
    (b"<13>a: one\n<13>a: two\x00", ["<13>a: one", "<13>a: two"], 1),  # the LF starts a message
    (b"10 <13>a: one<13>a: two\n", ["<13>a: one", "<13>a: two"], 1),  # octet count, then LF
])
def test_tcp_frames_are_decided_per_frame(stream: bytes, frames: list[str],
                                          first_cut: int) -> None:
    """Split into two segments anywhere from ``first_cut`` on, the stream gives the same frames."""
    from adapters.logs.syslog import _Framing

    srv = SyslogServer(lambda e: None, port=0, udp=False)
    seen: list[bytes] = []
    srv.handle = lambda data, sender: seen.append(data)  # type: ignore[method-assign]
    try:
        for cut in range(first_cut, len(stream) + 1):
            seen.clear()
            framing = _Framing()
            rest = srv._frames(stream[:cut], "t", framing)
            rest = srv._frames(rest + stream[cut:], "t", framing)
            assert not rest.strip(), cut
            assert [f.decode().rstrip("\r") for f in seen] == frames, cut
    finally:
        srv.stop()


def test_udp_datagram_with_trailing_nul(server: tuple[SyslogServer, Sink, DeadLetters],
                                        arista: str) -> None:
    srv, sink, _ = server
    assert srv.udp_address is not None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(rfc3164(arista) + b"\x00", srv.udp_address)
    assert [e.type for e in sink.wait(1)] == ["switch.stp.bpdu_guard"]
