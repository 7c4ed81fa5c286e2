"""The audit log: one JSON line per requested action, whatever happened to it."""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Outcome = Literal["dry-run", "done", "failed", "timeout", "rate-limited", "invalid", "duplicate"]


class AuditRecord(BaseModel):
    """What (hook, target, args), why (rule, firing, title), dry-run or done, and the result."""

    model_config = ConfigDict(extra="forbid")

    time: datetime
    event_time: datetime
    firing_id: str
    rule: str
    title: str
    hook: str
    target: str
    args: dict[str, Any]
    requested_mode: str
    enforced: bool
    outcome: Outcome
    reason: str
    result: Any = None
    duration_ms: float = 0.0


class AuditLog:
    """Append-only JSON lines, fsynced per record: an audit trail must survive a crash."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.records: list[AuditRecord] = []  # kept in memory only without a path

    def write(self, record: AuditRecord) -> None:
        line = record.model_dump_json() + "\n"
        with self._lock:
            if self.path is None:
                self.records.append(record)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
