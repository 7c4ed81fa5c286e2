"""Acknowledging an alert group: ``dreamcatcher ack`` and the worker's ``POST /ack``.

An ack is a ``Silence`` of kind ``ack`` keyed by the group (one mechanism, one
file): the router stops that group's repeats and updates until the group
resolves or the ack ends; the resolve still goes out. The silences file is the
audit trail (who, when, why, through what, until when) and each ack is also
logged.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.alerting.durations import parse_duration
from adapters.alerting.silences import Silence, SilenceFile

log = structlog.get_logger(__name__)

DEFAULT_ACK = 4 * 3600.0
#: an ack longer than this is a silence in disguise: refused
MAX_ACK = 7 * 86400.0
MAX_GROUP = 1000


class AckRequest(BaseModel):
    """What an ack names: the group key (as notices carry it), how long, who and why."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    group: str = Field(min_length=1, max_length=MAX_GROUP)
    for_: float = Field(default=DEFAULT_ACK, alias="for")
    by: str = Field(default="", max_length=200)
    comment: str = Field(default="", max_length=2000)

    @field_validator("for_", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        seconds = parse_duration(value)
        if seconds > MAX_ACK:
            raise ValueError(f"an ack lasts at most {MAX_ACK / 86400:g} days; "
                             "use a silence for longer")
        return seconds

    @field_validator("group", "by")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.isprintable():
            raise ValueError("must be printable text (no control characters)")
        return value


def acknowledge(store: SilenceFile, request: AckRequest, *, via: str,
                now: datetime | None = None) -> Silence:
    """Record the ack in the silences file and the log; returns it."""
    now = now or datetime.now(UTC)
    ack = store.add(Silence(
        kind="ack", group=request.group, starts_at=now,
        ends_at=now + timedelta(seconds=request.for_),
        comment=request.comment, created_by=f"{request.by or 'unknown'} via {via}"))
    log.info("alert group acknowledged", ack=ack.id, group=ack.group,
             until=ack.ends_at.isoformat(), by=ack.created_by, comment=ack.comment)
    return ack
