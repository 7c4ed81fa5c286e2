"""Real syslog senders into a real ``SyslogServer``: Python's ``SysLogHandler`` (UDP and
TCP, with and without ident, its default NUL terminator), util-linux ``logger`` (UDP and
TCP, RFC 3164 and RFC 5424, both TCP framings) and rsyslog (forwarding with its RFC 3164
and RFC 5424 templates, and writing ``RSYSLOG_SyslogProtocol23Format`` to a file).

The messages are corpus lines without their header; what the receiver makes of them is
held to what the file parser makes of the same corpus lines. ``logger`` and ``rsyslogd``
are Debian packages (``bsdutils``/``util-linux``, ``rsyslog``): missing, the test skips
with the reason, under ``CI=true`` it fails.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.logs import SyslogServer
from adapters.logs.header import split_header
from adapters.logs.pipeline import events_from_file, parse_lines
from engine.events import Event
from tests.conftest import unavailable

Key = tuple[str, str | None, str | None, str | None, str | None]


def key(event: Event) -> Key:
    """What a line means, whatever carried it (not its id, host, time, nor its severity:
    a PRI fills in where a line has no level of its own; tested on its own below)."""
    return (event.type, event.mac, event.request_id, event.instance_id, event.volume_id)


def families(keys: list[Key]) -> dict[str, list[Key]]:
    """Keys per source family (``dnsmasq``, ``haproxy``...), each in its order."""
    out: dict[str, list[Key]] = {}
    for k in keys:
        out.setdefault(k[0].split(".", 1)[0], []).append(k)
    return out


def origin(event: Event) -> tuple[str | None, int, int, int, int, int]:
    """Where and when the header says the line was written (rsyslog adds its own year)."""
    t = event.time
    return event.host, t.month, t.day, t.hour, t.minute, t.second


class Sink:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self.lock:
            self.events.append(event)


def wait_for(srv: SyslogServer, received: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while srv.counters.received < received and time.monotonic() < deadline:
        time.sleep(0.02)


@dataclass
class Corpus:
    """One corpus file: the messages to send (header taken off), their ident and meaning."""

    kind: str
    ident: str  # the program name a sender puts in front
    pid: str | None
    messages: list[str]
    expected: list[Key]
    lines: list[str]  # as stored, header included


def _corpus(corpus: Path, name: str, kind: str, ident: str | None = None) -> Corpus:
    path = corpus / "logs" / name
    lines = path.read_text().splitlines()
    heads = [split_header(line, 2020) for line in lines]
    program = ident or next(h.program for h in heads if h.program)
    pid = None
    if ident is None:
        tag = lines[0].split(f"{program}[", 1)
        pid = tag[1].split("]", 1)[0] if len(tag) > 1 else None
    messages = [h.message if ident is None else line for h, line in zip(heads, lines, strict=True)]
    return Corpus(kind, program, pid, messages, [key(e) for e in events_from_file(path)], lines)


@pytest.fixture(scope="module")
def sources(corpus: Path) -> list[Corpus]:
    out = [
        _corpus(corpus, "dnsmasq-dhcp.log", "dnsmasq"),
        _corpus(corpus, "haproxy.log", "haproxy"),
        _corpus(corpus, "switch-bpduguard-arista-eos.log", "switch"),
        _corpus(corpus, "cinder-volume.log", "cinder-volume", ident="cinder-volume"),
    ]
    assert all(c.expected for c in out)
    return out


def _server(**kw: object) -> tuple[SyslogServer, Sink]:
    sink = Sink()
    return SyslogServer(sink, port=0, **kw).start(), sink  # type: ignore[arg-type]


def _python_logger(handler: logging.Handler) -> logging.Logger:
    log = logging.getLogger(f"producer-{id(handler)}")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.handlers = [handler]
    return log


@pytest.mark.parametrize("socktype", [socket.SOCK_DGRAM, socket.SOCK_STREAM], ids=["udp", "tcp"])
@pytest.mark.parametrize("with_pid", [False, True], ids=["ident", "ident-pid"])
def test_python_syslog_handler_with_ident(sources: list[Corpus], socktype: int,
                                          with_pid: bool) -> None:
    srv, sink = _server(udp=socktype == socket.SOCK_DGRAM, tcp=socktype == socket.SOCK_STREAM)
    address = srv.udp_address or srv.tcp_address
    assert address is not None
    sent = 0
    try:
        for src in sources:
            handler = logging.handlers.SysLogHandler(address, socktype=socktype)
            assert handler.append_nul  # the default: every message ends with NUL
            handler.ident = f"{src.ident}[4242]: " if with_pid else f"{src.ident}: "
            log = _python_logger(handler)
            for message in src.messages:
                log.info(message)
                sent += 1
            handler.close()
        wait_for(srv, sent)
    finally:
        srv.stop()
    assert srv.counters.received == sent
    # one connection per source over TCP: in order within each, not across them
    assert families([key(e) for e in sink.events]) == \
        families([k for src in sources for k in src.expected])
    assert all(e.host == "127.0.0.1" for e in sink.events)  # no header host: the sender


@pytest.mark.parametrize("socktype", [socket.SOCK_DGRAM, socket.SOCK_STREAM], ids=["udp", "tcp"])
def test_python_syslog_handler_without_ident(sources: list[Corpus], socktype: int) -> None:
    """No ident at all: the stream's kind comes from the configured sender."""
    for src in sources:
        srv, sink = _server(udp=socktype == socket.SOCK_DGRAM,
                            tcp=socktype == socket.SOCK_STREAM,
                            senders={"127.0.0.1": src.kind})
        address = srv.udp_address or srv.tcp_address
        assert address is not None
        try:
            handler = logging.handlers.SysLogHandler(address, socktype=socktype)
            log = _python_logger(handler)
            for message in src.messages:
                log.info(message)
            handler.close()
            wait_for(srv, len(src.messages))
        finally:
            srv.stop()
        assert srv.counters.received == len(src.messages), src.kind
        assert [key(e) for e in sink.events] == src.expected, src.kind


