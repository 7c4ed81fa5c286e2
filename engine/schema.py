"""The rule language (v1) as a strict schema: unknown keys are errors."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from engine.events import FactKind
from engine.firing import Mode, Severity

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def _seconds(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like 15m")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.replace(" ", "")
        if text.replace(".", "", 1).isdigit():
            return float(text)
        parts = _PART.findall(text)
        if parts and "".join(n + u for n, u in parts) == text:
            return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    raise ValueError(f"{value!r} is not a duration (like 30s, 15m, 1h30m, 2d, 1w)")


def parse_duration(value: Any) -> float:
    """``90``, ``"90s"``, ``"15m"``, ``"1h30m"``, ``"2d"``, ``"1w"`` -> seconds (positive).

    The one duration parser: rules, the command line and the deployment config
    (``adapters.alerting.durations``) all read durations through it.
    """
    seconds = _seconds(value)
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


def parse_offset(value: Any) -> float:
    """Like a duration, but zero is allowed (an offset from a test's start, a margin)."""
    seconds = _seconds(value)
    if seconds < 0:
        raise ValueError(f"{value!r} cannot be negative")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
Offset = Annotated[float, BeforeValidator(parse_offset)]
EventTypes = Annotated[list[str], BeforeValidator(lambda v: [v] if isinstance(v, str) else v)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Match(Strict):
    """One event matcher: a type (or glob, or list of them) and conditions."""

    event: EventTypes = Field(min_length=1)
    where: dict[str, Any] = Field(default_factory=dict)
    by: list[str] | None = None  # per-step correlation paths, overriding the operator's


class Count(Strict):
    """At least ``at_least`` matching events within ``within``; with ``distinct``, at
    least that many distinct values of that event path (events without it don't count)."""

    event: EventTypes = Field(min_length=1)
    where: dict[str, Any] = Field(default_factory=dict)
    at_least: int = Field(ge=1)
    within: Duration
    by: list[str] = Field(default_factory=list)
    distinct: str | None = None


class Sequence(Strict):
    steps: list[Match] = Field(min_length=2)
    within: Duration
    by: list[str] = Field(default_factory=list)


class Expect(Strict):
    first: Match
    then: Match
    within: Duration
    by: list[str] = Field(min_length=1)
    # a retry loop is one absence: while a `first` is open for a key, later ones fold into it
    once: bool = False


class Baseline(Strict):
    """A numeric field against its own per-key moving average (EWMA).

    Fires when ``value`` exceeds ``factor`` x the key's baseline (and ``min``),
    once ``min_samples`` normal values were seen; it stays quiet while the key
    remains in breach and re-arms after a normal value. Breaching values do not
    move the baseline, so a persistent slowdown is one alert, and a key that is
    slow every day has a slow baseline and never fires.
    """

    event: EventTypes = Field(min_length=1)
    where: dict[str, Any] = Field(default_factory=dict)
    value: str
    by: list[str] = Field(default_factory=list)
    factor: float = Field(gt=1.0)
    min: float = 0.0
    min_samples: int = Field(default=10, ge=1)
    alpha: float = Field(default=0.1, gt=0.0, le=1.0)
    ttl: Duration = 7 * 86400.0


class When(Strict):
    """Exactly one of: a single ``event`` (+ ``where``), ``count``, ``sequence``, ``expect``."""

    event: EventTypes | None = None
    where: dict[str, Any] = Field(default_factory=dict)
    count: Count | None = None
    sequence: Sequence | None = None
    expect: Expect | None = None
    baseline: Baseline | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> When:
        kinds = ("event", "count", "sequence", "expect", "baseline")
        chosen = [n for n in kinds if getattr(self, n)]
        if len(chosen) != 1:
            raise ValueError(
                "`when` takes exactly one of event, count, sequence, expect, baseline"
                f" (got {', '.join(chosen) or 'none'})"
            )
        if self.where and self.event is None:
            raise ValueError("`where` at this level goes with `event`; put it inside the operator")
        return self


class Join(Strict):
    """An inventory look-up: facts of ``kind`` whose fields equal the given paths."""

    kind: FactKind
    by: dict[str, str] = Field(min_length=1)
    where: dict[str, Any] = Field(default_factory=dict)
    many: bool = False
    optional: bool = False


class Alert(Strict):
    title: str
    text: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    group_by: list[str] = Field(default_factory=list)
    repeat: Duration | None = None


class Action(Strict):
    hook: str = Field(pattern=r"^[a-z][a-z0-9_.-]*$")
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    mode: Mode = "dry-run"


class Resolve(Strict):
    """An event that closes the alert group it names through ``group_by``."""

    event: EventTypes = Field(min_length=1)
    where: dict[str, Any] = Field(default_factory=dict)


EventTypeName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.:-]*$")]


class Declare(Strict):
    """Events and facts of a site's own producer, which no shipped parser or mapping declares.

    ``validate`` checks rules against what producers emit; a rule for a site's own
    events lists them here (type -> field names; envelope names are envelope fields,
    others keys of ``data``) so its types and fields are known for that rule.
    """

    events: dict[EventTypeName, list[str]] = Field(default_factory=dict)
    facts: dict[FactKind, list[str]] = Field(default_factory=dict)


class Explains(Strict):
    """Firings this rule's alert explains for a while (rule ``explains:``): the router
    folds them into this alert's notices instead of paging for each (inhibition).

    ``rules`` picks the targets by rule name or glob, ``match`` by label values,
    ``equal`` names labels the target shares with this firing, and ``by`` maps a
    path of the target (``labels.NAME`` or ``facts.JOIN.FIELD``) to a path of this
    rule's firing context (a join, ``event``...): the target is explained when its
    value is one of the values there (a ``many`` join gives a list, e.g. the
    instances on the cause's host).
    """

    rules: EventTypes = Field(min_length=1)
    match: dict[str, str] = Field(default_factory=dict)
    equal: list[str] = Field(default_factory=list)
    by: dict[str, str] = Field(default_factory=dict)
    within: Duration
    #: targets that opened this long before the cause are adopted when it comes
    before: Offset = 300.0

    @model_validator(mode="after")
    def _tied(self) -> Explains:
        if not self.equal and not self.by:
            raise ValueError("`explains` needs `equal` or `by`: what ties a target to this"
                             " alert (else every firing of those rules would be folded)")
        for target in self.by:
            head, _, rest = target.partition(".")
            if head not in ("labels", "facts") or not rest or "" in rest.split("."):
                raise ValueError(f"`by` key {target!r}: a target path is labels.NAME or"
                                 " facts.JOIN.FIELD")
        return self


class Rule(Strict):
    rule: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    summary: str = ""
    severity: Severity
    tags: list[str] = Field(default_factory=list)
    enabled: bool = True
    when: When
    join: dict[str, Join] = Field(default_factory=dict)
    alert: Alert
    actions: list[Action] = Field(default_factory=list)
    resolve: Resolve | None = None
    declare: Declare = Field(default_factory=Declare)
    explains: list[Explains] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names(self) -> Rule:
        reserved = {"event", "events", "key", "count", "rule", "first", "steps", "stats"}
        for name in self.join:
            if name in reserved:
                raise ValueError(f"join name {name!r} is reserved")
        return self


Operator = Literal["single", "count", "sequence", "expect", "baseline"]
