"""JSON lines to a file or stdout: the sink for scripts, log shippers and tests."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import orjson

from adapters.alerting.escape import truncate
from adapters.alerting.notice import Notice
from adapters.alerting.sinks.base import DeliveryError, Sink


class JsonLinesSink(Sink):
    """One ``Notice.as_json()`` object per line; ``path='-'`` means stdout."""

    def __init__(self, path: str | Path = "-", *, name: str = "jsonl",
                 max_field: int = 16384) -> None:
        self.name = name
        self.max_field = max_field
        self._path = None if str(path) == "-" else Path(path)
        self._fh: TextIO | None = None

    def _stream(self) -> TextIO:
        if self._path is None:
            return sys.stdout
        if self._fh is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self._path.open("a", encoding="utf-8")
        return self._fh

    def send(self, notice: Notice) -> None:
        doc = notice.as_json()
        doc["firing"]["text"] = truncate(doc["firing"]["text"], self.max_field)
        doc["firing"]["title"] = truncate(doc["firing"]["title"], self.max_field)
        try:
            stream = self._stream()
            stream.write(orjson.dumps(doc).decode() + "\n")
            stream.flush()
        except OSError as exc:
            raise DeliveryError(f"cannot write {self._path or 'stdout'}: {exc}") from exc

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
