"""The engine's tracer changes nothing it decides, and is not in the plan when off."""

from __future__ import annotations

from pathlib import Path

from adapters.deadletter import DeadLetters
from dreamcatcher.inputs import events_from_path
from dreamcatcher.pipeline import merge_by_time
from dreamcatcher.resources import demo_day, shipped_rules
from engine.engine import Engine
from engine.events import Event
from engine.loader import load_rules
from engine.trace import FiringTrace, StepTrace, Tracer


def bad_day(tmp_path: Path) -> list[Event]:
    dead = DeadLetters(tmp_path / "dead.jsonl")
    return list(merge_by_time(events_from_path(f, dead, None) for f in demo_day("bad-day")))


def test_a_traced_run_fires_exactly_as_an_untraced_one(tmp_path: Path) -> None:
    events = bad_day(tmp_path)
    rules = load_rules([shipped_rules()])
    plain = Engine(rules)
    tracer = Tracer.of(None)
    traced = Engine(rules, tracer=tracer)
    expected = [f.id for f in plain.process_many(events) + plain.drain()]
    got = [f.id for f in traced.process_many(events) + traced.drain()]
    assert got == expected and len(expected) == 9
    fired = [r.firing.id for r in tracer.records
             if isinstance(r, FiringTrace) and r.firing is not None]
    assert fired == expected
    assert sum(isinstance(r, StepTrace) for r in tracer.records) > len(expected)


def test_without_a_tracer_the_plan_holds_the_operators_own_handlers() -> None:
    rules = load_rules([shipped_rules()])
    wanted = "nova.compute.volume_not_created"
    for tracer, wrapped in ((None, False), (Tracer.of(["dhcp-lease-lost"]), False),
                            (Tracer.of(["bdm-wait-exhausted"]), True)):
        engine = Engine(rules, tracer=tracer)
        handlers = {step[0].id: step[4] for step in engine._plan_for(wanted).items}
        assert (getattr(handlers["bdm-wait-exhausted"], "__name__", "") == "traced") is wrapped
