"""History for the commands that run rules over it more carefully than ``replay``:
``explain`` (one rule, traced) and ``backtest`` (two rule packs side by side).

The inputs are read as replay reads them (``dreamcatcher.commands.replay``: the same
kinds, folders, ``--host``, dead letters), merged by time and consumed once, as they
are read: a long capture is never held in memory, and two packs see the very same
events because they are fed together.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from adapters.deadletter import DeadLetters
from dreamcatcher.commands.replay import (
    add_input_arguments,
    input_events,
    input_files,
    seed_inventory,
)
from dreamcatcher.errors import RuntimeFailure, UsageError
from dreamcatcher.progress import InputMeter
from dreamcatcher.resources import demo_day
from dreamcatcher.summary import RunTally
from dreamcatcher.words import plural
from engine.engine import Engine
from engine.events import Event
from engine.firing import Firing
from engine.schema import Rule
from engine.trace import Tracer


def add_history_arguments(parser: argparse.ArgumentParser) -> None:
    """The inputs and how to read them, as ``replay`` takes them (its ``--rules`` aside)."""
    add_input_arguments(parser)
    parser.add_argument("--demo", action="store_true",
                        help="the bundled bad day (`dreamcatcher demo`) instead of files")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text for people, json for programs")


@dataclass(frozen=True)
class History:
    events: Iterable[Event]  # one pass, oldest first
    dead: DeadLetters
    dead_path: Path

    def rejected_line(self) -> str | None:
        """One line for stderr when some input could not be read, else None."""
        if not self.dead.total:
            return None
        return (f"{plural(self.dead.total, 'input')} rejected (see {self.dead_path}): "
                "what follows may miss their events")


def read_history(command: str, args: argparse.Namespace) -> History:
    """The input events, oldest first, read as they are consumed; a wrong file list is
    a usage error of ``command`` (raised here, before anything is read)."""
    files: list[Path] = list(args.files)
    if args.demo:
        if files:
            raise UsageError(command, "give files or --demo, not both")
        try:
            files = demo_day("bad-day")
        except OSError as exc:
            raise RuntimeFailure(command, str(exc)) from None
    if not files:
        raise UsageError(command, "needs at least one file or folder (or --demo)")
    dead_path = args.dead_letter or Path("dreamcatcher.deadletter.jsonl")
    files = input_files(files, dead_path, command)
    dead = DeadLetters(dead_path)
    events = input_events(files, dead, args.kind, RunTally(), InputMeter(files), {}, args.host)
    return History(events, dead, dead_path)


def engine_for(rules: list[Rule], args: argparse.Namespace,
               tracer: Tracer | None = None) -> Engine:
    engine = Engine(rules, lateness=args.lateness, tracer=tracer)
    seed_inventory(engine, args.inventory)
    return engine


def firings_of(packs: list[list[Rule]], history: History, args: argparse.Namespace,
               batch: int = 512) -> tuple[list[list[Firing]], int]:
    """What each pack fires over the history, in order (open deadlines drained unless
    ``--no-drain``), and how many events there were: one engine per pack, each batch
    handed to every engine in turn."""
    engines = [engine_for(rules, args) for rules in packs]
    firings: list[list[Firing]] = [[] for _ in packs]
    source = iter(history.events)
    events = 0
    for chunk in iter(lambda: list(islice(source, batch)), []):
        events += len(chunk)
        for engine, out in zip(engines, firings, strict=True):
            out += engine.process_many(chunk)
    if not args.no_drain:
        for engine, out in zip(engines, firings, strict=True):
            out += engine.drain()
    return firings, events


def warn(line: str | None) -> None:
    if line:
        print(f"dreamcatcher: {line}", file=sys.stderr)
