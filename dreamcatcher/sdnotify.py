"""systemd's ``Type=notify`` protocol without a dependency.

systemd passes ``$NOTIFY_SOCKET`` (a path, or ``@name`` for an abstract
socket) and expects datagrams of ``KEY=VALUE`` lines: ``READY=1`` once the
worker really consumes (so ``systemctl start`` waits for it and dependants
start after), ``STATUS=...`` for ``systemctl status``, ``STOPPING=1`` while it
drains, ``WATCHDOG=1`` at least every ``$WATCHDOG_USEC`` when the unit sets
``WatchdogSec=``. Without the variable (a terminal, a test) every call is a
no-op, so the worker calls it unconditionally.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Mapping


class Notifier:
    """Sends to the socket named by ``env`` (``os.environ`` by default)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        target = env.get("NOTIFY_SOCKET", "")
        self._address: str | bytes | None = None
        if target.startswith("@"):
            self._address = b"\0" + target[1:].encode()  # Linux abstract namespace
        elif target.startswith("/"):
            self._address = target
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        mine = not pid or pid == str(os.getpid())
        self.watchdog_interval: float | None = (
            int(usec) / 1e6 if usec.isdigit() and int(usec) > 0 and mine else None)
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._stop = threading.Event()

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def send(self, **fields: str | int) -> bool:
        """One datagram of ``KEY=VALUE`` lines; False when there is no socket or it failed
        (systemd gone: nothing the worker should stop for)."""
        if self._address is None:
            return False
        payload = "\n".join(f"{k.upper()}={v}" for k, v in fields.items()).encode()
        with self._lock:
            try:
                if self._sock is None:
                    self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                    self._sock.setblocking(False)
                self._sock.sendto(payload, self._address)
            except OSError:
                return False
        return True

    def ready(self, status: str = "") -> bool:
        return self.send(READY=1, **({"STATUS": status} if status else {}))

    def status(self, text: str) -> bool:
        return self.send(STATUS=text)

    def stopping(self, status: str = "") -> bool:
        return self.send(STOPPING=1, **({"STATUS": status} if status else {}))

    def reloading(self) -> bool:
        return self.send(RELOADING=1)

    def watchdog(self) -> bool:
        """A keep-alive ping; only sent when the unit asked for a watchdog."""
        return self.watchdog_interval is not None and self.send(WATCHDOG=1)

    def start_watchdog(self, healthy: Callable[[], bool]) -> threading.Thread | None:
        """Ping at half the interval while ``healthy()`` holds: a wedged engine stops
        the pings and systemd restarts the unit. None when no watchdog is asked for."""
        interval = self.watchdog_interval
        if interval is None:
            return None
        stop = self._stop

        def loop() -> None:
            while not stop.wait(interval / 2):
                if healthy():
                    self.watchdog()

        thread = threading.Thread(target=loop, name="sd-watchdog", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None
