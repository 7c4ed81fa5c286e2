"""What the engine hands on when a rule fires: an alert and the actions it asks for."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["info", "warning", "critical"]
Mode = Literal["dry-run", "enforce"]


class ActionRequest(BaseModel):
    """A named hook the rule asks for, with its rendered arguments.

    ``mode`` is what the rule wrote; whether the deployment lets it enforce is
    decided by the remediation adapter, never here.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    hook: str
    args: dict[str, Any] = Field(default_factory=dict)
    mode: Mode = "dry-run"


class Scope(BaseModel):
    """What a firing explains (its rule's ``explains:``), resolved when it fired: the
    router folds a later firing into this one's notices when it matches.

    ``labels``: target labels that must have these values (``match`` and the cause's
    values of ``equal``); ``among``: a target path (``labels.NAME``, ``facts.JOIN.FIELD``)
    to the values one of which it must have (``by``, read from the cause's context).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[str]
    labels: dict[str, str] = Field(default_factory=dict)
    among: dict[str, list[str]] = Field(default_factory=dict)
    within: float
    before: float = 0.0


class Firing(BaseModel):
    """One rule firing: the rendered alert, its evidence and requested actions.

    ``id`` is derived from the rule, its correlation key and the evidence, so a
    replayed or redelivered stream yields the same id and sinks can de-duplicate.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    rule: str
    severity: Severity
    time: datetime
    summary: str = ""
    title: str
    text: str = ""
    tags: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    group_key: str = ""
    repeat_seconds: float | None = None
    key: dict[str, Any] = Field(default_factory=dict)
    event_ids: list[str] = Field(default_factory=list)
    events: list[dict[str, Any]] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict)
    fact_ids: list[str] = Field(default_factory=list)
    actions: list[ActionRequest] = Field(default_factory=list)
    resolves: bool = False
    explains: list[Scope] = Field(default_factory=list)

    def summary_json(self) -> dict[str, Any]:
        """The compact JSON object ``replay --format json`` prints per alert."""
        return {
            "id": self.id,
            "rule": self.rule,
            "severity": self.severity,
            "time": self.time.isoformat(),
            "title": self.title,
            "text": self.text,
            "labels": self.labels,
            "group_key": self.group_key,
            "event_ids": self.event_ids,
            "fact_ids": self.fact_ids,
            "actions": [a.model_dump() for a in self.actions],
            "resolves": self.resolves,
        }
