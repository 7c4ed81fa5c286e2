"""Rule tests (``<rule>.test.yaml``): feed inputs at offsets, compare firings.

A test names what must fire (rule, time, text, labels, actions) and, by
default, nothing else may fire; with ``notices:`` it also names what the
router sends the sinks (``dreamcatcher.routetest``). Inputs are ready events, raw notifications
or raw log lines, so a rule is tested on the same shapes it meets live.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dreamcatcher import routetest
from dreamcatcher.inputs import (
    InputError,
    event_from_json,
    event_from_notification,
    events_from_log_lines,
)
from engine.engine import Engine
from engine.events import Event, FactKind, FactUpdate
from engine.firing import Firing
from engine.loader import RULE_TEST_SUFFIX, load_rules
from engine.schema import Duration, Offset
from engine.store import StateStore
from engine.yamlsource import load_model

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class InputItem(_Strict):
    at: Offset | None = None
    event: dict[str, Any] | None = None
    notification: dict[str, Any] | None = None
    log: str | list[str] | None = None
    kind: str | None = None
    origin: str | None = None
    tick: bool = False


class ExpectedAction(_Strict):
    hook: str
    mode: str | None = None
    args: dict[str, Any] | None = None


class Expected(_Strict):
    rule: str
    at: Offset | None = None
    count: int = Field(default=1, ge=1)
    severity: str | None = None
    title: str | None = None
    title_contains: list[str] | str | None = None
    text_contains: list[str] | str | None = None
    labels: dict[str, str] | None = None
    actions: list[ExpectedAction] | None = None
    resolves: bool = False


class Case(_Strict):
    name: str
    inventory: dict[FactKind, list[dict[str, Any]]] = Field(default_factory=dict)
    input: list[InputItem] = Field(default_factory=list)
    #: the firings; may be left out when ``notices`` says what must arrive
    expect: list[Expected] | None = None
    until: Offset | None = None  # advance the clock to here; default: fire every timer
    only: bool = True  # nothing but what `expect` lists may fire
    notices: list[routetest.ExpectedNotice] | None = None
    silences: list[routetest.TestSilence] = Field(default_factory=list)
    only_notices: bool = True  # nothing but what `notices` lists may arrive


class RuleTestFile(_Strict):
    rules: list[str] = Field(default_factory=list)
    start: datetime = DEFAULT_START
    lateness: Duration | float = 5.0
    inventory: dict[FactKind, list[dict[str, Any]]] = Field(default_factory=dict)
    default_repeat: Duration = 4 * 3600.0  # the router's, for rules without `repeat`
    cases: list[Case] = Field(min_length=1)


@dataclass
class CaseResult:
    file: str
    case: str
    problems: list[str] = field(default_factory=list)
    firings: list[Firing] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def report(self) -> str:
        head = f"{'PASS' if self.ok else 'FAIL'} {self.file} :: {self.case}"
        return "\n".join([head, *(f"    {p}" for p in self.problems)])


def load_test_file(path: Path) -> RuleTestFile:
    return load_model(path, RuleTestFile, "rule test file")


def _rule_paths(path: Path, spec: RuleTestFile) -> list[Path]:
    if spec.rules:
        return [path.parent / r for r in spec.rules]
    return [path.with_name(path.name[: -len(RULE_TEST_SUFFIX)] + ".yaml")]


def _facts(inventory: dict[FactKind, list[dict[str, Any]]]) -> list[FactUpdate]:
    out = []
    for kind, items in inventory.items():
        for item in items:
            fields = {k: v for k, v in item.items() if k != "id"}
            out.append(FactUpdate(kind=kind, id=str(item["id"]), fields=fields))
    return out


def _events(case: Case, start: datetime, test_name: str) -> list[Event]:
    events: list[Event] = []
    for index, item in enumerate(case.input):
        when = start + timedelta(seconds=item.at) if item.at is not None else None
        origin = item.origin or f"{test_name}:{case.name}"
        try:
            if item.event is not None:
                data = {"id": f"{origin}#{index}", **item.event}
                if "time" not in data:
                    data["time"] = when or start
                events.append(event_from_json(data))
            elif item.notification is not None:
                event = event_from_notification(item.notification, fallback_id=f"{origin}#{index}")
                if event is not None:
                    events.append(event.model_copy(update={"time": when}) if when else event)
            elif item.log is not None:
                lines = [item.log] if isinstance(item.log, str) else item.log
                parsed = events_from_log_lines(lines, f"{origin}#{index}", item.kind,
                                               default_time=when or start, year=start.year)
                if not parsed:
                    raise InputError(f"input[{index}]: no parser read {lines[0]!r}")
                events.extend(e.model_copy(update={"time": when}) if when else e for e in parsed)
            elif item.tick and when is not None:
                events.append(Event(id=f"{origin}#{index}", type="dreamcatcher.tick", time=when))
            else:
                raise InputError(f"input[{index}]: give one of event, notification, log, tick+at")
        except InputError as exc:
            raise InputError(f"input[{index}]: {exc}") from None
    return events


def _matches(exp: Expected, firing: Firing, start: datetime) -> list[str]:
    """Why ``firing`` does not meet ``exp`` (empty: it does)."""
    why: list[str] = []
    if firing.rule != exp.rule:
        return [f"rule {firing.rule} != {exp.rule}"]
    if exp.resolves != firing.resolves:
        why.append(f"resolves {firing.resolves} != {exp.resolves}")
    if exp.at is not None:
        want = start + timedelta(seconds=exp.at)
        if abs((firing.time - want).total_seconds()) > 0.001:
            why.append(f"at +{(firing.time - start).total_seconds():g}s, expected +{exp.at:g}s")
    if exp.severity and firing.severity != exp.severity:
        why.append(f"severity {firing.severity} != {exp.severity}")
    if exp.title is not None and firing.title != exp.title:
        why.append(f"title {firing.title!r} != {exp.title!r}")
    for label, pieces in (("title", exp.title_contains), ("text", exp.text_contains)):
        have = firing.title if label == "title" else firing.text
        for piece in [pieces] if isinstance(pieces, str) else (pieces or []):
            if piece not in have:
                why.append(f"{label} lacks {piece!r}: {have!r}")
    for name, value in (exp.labels or {}).items():
        if firing.labels.get(name) != value:
            why.append(f"label {name}={firing.labels.get(name)!r}, expected {value!r}")
    if exp.actions is not None:
        if len(exp.actions) != len(firing.actions):
            why.append(f"{len(firing.actions)} actions, expected {len(exp.actions)}")
        for want_action, got in zip(exp.actions, firing.actions, strict=False):
            if want_action.hook != got.hook:
                why.append(f"action {got.hook} != {want_action.hook}")
            if want_action.mode and want_action.mode != got.mode:
                why.append(f"action {got.hook} mode {got.mode} != {want_action.mode}")
            for k, v in (want_action.args or {}).items():
                if got.args.get(k) != v:
                    why.append(f"action {got.hook} arg {k}={got.args.get(k)!r}, expected {v!r}")
    return why


def _describe(firing: Firing, start: datetime) -> str:
    offset = (firing.time - start).total_seconds()
    return f"{firing.rule} at +{offset:g}s: {firing.title!r} labels={firing.labels}"


def run_case(path: Path, spec: RuleTestFile, case: Case,
             store: StateStore | None = None) -> CaseResult:
    """Run one case; ``store`` (fresh and empty) replaces the memory store, so
    the same cases check a shared store behaves the same."""
    result = CaseResult(str(path), case.name)
    rules = load_rules(_rule_paths(path, spec))
    engine = Engine(rules, store, lateness=float(spec.lateness))
    engine.load_facts(_facts({**spec.inventory, **case.inventory}))
    try:
        events = _events(case, spec.start, path.name)
    except InputError as exc:
        result.problems.append(str(exc))
        return result
    firings: list[Firing] = []
    for event in events:
        firings.extend(engine.process(event))
    if case.until is not None:
        firings.extend(engine.advance(spec.start + timedelta(seconds=case.until + spec.lateness)))
    else:
        firings.extend(engine.drain())
    result.firings = firings
    if case.notices is not None:
        notices = routetest.route(firings, spec.start, case.silences, spec.default_repeat)
        result.problems.extend(routetest.compare(case.notices, notices, spec.start,
                                                 case.only_notices))
        if case.expect is None:
            return result
    remaining = list(firings)
    for exp in case.expect or []:
        for _ in range(exp.count):
            hit = next((f for f in remaining if not _matches(exp, f, spec.start)), None)
            if hit is not None:
                remaining.remove(hit)
                continue
            near = [f for f in remaining if f.rule == exp.rule]
            detail = "; ".join(_matches(exp, near[0], spec.start)) if near else "nothing fired"
            result.problems.append(f"missing: {exp.rule} (expected {exp.count}x): {detail}")
            break
    if case.only:
        for firing in remaining:
            result.problems.append(f"unexpected: {_describe(firing, spec.start)}")
    return result


def find_test_files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(path.rglob("*" + RULE_TEST_SUFFIX)))
        elif path.name.endswith(RULE_TEST_SUFFIX):
            out.append(path)
    return out


def run_file(path: Path) -> list[CaseResult]:
    spec = load_test_file(path)
    return [run_case(path, spec, case) for case in spec.cases]
