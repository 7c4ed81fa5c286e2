"""Rule tests through the router: the notices a case's firings give at the sinks.

A case with ``notices:`` hands its firings, in order, to a real ``Router`` with a
recording sink; the router decides by event time, so the test's clock is its
clock. Silences and acks of the case are written to a scratch silences file the
router reads, as the live one does. What arrives is compared with what is expected:
kind (firing, repeat, update, resolved), rule, time, group, labels, what a cause
folded in (``also_affected``) and how many firings a notice folded.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from adapters.alerting.notice import Notice
from adapters.alerting.router import Router
from adapters.alerting.silences import Silence, SilenceFile
from adapters.alerting.sinks.recording import RecordingSink
from engine.firing import Firing
from engine.schema import Duration, Offset


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ExpectedNotice(_Strict):
    """One notice that must arrive (``count`` times)."""

    kind: Literal["firing", "repeat", "update", "resolved"]
    rule: str
    at: Offset | None = None
    count: int = Field(default=1, ge=1)
    group: str | None = None
    labels: dict[str, str] | None = None
    title_contains: list[str] | str | None = None
    #: one entry per firing the notice lists as also affected: its rule, or a piece
    #: of its group key or title (exactly this many are listed)
    also_affected: list[str] | None = None
    folded: int | None = None


class TestSilence(_Strict):
    """A silence (``kind: silence``, by rule and labels) or an ack (``kind: ack``, by group)."""

    kind: Literal["silence", "ack"] = "silence"
    rule: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    group: str = ""
    at: Offset = 0.0
    for_: Duration = Field(alias="for")
    comment: str = ""

    @model_validator(mode="after")
    def _aimed(self) -> TestSilence:
        if self.kind == "ack" and not self.group:
            raise ValueError("an ack names the `group` it acknowledges")
        if self.kind == "silence" and not (self.rule or self.labels or self.group):
            raise ValueError("a silence needs `rule`, `labels` or `group` (not everything)")
        return self


def _pieces(value: list[str] | str | None) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _why_not(exp: ExpectedNotice, notice: Notice, start: datetime) -> list[str]:
    """Why ``notice`` is not ``exp`` (empty: it is)."""
    firing = notice.firing
    if notice.kind != exp.kind or firing.rule != exp.rule:
        return [f"{notice.kind} of {firing.rule}, expected {exp.kind} of {exp.rule}"]
    why = []
    if exp.at is not None:
        offset = (notice.at - start).total_seconds()
        if abs(offset - exp.at) > 0.001:
            why.append(f"at +{offset:g}s, expected +{exp.at:g}s")
    if exp.group is not None and notice.group_key != exp.group:
        why.append(f"group {notice.group_key!r} != {exp.group!r}")
    for name, value in (exp.labels or {}).items():
        if firing.labels.get(name) != value:
            why.append(f"label {name}={firing.labels.get(name)!r}, expected {value!r}")
    for piece in _pieces(exp.title_contains):
        if piece not in firing.title:
            why.append(f"title lacks {piece!r}: {firing.title!r}")
    if exp.folded is not None and notice.folded != exp.folded:
        why.append(f"folded {notice.folded}, expected {exp.folded}")
    if exp.also_affected is not None:
        listed = list(notice.also)
        for piece in exp.also_affected:
            hit = next((a for a in listed if piece == a.rule or piece in a.group_key
                        or piece in a.title), None)
            if hit is None:
                why.append(f"also affected lacks {piece!r}")
            else:
                listed.remove(hit)
        if listed:
            why.append("also affected, not expected: " + "; ".join(a.describe() for a in listed))
    return why


def describe(notice: Notice, start: datetime) -> str:
    offset = (notice.at - start).total_seconds()
    also = f" also={[a.rule for a in notice.also]}" if notice.also else ""
    return f"{notice.kind} of {notice.firing.rule} at +{offset:g}s group={notice.group_key!r}{also}"


def route(firings: list[Firing], start: datetime, silences: list[TestSilence],
          default_repeat: float) -> list[Notice]:
    """The notices the router sends for ``firings`` with these silences and acks."""
    with tempfile.TemporaryDirectory(prefix="dreamcatcher-test-") as scratch:
        store = SilenceFile(Path(scratch) / "silences.json", poll=0.0)
        for s in silences:
            begins = start + timedelta(seconds=s.at)
            store.add(Silence(kind=s.kind, rule=s.rule, labels=s.labels, group=s.group,
                              starts_at=begins, ends_at=begins + timedelta(seconds=s.for_),
                              comment=s.comment, created_by="rule test"))
        sink = RecordingSink()
        router = Router([sink], silences=store, default_repeat=default_repeat)
        for firing in firings:
            router.submit(firing)
        router.close(10.0)
    return sink.notices


def compare(expected: list[ExpectedNotice], notices: list[Notice], start: datetime,
            only: bool) -> list[str]:
    """Problems: each expected notice missing, then (with ``only``) each one not expected."""
    problems = []
    remaining = list(notices)
    for exp in expected:
        for _ in range(exp.count):
            hit = next((n for n in remaining if not _why_not(exp, n, start)), None)
            if hit is not None:
                remaining.remove(hit)
                continue
            near = [n for n in remaining if n.firing.rule == exp.rule]
            detail = "; ".join(_why_not(exp, near[0], start)) if near else "no such notice"
            problems.append(f"missing notice: {exp.kind} of {exp.rule} "
                            f"(expected {exp.count}x): {detail}")
            break
    if only:
        problems.extend(f"unexpected notice: {describe(n, start)}" for n in remaining)
    return problems
