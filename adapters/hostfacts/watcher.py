"""Watching a host-facts file and delivering its events as it changes.

``ip`` output is re-read whole when its mtime, size or inode change; the
events' ids hash their content, so the unchanged devices of a re-read snapshot
are redeliveries the engine drops and only what changed fires anew. A file read
while its writer is half-way (not JSON yet) is retried at the next poll; still
malformed at a poll that finds it unchanged, it goes to the dead letters with
the reason. A recording is followed by offset: each complete line appended is
read once (its bad lines dead-lettered as ``path:line``), from the start again
when the file is replaced or truncated.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from adapters.deadletter import DeadLetters
from adapters.hostfacts.iplink import (
    events_from_bytes,
    events_from_lines,
    mtime_time,
    sniff_form,
)
from engine.events import Event

log = logging.getLogger(__name__)
Signature = tuple[int, int, int, int]  # (dev, inode, size, mtime_ns)


class HostFactsWatcher:
    """Poll one file (``ip -details -json link`` output or a JSON-lines recording).

    ``host`` names the host for the first form (the recording names its own);
    ``callback`` gets each event. ``poll()`` checks once; ``start()``/``stop()``
    run the polls on a daemon thread every ``poll_interval`` seconds.
    """

    def __init__(self, path: Path | str, callback: Callable[[Event], None],
                 host: str | None = None, poll_interval: float = 10.0,
                 dead_letters: DeadLetters | None = None) -> None:
        self.path = Path(path)
        self.callback = callback
        self.host = host
        self.poll_interval = poll_interval
        self.dead_letters = dead_letters
        self._seen: Signature | None = None  # last signature read completely
        self._failed: Signature | None = None  # last signature that did not parse
        self._file: tuple[int, int] | None = None  # (dev, inode) read last
        self._offset = 0  # a recording: bytes of complete lines delivered
        self._lines = 0  # ... and how many lines that is (for dead-letter origins)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _signature(self) -> Signature | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns

    def poll(self) -> int:
        """Read what changed since the last poll; the number of events delivered."""
        sig = self._signature()
        if sig is None or sig == self._seen:
            return 0
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        if self._signature() != sig:
            return 0  # written while we read: next poll
        origin = str(self.path)
        if sniff_form(data) == "ip":
            mtime = mtime_time(sig[3])
            events, problems = events_from_bytes(data, origin, self.host, mtime)
            if problems and sig != self._failed:
                self._failed = sig  # maybe half-written: wait one poll for it to settle
                return 0
            self._offset = self._lines = 0
        else:  # a recording: only the complete lines appended since the last read
            if (sig[0], sig[1]) != self._file or len(data) < self._offset:
                self._offset = self._lines = 0  # a new file, or truncated: from the start
            end = data.rfind(b"\n") + 1
            chunk = data[self._offset:end] if end > self._offset else b""
            events, problems = events_from_lines(chunk.splitlines(keepends=True), origin,
                                                 self._lines + 1)
            self._offset = max(end, self._offset)
            self._lines += chunk.count(b"\n")
        self._file = (sig[0], sig[1])
        self._seen = sig
        for where, raw, reason in problems:
            log.warning("host facts %s: %s", where, reason)
            if self.dead_letters is not None:
                self.dead_letters.put(where, raw, reason)
        for event in events:
            self.callback(event)
        return len(events)

    def start(self) -> HostFactsWatcher:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"hostfacts:{self.path}",
                                        daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # a bad file must not end the watch
                log.exception("host facts %s: poll failed", self.path)
            self._stop.wait(self.poll_interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> HostFactsWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
