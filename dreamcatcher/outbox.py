"""A local journal of firings between the engine and the alert router.

The live worker acknowledges its input only after the batch's firings are in
this journal, and marks each firing delivered once the router has settled it
(sent, suppressed or dead-lettered). A worker killed with ``kill -9`` restarts,
reads the journal and delivers what was journalled and not settled, once; a
firing the restarted engine makes again (its input was redelivered) has the
same id and is recognised as already journalled.

Records are JSON lines: ``{"put": <firing>}``, ``{"done": <id>}`` and
``{"drop": <id>}`` (journalled, then withdrawn: its batch is being redone). Without a
path the journal is in memory (same de-duplication, nothing survives the
process). The file is rewritten without its settled records when it grows.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import orjson

from engine.firing import Firing

log = logging.getLogger(__name__)


class Outbox:
    """``put`` before the ack, ``done`` when the router settled; ``pending`` after a restart."""

    def __init__(self, path: Path | None, *, fsync: bool = False, remember: int = 100_000,
                 compact_bytes: int = 64 * 1024 * 1024) -> None:
        self.path = path
        self.fsync = fsync
        self.remember = remember
        self.compact_bytes = compact_bytes
        self._lock = threading.Lock()
        self._pending: dict[str, Firing] = {}
        self._done: OrderedDict[str, None] = OrderedDict()
        self._fh: Any = None
        self.corrupt = 0  # unreadable records found at start (a torn last write)
        if path is not None:
            self._load(path)
            self._fh = path.open("ab")

    # -- start -----------------------------------------------------------------
    def _load(self, path: Path) -> None:
        if not path.exists():
            return
        with path.open("rb") as fh:
            for line in fh:
                try:
                    record = orjson.loads(line)
                    if "put" in record:
                        firing = Firing.model_validate(record["put"])
                        if firing.id not in self._done:
                            self._pending[firing.id] = firing
                    elif "done" in record:
                        self._pending.pop(record["done"], None)
                        self._remember(record["done"])
                    elif "drop" in record:
                        self._pending.pop(record["drop"], None)
                except (orjson.JSONDecodeError, ValueError, TypeError):
                    self.corrupt += 1  # a write torn by the kill: its batch was not acked
        if self.corrupt:
            log.warning("outbox %s: %d unreadable records skipped", path, self.corrupt)

    def pending(self) -> list[Firing]:
        """Firings journalled by an earlier run and never settled, oldest first."""
        with self._lock:
            return list(self._pending.values())

    # -- the worker's side ---------------------------------------------------------
    def put(self, firings: list[Firing]) -> list[Firing]:
        """Journal the batch's firings (durable when this returns); returns the new ones
        (a firing already journalled, settled or not, is not handed on again)."""
        fresh: list[Firing] = []
        lines: list[bytes] = []
        with self._lock:
            for firing in firings:
                if firing.id in self._pending or firing.id in self._done:
                    continue
                self._pending[firing.id] = firing
                fresh.append(firing)
                if self._fh is not None:
                    lines.append(orjson.dumps({"put": firing.model_dump(mode="json")}) + b"\n")
            if lines:
                self._fh.write(b"".join(lines))
                self._fh.flush()
                if self.fsync:
                    os.fsync(self._fh.fileno())
        return fresh

    def withdraw(self, firings: list[Firing]) -> None:
        """Take back what ``put`` journalled and nobody was handed (its batch is redone)."""
        with self._lock:
            lines = [orjson.dumps({"drop": f.id}) + b"\n" for f in firings
                     if self._pending.pop(f.id, None) is not None]
            if lines and self._fh is not None:
                self._fh.write(b"".join(lines))
                self._fh.flush()

    def done(self, firing_id: str) -> None:
        """The router settled this firing: a restart must not deliver it again."""
        with self._lock:
            if self._pending.pop(firing_id, None) is None:
                return
            self._remember(firing_id)
            if self._fh is None:
                return
            self._fh.write(orjson.dumps({"done": firing_id}) + b"\n")
            self._fh.flush()
            if not self._pending and self._fh.tell() > self.compact_bytes:
                self._compact()

    def _remember(self, firing_id: str) -> None:
        self._done[firing_id] = None
        if len(self._done) > self.remember:
            self._done.popitem(last=False)

    def _compact(self) -> None:
        """Nothing pending: keep only the remembered ids (atomic rename)."""
        assert self.path is not None
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("wb") as out:
            out.write(b"".join(orjson.dumps({"done": i}) + b"\n" for i in self._done))
            out.flush()
            os.fsync(out.fileno())
        self._fh.close()
        os.replace(tmp, self.path)
        self._fh = self.path.open("ab")

    def unsettled(self) -> int:
        with self._lock:
            return len(self._pending)

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.flush()
                self._fh.close()
                self._fh = None
