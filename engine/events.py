"""The event envelope every source normalizes into.

One shape for notifications and log lines alike, so a rule can correlate a
cinder-api log line with a nova notification by the same field names.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

FactKind = Literal["instance", "port", "volume", "service", "host", "image", "network"]

#: Envelope fields a rule may correlate on (beside ``data.*``).
ENVELOPE_FIELDS: tuple[str, ...] = (
    "id", "type", "time", "service", "host", "request_id", "global_request_id",
    "project_id", "user_id", "severity", "instance_id", "volume_id", "port_id",
    "mac", "image_id", "image_base_hash", "origin",
)


class FactUpdate(BaseModel):
    """An inventory change carried by an event (upsert of fields, or delete).

    The normalizer that knows what a notification means attaches these; the
    engine applies them in event order, so inventory is replayable too.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FactKind
    id: str
    fields: dict[str, Any] = Field(default_factory=dict)
    delete: bool = False


class Event(BaseModel):
    """A normalized happening: one notification or one log line.

    ``id`` is the notification's message_id, or for a log line its origin and
    position, so two identical lines are still two events while a redelivered
    message keeps its identity.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    type: str
    time: datetime
    service: str | None = None
    host: str | None = None
    request_id: str | None = None
    global_request_id: str | None = None
    project_id: str | None = None
    user_id: str | None = None
    severity: str | None = None
    instance_id: str | None = None
    volume_id: str | None = None
    port_id: str | None = None
    mac: str | None = None
    image_id: str | None = None
    image_base_hash: str | None = None
    origin: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    raw: Any = None
    facts: list[FactUpdate] = Field(default_factory=list)

    @field_validator("time")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        """Event time is always UTC; a naive time is taken as UTC."""
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @field_validator("mac")
    @classmethod
    def _lower_mac(cls, value: str | None) -> str | None:
        """MACs compare lower-case, whatever the switch or dnsmasq printed."""
        return value.lower() if value else value

    def field(self, name: str) -> Any:
        """An envelope field, or else the key of ``data`` with that name."""
        if name in self.__class__.model_fields:
            return getattr(self, name)
        return self.data.get(name)

    def context(self) -> dict[str, Any]:
        """A flat mapping for templates: ``data`` keys first, envelope on top."""
        ctx = dict(self.data)
        for name in ENVELOPE_FIELDS:
            value = getattr(self, name)
            if value is not None or name not in ctx:
                ctx[name] = value
        ctx["data"] = self.data
        return ctx


def image_base_hash(image_id: str) -> str:
    """nova's image cache names a base file ``sha1(image id)`` (hex)."""
    return hashlib.sha1(image_id.encode("utf-8")).hexdigest()


def log_event_id(origin: str, position: int | str) -> str:
    """Identity of a log line: where it came from and where in that stream."""
    return f"{origin}#{position}"