def test_python_tcp_traceback_is_one_message() -> None:
    """A logged exception has LFs inside its one NUL-terminated frame."""
    srv, _ = _server(udp=False)
    assert srv.tcp_address is not None
    handler = logging.handlers.SysLogHandler(srv.tcp_address, socktype=socket.SOCK_STREAM)
    handler.ident = "myapp: "
    log = _python_logger(handler)
    try:
        for n in range(3):
            try:
                raise ValueError(f"boom {n}")
            except ValueError:
                log.exception("failed %d", n)
        log.error("after")
        handler.close()
        wait_for(srv, 4)
    finally:
        srv.stop()
    assert srv.counters.received == 4
    assert srv.stats.unparsed["syslog:127.0.0.1"] == 4  # myapp: no parser, counted per message


def test_python_severity_from_pri_only_when_the_line_has_none(sources: list[Corpus]) -> None:
    """haproxy lines sent at ERROR: a 200 becomes an error (the PRI fills in), a 5xx stays
    one; sent at INFO a 5xx is still an error (its own level wins)."""
    haproxy = next(s for s in sources if s.kind == "haproxy")
    requests = [m for m in haproxy.messages if '"GET' in m]
    five = requests[0].replace(" 200 ", " 503 ", 1)
    assert five != requests[0]
    srv, sink = _server(tcp=False)
    assert srv.udp_address is not None
    handler = logging.handlers.SysLogHandler(srv.udp_address)
    handler.ident = "haproxy: "
    log = _python_logger(handler)
    try:
        log.info(requests[0])
        log.error(requests[0])
        log.info(five)
        wait_for(srv, 3)
        deadline = time.monotonic() + 5
        while len(sink.events) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        handler.close()
        srv.stop()
    assert [(e.data["status"], e.severity) for e in sink.events] == \
        [(200, "info"), (200, "error"), (503, "error")]


LOGGER = shutil.which("logger") or "/usr/bin/logger"


def _need_logger() -> None:
    try:
        out = subprocess.run([LOGGER, "--version"], capture_output=True, text=True, timeout=10)
    except OSError:
        unavailable("util-linux logger is not installed (apt-get install bsdutils)")
        return
    if "util-linux" not in out.stdout:
        unavailable(f"{LOGGER} is not util-linux logger: {out.stdout.strip()!r}")


@pytest.mark.parametrize(("transport", "rfc"), [
    ("--udp", "--rfc3164"), ("--udp", "--rfc5424"), ("--tcp", "--rfc3164"),
    ("--tcp", "--rfc5424"), ("--tcp --octet-count", "--rfc5424"),
])
def test_util_linux_logger(sources: list[Corpus], transport: str, rfc: str) -> None:
    _need_logger()
    udp = transport == "--udp"
    srv, sink = _server(udp=udp, tcp=not udp)
    address = srv.udp_address or srv.tcp_address
    assert address is not None
    sent = 0
    try:
        for src in sources:
            if src.kind == "cinder-volume":
                continue  # oslo lines longer than logger's 1 KiB default are covered above
            cmd = [LOGGER, "--server", "127.0.0.1", "--port", str(address[1]),
                   *transport.split(), rfc, "-t", src.ident, "-p", "daemon.info"]
            if src.pid:
                cmd.append(f"--id={src.pid}")
            subprocess.run(cmd, input="\n".join(src.messages) + "\n", text=True, check=True,
                           timeout=30)
            sent += len(src.messages)
        wait_for(srv, sent)
    finally:
        srv.stop()
    assert srv.counters.received == sent
    expected = [k for src in sources if src.kind != "cinder-volume" for k in src.expected]
    assert families([key(e) for e in sink.events]) == families(expected)  # a run per source
    me = socket.gethostname()
    assert {e.host for e in sink.events if e.type.startswith("dnsmasq")} == {me}
    now = time.time()
    assert all(abs(e.time.timestamp() - now) < 120 for e in sink.events
               if e.type.startswith("dnsmasq"))  # the stamp logger wrote, read


RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
RFC3164 = re.compile(r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ \S+: ")


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture()
def rsyslog(tmp_path: Path) -> Iterator[tuple[int, SyslogServer, SyslogServer, SyslogServer,
                                              list[Sink], Path]]:
    """An rsyslogd of our own: UDP in on a free port, forwarding RFC 3164 over UDP, RFC 5424
    over TCP (LF framing) and RFC 5424 octet-counted, and writing the RFC 5424 file (and the same
    with its RSYSLOG_FileFormat and RSYSLOG_TraditionalFileFormat templates)."""
    if not Path(RSYSLOGD).exists():
        unavailable("rsyslogd is not installed (apt-get install rsyslog)")
    servers = [_server(tcp=False), _server(udp=False), _server(udp=False)]
    (s3164, k1), (s5424, k2), (soct, k3) = servers
    assert s3164.udp_address and s5424.tcp_address and soct.tcp_address
    port = _free_udp_port()
    work = tmp_path / "work"
    work.mkdir()
    out = tmp_path / "protocol23.log"
    conf = tmp_path / "rsyslog.conf"
    conf.write_text(f'''
global(workDirectory="{work}")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="{port}")
action(type="omfwd" target="127.0.0.1" port="{s3164.udp_address[1]}" protocol="udp"
       template="RSYSLOG_TraditionalForwardFormat")
action(type="omfwd" target="127.0.0.1" port="{s5424.tcp_address[1]}" protocol="tcp"
       template="RSYSLOG_SyslogProtocol23Format")
action(type="omfwd" target="127.0.0.1" port="{soct.tcp_address[1]}" protocol="tcp"
       TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
action(type="omfile" file="{out}" template="RSYSLOG_SyslogProtocol23Format")
action(type="omfile" file="{tmp_path / 'file-format.log'}" template="RSYSLOG_FileFormat")
action(type="omfile" file="{tmp_path / 'traditional.log'}"
       template="RSYSLOG_TraditionalFileFormat")
''')
    proc = subprocess.Popen([RSYSLOGD, "-n", "-f", str(conf), "-i", str(tmp_path / "pid")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield port, s3164, s5424, soct, [k1, k2, k3], out
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for srv, _ in servers:
            srv.stop()


def test_rsyslog_forwarding_and_file(
        sources: list[Corpus],
        rsyslog: tuple[int, SyslogServer, SyslogServer, SyslogServer, list[Sink], Path]) -> None:
    port, s3164, s5424, soct, sinks, out = rsyslog
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        deadline = time.monotonic() + 15
        while s3164.counters.received == 0 and time.monotonic() < deadline:
            udp.sendto(b"<13>Jan  1 00:00:00 probe probe: ready?", ("127.0.0.1", port))
            time.sleep(0.2)  # rsyslogd takes a moment to bind its input
        assert s3164.counters.received, "rsyslogd forwarded nothing"
        time.sleep(0.5)
        probes = [s.counters.received for s in (s3164, s5424, soct)]
        sent = 0
        expected: list[Key] = []
        origins: list[tuple[str | None, int, int, int, int, int]] = []
        for src in sources:
            # what rsyslog reads as RFC 3164 (not OpenWrt's weekday form, not bare oslo)
            lines = [line for line in src.lines if RFC3164.match(line)]
            parsed = list(parse_lines(lines, src.kind, src.kind, year=2020))
            expected += [key(e) for e in parsed]
            origins += [origin(e) for e in parsed]
            for line in lines:
                udp.sendto(b"<30>" + line.encode(), ("127.0.0.1", port))
                sent += 1
                time.sleep(0.002)  # UDP into rsyslog: do not overrun its socket
    assert sent > 25 and len(expected) > 20
    for srv, probe in zip((s3164, s5424, soct), probes, strict=True):
        wait_for(srv, probe + sent)
    for name, srv, sink in zip(("udp/3164", "tcp/5424", "octet/5424"),
                               (s3164, s5424, soct), sinks, strict=True):
        assert srv.counters.received >= sent, name
        assert [key(e) for e in sink.events] == expected, name
        # host and time of the original header, whichever way rsyslog passed them on
        assert [origin(e) for e in sink.events] == origins, name
    deadline = time.monotonic() + 10
    while out.read_text().count("\n") < sent + 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    events = list(events_from_file(out))
    assert [key(e) for e in events] == expected
    assert [origin(e) for e in events] == origins
    # rsyslog's other file templates: RFC 3339 stamps, and the traditional RFC 3164 form
    for name in ("file-format.log", "traditional.log"):
        written = out.with_name(name)
        assert written.read_text().count("\n") >= sent + 1, name
        events = list(events_from_file(written))
        assert [key(e) for e in events] == expected, name
        assert [origin(e) for e in events] == origins, name
    assert all(line.startswith("<30>1 ") for line in out.read_text().splitlines()[1:])
