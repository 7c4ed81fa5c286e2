"""What the router decides to tell the sinks: a new group, a repeat, or a resolve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from adapters.alerting.inhibit import Affected
from engine.firing import Firing

#: ``update``: a group's cause now explains more firings (``also`` grew); not a repeat
Kind = Literal["firing", "repeat", "update", "resolved"]
#: how many folded firings a notice's footer names (the JSON has them all)
SHOWN_AFFECTED = 10


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
    #: firings this group's cause explains, folded in instead of paging (``inhibit``)
    also: tuple[Affected, ...] = ()
    #: the router's clock at the decision, when not the firing's time (an ``update``)
    decided: datetime | None = None

    @property
    def at(self) -> datetime:
        return self.decided or self.firing.time

    @property
    def id(self) -> str:
        base = f"{self.group_key}|{self.kind}|{self.firing.id}"
        return f"{base}|{len(self.also)}" if self.kind == "update" else base

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
            "also_affected": [a.as_json() for a in self.also],
        }

    def headline(self) -> str:
        """A one-line status prefix shared by the human-facing sinks."""
        if self.kind == "resolved":
            return "RESOLVED"
        suffix = f" ({self.kind})" if self.kind in ("repeat", "update") else ""
        return self.firing.severity.upper() + suffix

    def footer(self) -> str:
        """Rule, group and folding, in words (escaped by the caller)."""
        group = ", ".join(f"{k}={v}" for k, v in sorted(self.firing.labels.items())
                          if k not in ("rule", "severity"))
        parts = [f"rule {self.firing.rule}"]
        if group:
            parts.append(group)
        parts.append(f"since {self.first_time.isoformat()}")
        if self.kind != "resolved":  # what `dreamcatcher ack` and POST /ack take
            parts.append(f"group {self.group_key}")
        if self.folded:
            parts.append(f"{self.folded} more firings since the last notice")
        if self.also:
            shown = "; ".join(a.describe() for a in self.also[:SHOWN_AFFECTED])
            more = len(self.also) - SHOWN_AFFECTED
            parts.append(f"also affected: {shown}" + (f"; +{more} more" if more > 0 else ""))
        return " · ".join(parts)
