"""What an operator made of an event it took, in words (``explain``'s verdicts).

Read from the key's state before and after the event (``Operator.describe``, via
``engine.trace.StepTrace``) and the rule's own settings, so the words say what the
engine held: the window's count against ``at_least``, the expectation opened or
closed, the chain's steps, the value against its baseline.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dreamcatcher.words import plural
from engine.compiler import CompiledRule
from engine.paths import event_getter
from engine.schema import Baseline, Count, Expect, Sequence
from engine.templates import _duration as spoken_duration
from engine.trace import StepTrace

Verdict = tuple[str, str]  # (verdict, reason)


def by_paths(compiled: CompiledRule) -> list[str]:
    """The rule's correlation paths (its operator's ``by``)."""
    when = compiled.rule.when
    for spec in (when.count, when.baseline, when.sequence, when.expect):
        if spec is not None:
            return list(spec.by)
    return []


def _key_text(compiled: CompiledRule, key: tuple[Any, ...]) -> str:
    """``instance_id=...`` for a keyed rule; a rule with no ``by`` has one state for all."""
    if not key:
        return "all events (the rule has no `by`)"
    return ", ".join(f"{p}={v}" for p, v in zip(by_paths(compiled), key, strict=False))


def _stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


def describe_step(compiled: CompiledRule, step: StepTrace) -> Verdict:
    """(verdict, reason) for what the operator made of an event it took."""
    when = compiled.rule.when
    key = _key_text(compiled, step.key)
    if when.count is not None:
        return _count(when.count, step, key)
    if when.expect is not None:
        return _expect(when.expect, step, key, compiled.operator.lateness)
    if when.sequence is not None:
        return _sequence(when.sequence, step, key)
    if when.baseline is not None:
        return _baseline(when.baseline, step, key)
    return "matched", "the event matches: fires"


def _count(spec: Count, step: StepTrace, key: str) -> Verdict:
    before, after = step.before, step.after
    within = spoken_duration(spec.within)

    def counted(n: int) -> str:
        return f"{n} distinct {spec.distinct}" if spec.distinct else plural(n, "event")

    if step.evidence:
        return "counted", (f"window reached at_least {counted(spec.at_least)} within "
                           f"{within} for {key}: fires")
    if after == before:
        if spec.distinct and event_getter(spec.distinct)(step.event.__dict__) is None:
            return "not-counted", f"{spec.distinct} is empty in this event"
        return "not-counted", (f"window unchanged at {counted(after['held'])} (too late "
                               "for the window, or an older line of a value it holds)")
    values = f" ({', '.join(map(str, after['distinct']))})" if spec.distinct else ""
    return "counted", (f"window holds {counted(after['held'])}{values} of at_least "
                       f"{spec.at_least} within {within} for {key}")


def _expect(spec: Expect, step: StepTrace, key: str, lateness: float) -> Verdict:
    before, after = step.before, step.after
    opened_before, opened_after = before["open"], after["open"]
    if step.role == "first":
        if len(opened_after) > len(opened_before):
            deadline = step.event.time.timestamp() + spec.within
            return "opened", (f"expects {' or '.join(spec.then.event)} for {key} within "
                              f"{spoken_duration(spec.within)} (fires at {_stamp(deadline)} "
                              "without one)")
        if len(after["held"]) < len(before["held"]):
            return "closed", (f"a then for {key} came before this first (held for it): "
                              "nothing is expected")
        return "folded", f"an expectation for {key} is already open (once): this first adds none"
    if len(opened_after) < len(opened_before):
        gone = [t for t in opened_before if t not in opened_after] or opened_before[:1]
        return "closed", (f"{step.event.type} arrived for {key}: it closes the expectation "
                          f"opened at {_stamp(gone[0])}, which will not fire")
    if len(after["held"]) > len(before["held"]):
        return "held", (f"nothing open for {key}: held for a first that comes late "
                        f"(up to {spoken_duration(2 * lateness)})")
    return "unmatched", f"nothing open for {key} to close"


def _sequence(spec: Sequence, step: StepTrace, key: str) -> Verdict:
    of = len(spec.steps)
    index = int(step.role.partition(":")[2]) + 1
    if step.evidence:
        return "completed", f"step {index} of {of} completes the chain for {key}: fires"
    held = sorted({s[0] + 1 for s in step.after["steps"]})
    within = spoken_duration(spec.within)
    if len(held) == of:
        return "step", (f"step {index} of {of} for {key}: every step is held, but no chain "
                        f"of them runs step 1, 2, ... in time order within {within}")
    return "step", f"step {index} of {of} for {key}; the chain holds steps {held} within {within}"


def _baseline(spec: Baseline, step: StepTrace, key: str) -> Verdict:
    before, after = step.before, step.after
    value = event_getter(spec.value)(step.event.__dict__)
    mean = _figure(before.get("mean"))
    if step.evidence:
        return "breach", (f"{spec.value} = {value} is above {spec.factor}x the baseline "
                          f"{mean} for {key}: fires")
    if before.get("breached") and after.get("breached"):
        return "observed", f"{spec.value} = {value}: still in breach (fired already)"
    samples = before.get("samples", 0)
    if samples < spec.min_samples:
        return "observed", (f"{spec.value} = {value}: learning the baseline "
                            f"({samples} of {spec.min_samples} samples)")
    return "observed", (f"{spec.value} = {value} against baseline {mean} "
                        f"(fires above {spec.factor}x the baseline and above {spec.min})")


def _figure(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, int | float) else "(none yet)"
