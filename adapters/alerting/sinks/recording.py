"""A sink that keeps what it is sent: rule tests compare it with the notices they expect."""

from __future__ import annotations

import threading

from adapters.alerting.notice import Notice
from adapters.alerting.sinks.base import Sink


class RecordingSink(Sink):
    """Every notice sent, in delivery order (one sink thread: the router's order)."""

    def __init__(self, name: str = "recording") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._notices: list[Notice] = []

    def send(self, notice: Notice) -> None:
        with self._lock:
            self._notices.append(notice)

    @property
    def notices(self) -> list[Notice]:
        with self._lock:
            return list(self._notices)
