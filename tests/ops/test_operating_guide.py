"""The operator guide's rsyslog forwarding snippet, run by a real rsyslogd.

The snippet is read out of docs/operating.md, so the guide cannot drift from what
was tested: rsyslogd receives lines (util-linux ``logger`` over UDP) and forwards
the ones the filter keeps to a TCP listener, octet-counted RFC 5424, as the worker's
syslog source expects.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.paths import REPO

GUIDE = REPO / "docs" / "operating.md"


def _snippet() -> str:
    blocks = re.findall(r"^```\w*\n(.*?)^```", GUIDE.read_text(), re.S | re.M)
    [block] = [str(b) for b in blocks if 'action(type="omfwd"' in b]
    return block


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_bound(port: int, daemon: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Until rsyslogd has opened its UDP input (a line sent earlier would be lost)."""
    wanted = f"0100007F:{port:04X}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert daemon.poll() is None, daemon.stderr.read() if daemon.stderr else b""
        if any(line.split()[1] == wanted
               for line in Path("/proc/net/udp").read_text().splitlines()[1:]):
            return
        time.sleep(0.05)
    pytest.fail(f"rsyslogd did not open UDP port {port}")


@pytest.fixture
def receiver() -> Iterator[socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(20)
    yield server
    server.close()


def _frames(conn: socket.socket, wanted: int) -> list[str]:
    """Octet-counted frames: ``LEN SP MSG``."""
    buffer, frames = b"", list[str]()
    conn.settimeout(20)
    while len(frames) < wanted:
        chunk = conn.recv(65536)
        if not chunk:
            break
        buffer += chunk
        while b" " in buffer:
            length, _, rest = buffer.partition(b" ")
            if len(rest) < int(length):
                break
            frames.append(rest[:int(length)].decode())
            buffer = rest[int(length):]
    return frames


def test_the_rsyslog_snippet_forwards_what_the_rules_read(
        tmp_path: Path, receiver: socket.socket) -> None:
    rsyslogd, logger = require_tool("rsyslogd"), require_tool("logger")
    udp_port = _free_port(socket.SOCK_DGRAM)
    snippet = (_snippet().replace('target="dreamcatcher.example.com"', 'target="127.0.0.1"')
               .replace('port="5514"', f'port="{receiver.getsockname()[1]}"'))
    conf = tmp_path / "rsyslog.conf"
    conf.write_text(f'global(workDirectory="{tmp_path}")\nmodule(load="imudp")\n'
                    f'input(type="imudp" address="127.0.0.1" port="{udp_port}")\n{snippet}')
    check = subprocess.run([rsyslogd, "-N1", "-f", str(conf)], capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0, check.stderr
    daemon = subprocess.Popen([rsyslogd, "-n", "-f", str(conf), "-i", str(tmp_path / "pid")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_bound(udp_port, daemon)
        lines = [("nova-compute", "Removing base or swap file: /var/lib/nova/instances/_base/x"),
                 ("sshd", "Accepted publickey for root"),  # not read by any rule: filtered
                 ("dnsmasq-dhcp", "DHCPREQUEST(tap1) 10.0.0.22 fa:16:3e:56:0b:6f")]
        for tag, text in lines:
            subprocess.run([logger, "--rfc3164", "-d", "-n", "127.0.0.1", "-P", str(udp_port),
                            "-t", tag, text], check=True, timeout=30)
        conn, _ = receiver.accept()
        with conn:
            frames = _frames(conn, 2)
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
    assert len(frames) == 2, frames
    assert all(f.startswith("<") and re.match(r"<\d+>1 ", f) for f in frames)  # RFC 5424
    # the template ends each message with a newline, inside the counted frame
    assert " nova-compute " in frames[0] and frames[0].rstrip("\n").endswith(lines[0][1])
    assert " dnsmasq-dhcp " in frames[1] and frames[1].rstrip("\n").endswith(lines[2][1])
