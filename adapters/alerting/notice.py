"""What the router decides to tell the sinks: a new group, a repeat, or a resolve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from engine.firing import Firing

Kind = Literal["firing", "repeat", "resolved"]


@dataclass(frozen=True)
class Notice:
    """One message to deliver; ``folded`` counts firings suppressed since the last notice.

    ``id`` is stable for the same decision, so a receiver that de-duplicates
    (Alertmanager, a webhook consumer) sees a retried delivery as the same one.
    """

    kind: Kind
    firing: Firing
    group_key: str
    first_time: datetime
    folded: int
    total: int

    @property
    def id(self) -> str:
        return f"{self.group_key}|{self.kind}|{self.firing.id}"

    def as_json(self) -> dict[str, Any]:
        """The notice as plain JSON (webhook and JSON-lines sinks, dead letters)."""
        return {
            "notice_id": self.id,
            "kind": self.kind,
            "group_key": self.group_key,
            "group_first_time": self.first_time.isoformat(),
            "folded": self.folded,
            "total": self.total,
            "firing": self.firing.summary_json(),
        }

    def headline(self) -> str:
        """A one-line status prefix shared by the human-facing sinks."""
        if self.kind == "resolved":
            return "RESOLVED"
        return self.firing.severity.upper() + (" (repeat)" if self.kind == "repeat" else "")

    def footer(self) -> str:
        """Rule, group and folding, in words (escaped by the caller)."""
        group = ", ".join(f"{k}={v}" for k, v in sorted(self.firing.labels.items())
                          if k not in ("rule", "severity"))
        parts = [f"rule {self.firing.rule}"]
        if group:
            parts.append(group)
        parts.append(f"since {self.first_time.isoformat()}")
        if self.folded:
            parts.append(f"{self.folded} more firings since the last notice")
        return " · ".join(parts)
