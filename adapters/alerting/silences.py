"""Silences: mute a rule (and/or label values) until a time, kept in a JSON file.

An acknowledgement is a silence of ``kind: ack`` keyed by one alert group: it
does not mute, it stops that group's repeats (and updates) until the group
resolves or the ack ends. The file is their audit trail: who, when, why, until
when; expiring one shortens it, nothing is ever deleted.

The file is shared between the CLI (which writes it) and running routers
(which re-read it when it changes), so writes are locked and atomic.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from engine.firing import Firing


class Silence(BaseModel):
    """Matches a firing when the rule matches (glob; empty = any), every label is equal
    and, when ``group`` is set, the firing's group key is that one."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: secrets.token_hex(4))
    kind: Literal["silence", "ack"] = "silence"
    group: str = ""
    rule: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime
    ends_at: datetime
    comment: str = ""
    created_by: str = ""

    def active(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at

    def matches(self, firing: Firing) -> bool:
        if self.group and firing.group_key != self.group:
            return False
        if self.rule and not fnmatchcase(firing.rule, self.rule):
            return False
        return all(firing.labels.get(k) == v for k, v in self.labels.items())


class SilenceFile:
    """The silences in ``path``; ``matching`` re-reads the file at most every ``poll`` s."""

    def __init__(self, path: Path | None, *, poll: float = 1.0) -> None:
        self.path = path
        self.poll = poll
        self._silences: list[Silence] = []
        self._mtime: float | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self.errors = 0
        self.last_error = ""

    # -- reading ------------------------------------------------------------
    def load(self) -> list[Silence]:
        if self.path is None or not self.path.exists():
            return []
        raw = orjson.loads(self.path.read_bytes() or b"[]")
        return [Silence.model_validate(item) for item in raw]

    def _refresh(self) -> None:
        now = time.monotonic()
        if self.path is None or now - self._checked < self.poll:
            return
        self._checked = now
        try:
            mtime = self.path.stat().st_mtime if self.path.exists() else None
            if mtime != self._mtime:
                self._silences = self.load()
                self._mtime = mtime
        except (OSError, ValueError) as exc:  # keep the last good set; say why
            self.errors += 1
            self.last_error = f"{self.path}: {exc}"

    def _current(self) -> list[Silence]:
        with self._lock:
            self._refresh()
            return self._silences

    def matching(self, firing: Firing) -> Silence | None:
        """The first silence active at the firing's event time that covers it."""
        for silence in self._current():
            if silence.kind == "silence" and silence.active(firing.time) and (
                    silence.matches(firing)):
                return silence
        return None

    def acked(self, group_key: str, at: datetime, opened: datetime) -> Silence | None:
        """The ack of this group active at ``at``, made after the group ``opened`` (an
        ack ends with its group: a later group of the same key is a new incident)."""
        for silence in self._current():
            if (silence.kind == "ack" and silence.group == group_key
                    and silence.active(at) and silence.starts_at >= opened):
                return silence
        return None

    # -- writing (CLI) -----------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[list[Silence]]:
        if self.path is None:
            raise ValueError("no silences file configured")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(str(self.path) + ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            silences = self.load()
            yield silences
            tmp = self.path.with_suffix(self.path.suffix + f".{os.getpid()}.tmp")
            tmp.write_bytes(orjson.dumps([s.model_dump(mode="json") for s in silences],
                                         option=orjson.OPT_INDENT_2))
            os.replace(tmp, self.path)

    def add(self, silence: Silence) -> Silence:
        with self._locked() as silences:
            silences.append(silence)
        return silence

    def expire(self, silence_id: str, now: datetime | None = None) -> Silence | None:
        """End a silence now; returns it, or None when no silence has that id."""
        now = now or datetime.now(UTC)
        with self._locked() as silences:
            for i, silence in enumerate(silences):
                if silence.id == silence_id:
                    silences[i] = silence.model_copy(update={"ends_at": min(now,
                                                                           silence.ends_at)})
                    return silences[i]
        return None
