"""Following a log file through rotation, truncation and our own restarts.

The committed offset (file identity + byte offset) is saved only after the
events read up to it were handed to the callback, so a crash repeats at most
the batch in flight and a clean restart repeats and misses nothing. A file
rotated while we were down is found again by its inode among its siblings
(``nova-api.log.1``) and finished before the new file is read.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import orjson

from adapters.deadletter import DeadLetters
from adapters.logs.base import MAX_LINE, Parser, StreamContext
from adapters.logs.oslo import OsloFormat
from adapters.logs.pipeline import run_parser
from adapters.logs.router import kind_for_origin, make_parser
from adapters.logs.stats import UnparsedStats
from engine.events import Event


class OffsetStore:
    """Committed read positions per followed path, in a small JSON file (atomic writes)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._state: dict[str, dict[str, int]] = {}
        if path is not None and path.exists():
            self._state = orjson.loads(path.read_bytes())

    def get(self, key: str) -> dict[str, int] | None:
        with self._lock:
            return self._state.get(key)

    def commit(self, key: str, dev: int, ino: int, offset: int) -> None:
        with self._lock:
            self._state[key] = {"dev": dev, "ino": ino, "offset": offset}
            if self.path is None:
                return
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_bytes(orjson.dumps(self._state))
            os.replace(tmp, self.path)


