"""The one-line progress report of a replay, and keeping it out of the alerts' way.

The line lives on stderr and is redrawn in place with ``\\r``; an alert written
to stdout on the same terminal would otherwise start glued to its end. So every
writer of alerts goes through ``Progress.guard``, which erases the line first.
How far the input is comes from ``InputMeter``: the readers open their files
through it, and it asks each handle ``tell()`` only when the line is redrawn.
"""

from __future__ import annotations

import io
import os
import stat
import sys
import threading
import time
from pathlib import Path
from typing import BinaryIO, TextIO, cast

from dreamcatcher.words import plural

ERASE = "\r\x1b[K"  # back to column 0, clear to the end of the line


class InputMeter:
    """Bytes read so far out of the inputs' total (None unless all are regular files)."""

    def __init__(self, paths: list[Path]) -> None:
        self.total: int | None = 0
        for path in paths:
            try:
                info = os.stat(path)
            except OSError:
                info = None
            if info is None or not stat.S_ISREG(info.st_mode):
                self.total = None  # stdin, a pipe, a device: no size to measure against
                break
            assert self.total is not None
            self.total += info.st_size
        self._handles: list[tuple[BinaryIO, int]] = []

    def open(self, path: Path) -> BinaryIO:
        """Open ``path`` for reading and remember the handle (readers call this)."""
        fh = cast(BinaryIO, Path(path).open("rb"))  # noqa: SIM115 - the reader closes it
        try:
            size = os.fstat(fh.fileno()).st_size
        except OSError:
            size = 0
        self._handles.append((fh, size))
        return fh

    def position(self) -> int:
        """Bytes consumed: a closed file counts whole, an open one as far as it was read."""
        done = 0
        for fh, size in self._handles:
            if fh.closed:
                done += size
                continue
            try:
                done += fh.tell()
            except (OSError, ValueError):
                done += size
        return done


def _clock(seconds: float) -> str:
    """``0:07``, ``12:30``, ``1:02:03``: short enough for a status line."""
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """A one-line progress report on stderr for long inputs (only on a terminal by default).

    ``update`` is called once per batch, so it only looks at the clock unless
    the line is due. ``clear`` (through ``guard``) may come from a sink's
    delivery thread, hence the lock.
    """

    def __init__(self, stream: TextIO | None = None, every: float = 0.5,
                 enabled: bool | None = None, meter: InputMeter | None = None,
                 width: int | None = None) -> None:
        self.stream = stream = stream or sys.stderr
        self.every = every
        self.enabled = stream.isatty() if enabled is None else enabled
        self.meter = meter
        self.width = width
        self.started = time.monotonic()
        self._last = self.started
        self._shown = False  # is a progress line on the screen right now?
        self._finished = False
        self._lock = threading.Lock()

    def update(self, events: int, firings: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self._draw(self.line(events, firings, now))

    def line(self, events: int, firings: int, now: float, final: bool = False) -> str:
        """The status text: counts and rate, and with known sizes a percentage and ETA."""
        elapsed = max(now - self.started, 1e-9)
        text = (f"{plural(events, 'event')}, {plural(firings, 'alert')}, "
                f"{events / elapsed:,.0f} events/s")
        total = self.meter.total if self.meter is not None else None
        if self.meter is not None and total:
            done = min(self.meter.position(), total)
            text = f"{100 * done / total:3.0f}% {text}"
            if final:
                text += f", took {_clock(elapsed)}"
            elif done:
                # average byte rate since the start: steadier than the last interval's
                text += f", ETA {_clock(elapsed * (total - done) / done)}"
        return text

    def _columns(self) -> int:
        if self.width is not None:
            return self.width
        import shutil

        return shutil.get_terminal_size((100, 24)).columns

    def _draw(self, text: str) -> None:
        # a line longer than the terminal would wrap, and \r only returns to its last row
        text = text[: max(self._columns() - 1, 10)]
        with self._lock:
            if self._finished:
                return
            self.stream.write(ERASE + text)
            self.stream.flush()
            self._shown = True

    def clear(self) -> None:
        """Erase the progress line, if one is shown, so the next output starts on a clean line."""
        if not self._shown:  # the common case costs no lock
            return
        with self._lock:
            if self._shown:
                self.stream.write(ERASE)
                self.stream.flush()
                self._shown = False

    def done(self, events: int | None = None, firings: int | None = None) -> None:
        """Leave the final line (when counts are given) and end it with a newline."""
        if not self.enabled:
            return
        if events is not None and firings is not None:
            self._draw(self.line(events, firings, time.monotonic(), final=True))
        with self._lock:
            if self._shown:
                self.stream.write("\n")
                self.stream.flush()
            self._shown = False
            self._finished = True

    def guard(self, stream: TextIO) -> TextIO:
        """``stream``, erasing the progress line before anything is written to it."""
        if not self.enabled:
            return stream
        return cast(TextIO, _Guarded(stream, self))


class _Guarded(io.TextIOBase):
    """A text stream that clears the progress line before each write."""

    def __init__(self, inner: TextIO, progress: Progress) -> None:
        super().__init__()
        self._inner = inner
        self._progress = progress

    def write(self, text: str) -> int:
        self._progress.clear()
        return self._inner.write(text)

    def flush(self) -> None:
        self._inner.flush()

    def isatty(self) -> bool:
        return self._inner.isatty()

    def fileno(self) -> int:
        return self._inner.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._inner, "encoding", "utf-8") or "utf-8"
