"""sd_notify against a real AF_UNIX datagram socket, as systemd listens."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dreamcatcher.sdnotify import Notifier


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    yield sock, str(path)
    sock.close()


def _fields(sock: socket.socket) -> dict[str, str]:
    data = sock.recv(4096).decode()
    return dict(line.split("=", 1) for line in data.splitlines())


def test_ready_status_stopping(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = Notifier({"NOTIFY_SOCKET": path})
    assert notifier.enabled
    assert notifier.ready("consuming 3 sources")
    assert _fields(sock) == {"READY": "1", "STATUS": "consuming 3 sources"}
    assert notifier.status("backlog 1200")
    assert _fields(sock) == {"STATUS": "backlog 1200"}
    assert notifier.stopping("draining the alert router")
    assert _fields(sock) == {"STOPPING": "1", "STATUS": "draining the alert router"}
    notifier.close()


def test_abstract_socket_name() -> None:
    name = f"dreamcatcher-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(5)
    try:
        notifier = Notifier({"NOTIFY_SOCKET": f"@{name}"})
        assert notifier.ready()
        assert _fields(sock) == {"READY": "1"}
        notifier.close()
    finally:
        sock.close()


def test_without_the_variable_nothing_is_sent() -> None:
    notifier = Notifier({})
    assert not notifier.enabled
    assert notifier.ready() is False and notifier.watchdog() is False
    assert notifier.start_watchdog(lambda: True) is None


def test_a_vanished_socket_is_not_an_error(tmp_path: Path) -> None:
    assert Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")}).ready() is False


def test_watchdog_only_when_asked_and_only_while_healthy(
        listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    assert Notifier({"NOTIFY_SOCKET": path}).watchdog() is False  # no WATCHDOG_USEC
    other_pid = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "100000",
                          "WATCHDOG_PID": str(os.getpid() + 1)})
    assert other_pid.watchdog_interval is None  # meant for another process
    healthy = [True]
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "100000",
                         "WATCHDOG_PID": str(os.getpid())})
    assert notifier.watchdog_interval == pytest.approx(0.1)
    thread = notifier.start_watchdog(lambda: healthy[0])
    assert thread is not None
    assert _fields(sock) == {"WATCHDOG": "1"}
    assert _fields(sock) == {"WATCHDOG": "1"}
    healthy[0] = False
    time.sleep(0.3)  # a ping may have been on its way
    sock.setblocking(False)
    while True:
        try:
            sock.recv(4096)
        except BlockingIOError:
            break
    time.sleep(0.3)  # three periods
    with pytest.raises(BlockingIOError):
        sock.recv(4096)  # an unhealthy worker sends no more pings
    notifier.close()
    thread.join(timeout=1)
    assert not thread.is_alive()
