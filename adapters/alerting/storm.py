"""A storm throttle across groups: notices per rule and in all per period, the rest folded.

Grouping folds the firings of one group; a storm over many distinct groups (a
switch down under 10,000 instances, a tenant's burst of odd names) still
gave one notice per group, 17,145 of them into the dead-letter file. Here each
period (``period`` of the firings' event time, in fixed windows, so a replay
folds exactly as the live run did) lets ``per_rule`` notices of a rule and
``total`` in all reach the sinks; the excess of each rule is folded into one
``storm`` notice for that rule and period, which says how many were folded and
names the first ``names`` groups. A period's storm notices go out when the
clock (the newest firing time) enters a later period, or at ``flush`` (the
router's close). A folded group counts as notified: its repeats keep their
schedule. Counts are kept so nothing is lost silently: every notice is
either passed or folded, and the storm notices' ``folded`` add up to the folds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.alerting.durations import parse_duration
from adapters.alerting.notice import Notice
from engine.firing import Firing, Severity

_SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


class StormConfig(BaseModel):
    """``alerting.storm: {per_rule: 100, total: 300, period: 1m, names: 10}`` (the defaults);
    ``enabled: false`` passes every notice (not advised)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    per_rule: int = Field(default=100, ge=1)
    total: int = Field(default=300, ge=1)
    period: float = 60.0
    names: int = Field(default=10, ge=0, le=100)

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, value: object) -> float:
        seconds = parse_duration(value)
        if seconds <= 0:
            raise ValueError("storm period must be positive")
        return seconds


@dataclass
class _Folded:
    """What one rule had folded in one period."""

    count: int = 0
    severity: Severity = "info"
    groups: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)


class StormThrottle:
    """``admit(notice)``: the notice, or None when folded; plus the storm notices of
    periods the clock has left. Not thread-safe: the router calls it under its lock."""

    def __init__(self, config: StormConfig) -> None:
        self.config = config
        self._window = -math.inf  # index of the current period
        self._per_rule: dict[str, int] = {}
        self._total = 0
        self._folded: dict[str, _Folded] = {}
        self.passed = 0
        self.folded = 0
        self.storms = 0

    def admit(self, notice: Notice) -> tuple[Notice | None, list[Notice]]:
        if not self.config.enabled:
            return notice, []
        window = math.floor(notice.firing.time.timestamp() / self.config.period)
        storms = self._roll(window) if window > self._window else []
        rule = notice.firing.rule
        used = self._per_rule.get(rule, 0)
        if used < self.config.per_rule and self._total < self.config.total:
            self._per_rule[rule] = used + 1
            self._total += 1
            self.passed += 1
            return notice, storms
        folded = self._folded.get(rule)
        if folded is None:
            folded = self._folded[rule] = _Folded()
        folded.count += 1
        folded.kinds[notice.kind] = folded.kinds.get(notice.kind, 0) + 1
        if _SEVERITY_RANK[notice.firing.severity] > _SEVERITY_RANK[folded.severity]:
            folded.severity = notice.firing.severity
        if len(folded.groups) < self.config.names:
            folded.groups.append(notice.group_key)
        self.folded += 1
        return None, storms

    def tick(self, now: datetime) -> list[Notice]:
        """The storm notices of periods the clock ``now`` has left (a live worker's tick,
        so a storm's summary does not wait for the next firing)."""
        window = math.floor(now.timestamp() / self.config.period)
        return self._roll(window) if window > self._window else []

    def flush(self) -> list[Notice]:
        """The storm notices of the current period (at close: nothing is left unsaid)."""
        return self._roll(math.inf)

    def _roll(self, window: float) -> list[Notice]:
        """Enter ``window``: the storm notices of the period left, counts reset."""
        out = [self._storm(rule, folded) for rule, folded in sorted(self._folded.items())]
        if window != math.inf:
            self._window = window
        self._per_rule, self._total, self._folded = {}, 0, {}
        self.storms += len(out)
        return out

    def _storm(self, rule: str, folded: _Folded) -> Notice:
        period = self.config.period
        start = datetime.fromtimestamp(self._window * period, UTC)
        end = start + timedelta(seconds=period)
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(folded.kinds.items()))
        more = folded.count - len(folded.groups)
        named = ", ".join(folded.groups) + (f" and {more} more" if more > 0 else "")
        group_key = f"{rule}|storm"
        firing = Firing(
            id=f"storm:{rule}:{start.isoformat()}", rule=rule, severity=folded.severity,
            time=end,
            title=f"Alert storm: {folded.count} notices of rule {rule} folded "
                  f"between {start:%H:%M:%S} and {end:%H:%M:%S} UTC",
            text=f"Over the limit of {self.config.per_rule} notices per rule or "
                 f"{self.config.total} in all per {period:g}s, {folded.count} notices "
                 f"({kinds}) were folded into this one. Groups: {named}.",
            labels={"rule": rule, "severity": folded.severity, "storm": "true"},
            group_key=group_key,
        )
        return Notice("firing", firing, group_key, start, folded.count, folded.count)
