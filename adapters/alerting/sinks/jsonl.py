"""JSON lines to a file or stdout: the sink for scripts, log shippers and tests."""

from __future__ import annotations

import sys
from collections import OrderedDict
from pathlib import Path
from typing import TextIO

import orjson

from adapters.alerting.limits import MAX_FIELD, MAX_ITEMS, FieldLimits
from adapters.alerting.notice import Notice
from adapters.alerting.sinks.base import DeliveryError, Sink


class JsonLinesSink(Sink):
    """One ``Notice.as_json()`` object per line; ``path='-'`` means stdout.

    A file is idempotent: a notice whose id is already in it (the last
    ``remember`` of them, read back when the file is opened) is not written
    again, so the live worker's redelivery after a crash leaves one line each.
    """

    def __init__(self, path: str | Path = "-", *, name: str = "jsonl",
                 max_field: int = MAX_FIELD, max_items: int = MAX_ITEMS,
                 remember: int = 100_000) -> None:
        self.name = name
        self.limits = FieldLimits(max_field, max_items)
        self.remember = remember
        self._path = None if str(path) == "-" else Path(path)
        self._fh: TextIO | None = None
        self._written: OrderedDict[str, None] = OrderedDict()

    def _stream(self) -> TextIO:
        if self._path is None:
            return sys.stdout
        if self._fh is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._read_back(self._path)
            self._fh = self._path.open("a", encoding="utf-8")
        return self._fh

    def _read_back(self, path: Path) -> None:
        if not path.exists():
            return
        with path.open("rb") as fh:
            for line in fh:
                try:
                    notice_id = orjson.loads(line).get("notice_id")
                except (orjson.JSONDecodeError, AttributeError):
                    continue  # a line torn by a crash, or someone else's
                if isinstance(notice_id, str):
                    self._seen(notice_id)

    def _seen(self, notice_id: str) -> None:
        self._written[notice_id] = None
        if len(self._written) > self.remember:
            self._written.popitem(last=False)

    def send(self, notice: Notice) -> None:
        try:
            stream = self._stream()
        except OSError as exc:
            raise DeliveryError(f"cannot open {self._path}: {exc}") from exc
        to_file = self._path is not None
        if to_file and notice.id in self._written:
            return
        doc = self.limits.bound(notice.as_json())
        try:
            stream.write(orjson.dumps(doc).decode() + "\n")
            stream.flush()
        except OSError as exc:
            raise DeliveryError(f"cannot write {self._path or 'stdout'}: {exc}") from exc
        if to_file:
            self._seen(notice.id)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