class FileFollower:
    """Tail one file; each ``poll()`` returns the events of newly completed lines.

    Event ids are ``<path>#<inode>:<offset>`` so a rotated file's lines never
    share an id with its successor's.
    """

    def __init__(
        self,
        path: Path,
        callback: Callable[[Event], None] | None = None,
        *,
        kind: str | None = None,
        offsets: OffsetStore | None = None,
        stats: UnparsedStats | None = None,
        dead_letters: DeadLetters | None = None,
        year: int | None = None,
        routes: Mapping[str, str] | None = None,
        poll_interval: float = 0.2,
        start_at_end: bool = False,
        host: str | None = None,
        log_format: OsloFormat | None = None,
        deliver: Callable[[list[Event]], None] | None = None,
        max_line: int = MAX_LINE,
    ) -> None:
        self.path = Path(path)
        self.origin = str(self.path)
        self.callback = callback
        #: one call per read with all its events; it returns once they are stored,
        #: and only then is the offset committed (the live worker's engine queue)
        self.deliver = deliver
        self.offsets = offsets if offsets is not None else OffsetStore(None)
        self.stats = stats if stats is not None else UnparsedStats()
        self.poll_interval = poll_interval
        self._year = year
        self._kind = kind or kind_for_origin(self.origin, routes)
        self._routes = routes
        self._dead = dead_letters
        self._fh: BinaryIO | None = None
        self._ino = self._dev = 0
        self._offset = 0  # committed: everything before it was delivered
        self._start_at_end = start_at_end
        self._host = host  # the file's host, for lines that name none
        self._log_format = log_format
        self._parser: Parser | None = None
        self._idle_polls = 0
        self._max_line = max_line
        #: the rest of an unterminated line past the cap is being dropped, to its newline
        self._skipping = False

    # -- file handling -------------------------------------------------
    def _open(self, path: Path, offset: int) -> bool:
        try:
            fh = path.open("rb")
        except FileNotFoundError:
            return False
        st = os.fstat(fh.fileno())
        if st.st_size < offset:  # truncated while we were away
            offset = 0
        fh.seek(offset)
        self._close()
        self._fh, self._dev, self._ino, self._offset = fh, st.st_dev, st.st_ino, offset
        mtime = datetime.fromtimestamp(st.st_mtime, UTC)
        ctx = StreamContext(
            self.origin, self._year or mtime.year, mtime, host=self._host,
            stats=self.stats, dead_letters=self._dead, log_format=self._log_format,
            month=0 if self._year else mtime.month, max_line=self._max_line,
        )
        self._parser = make_parser(self._kind, ctx, self._routes)
        return True

    def _close(self) -> None:
        if self._fh is not None:
            self._fh.close()
        self._fh = None

    def _resume(self) -> None:
        """First open: continue where the last run committed, also across a rotation."""
        saved = self.offsets.get(self.origin)
        if saved is None:
            if self._open(self.path, 0) and self._start_at_end and self._fh is not None:
                self._offset = self._fh.seek(0, os.SEEK_END)
            return
        try:
            st = self.path.stat()
        except FileNotFoundError:
            st = None
        if st is not None and (st.st_dev, st.st_ino) == (saved["dev"], saved["ino"]):
            self._open(self.path, saved["offset"])
            return
        old = self._find_rotated(saved["dev"], saved["ino"])
        if old is not None and self._open(old, saved["offset"]):
            return  # drain the rotated file first; poll() moves on to the new one
        self._open(self.path, 0)

    def _find_rotated(self, dev: int, ino: int) -> Path | None:
        for sibling in self.path.parent.glob(self.path.name + "*"):
            try:
                st = sibling.stat()
            except OSError:
                continue
            if (st.st_dev, st.st_ino) == (dev, ino):
                return sibling
        return None

    # -- reading -------------------------------------------------------
    def _read_complete_lines(self, final: bool) -> list[Event]:
        """Parse every complete line from the committed offset; commit after delivery."""
        assert self._fh is not None and self._parser is not None
        self._fh.seek(self._offset)
        data = self._fh.read()
        if not data:
            return []
        base, prefix = self._offset, f"{self._ino}:"
        start = 0
        if self._skipping:  # the rest of a line cut earlier: up to its newline
            nl = data.find(b"\n")
            start = len(data) if nl < 0 else nl + 1
            self._skipping = nl < 0
        cap = 4 * self._max_line  # bytes: a line's characters are at most 4 bytes each
        end = len(data) if final else data.rfind(b"\n") + 1
        if end <= start and len(data) - start > cap:  # no end in sight: cut it here
            end, self._skipping = len(data), True
        numbered = []
        while start < end:
            nl = data.find(b"\n", start, end)
            stop = end if nl < 0 else nl + 1
            # a line past the cap is decoded no further than the cap (run_parser cuts it)
            numbered.append((prefix + str(base + start),
                             data[start:min(stop, start + cap)].decode("utf-8",
                                                                       errors="replace")))
            start = stop
        if not numbered:
            if end > 0 or self._skipping:  # dropped bytes of a cut line: move past them
                self._offset = base + max(end, start)
                self.offsets.commit(self.origin, self._dev, self._ino, self._offset)
            return []
        events = list(run_parser(self._parser, numbered, flush=final))
        self._deliver(events)
        self._offset = base + end
        self.offsets.commit(self.origin, self._dev, self._ino, self._offset)
        return events

    def _deliver(self, events: list[Event]) -> None:
        if self.deliver is not None and events:
            self.deliver(events)
        if self.callback is not None:
            for event in events:
                self.callback(event)

    def poll(self) -> list[Event]:
        """One pass: read what is new, follow a rotation or a truncation."""
        if self._fh is None:
            self._resume()
            if self._fh is None:
                return []
        events = self._read_complete_lines(final=False)
        try:
            st = self.path.stat()
        except FileNotFoundError:
            st = None
        rotated = st is not None and (st.st_dev, st.st_ino) != (self._dev, self._ino)
        if rotated:
            events += self._read_complete_lines(final=True)  # the old file's last lines
            self._open(self.path, 0)
            events += self._read_complete_lines(final=False)
        elif st is not None and st.st_size < self._offset:  # copytruncate
            events += self._flush_parser()
            self._open(self.path, 0)
            events += self._read_complete_lines(final=False)
        if events:
            self._idle_polls = 0
        else:
            self._idle_polls += 1
            if self._idle_polls == 5:  # idle: release held-back multi-line records
                events += self._flush_parser()
        return events

    def drain(self) -> list[Event]:
        """Read to the end now, a last line without newline and held records included."""
        if self._fh is None:
            self._resume()
            if self._fh is None:
                return []
        return self._read_complete_lines(final=True) + self._flush_parser()

    def _flush_parser(self) -> list[Event]:
        if self._parser is None:
            return []
        tail = self._parser.flush()
        self._deliver(tail)
        return tail

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set, handing events to the callback."""
        while not stop.is_set():
            self.poll()
            stop.wait(self.poll_interval)
        self.close()

    def events(self, stop: threading.Event) -> Iterator[Event]:
        """The same as ``run`` but as an iterator (without a callback)."""
        while not stop.is_set():
            yield from self.poll()
            stop.wait(self.poll_interval)

    def close(self) -> None:
        self._close()
