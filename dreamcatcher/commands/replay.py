"""``dreamcatcher replay FILE...``: run the rules over recorded events, logs or notifications."""

from __future__ import annotations

import argparse
import fnmatch
import sys
from collections.abc import Iterable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from adapters.deadletter import DeadLetters
from dreamcatcher.argtypes import duration, input_kind
from dreamcatcher.errors import RuntimeFailure, UsageError
from dreamcatcher.inputs import (
    STDIN,
    events_from_path,
    events_from_stream,
    input_name,
    is_stream,
)
from dreamcatcher.outputs import open_outputs
from dreamcatcher.pipeline import LiveBatches, Pipeline, merge_by_time
from dreamcatcher.progress import InputMeter, Progress
from dreamcatcher.resources import shipped_rules
from dreamcatcher.summary import Delivery, RunTally, format_summary
from dreamcatcher.words import plural
from engine.engine import Engine
from engine.events import Event
from engine.loader import RuleErrors, load_rules
from engine.schema import Rule


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay", help="replay files (events JSONL, raw notifications, raw logs) through the rules"
    )
    add_replay_arguments(parser)
    parser.set_defaults(handler=run)


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)
    parser.add_argument("--rules", type=Path, action="append",
                        help="rule files or folders (default: the shipped rule pack)")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text for people, json: one object per alert")
    parser.add_argument("--config", type=Path,
                        help="deployment config (alert sinks, remediation); default: "
                        "alerts on the terminal, remediation dry-run")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress on stderr (default: when stderr is a terminal)")
    parser.add_argument("--allow-rejects", action="store_true",
                        help="exit 0 even when some input was rejected (dead-lettered); "
                        "by default that exits 1, since the alerts may be incomplete")


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """The inputs and how they are read: replay's, and the history commands' (``explain``,
    ``backtest``), so each reads files as replay does."""
    parser.add_argument("files", nargs="*", type=Path,
                        help="input files or folders (their files), merged by event time; "
                        "- reads standard input as it arrives")
    parser.add_argument("--kind", type=input_kind,
                        help="force the input kind (events, notifications, hostfacts, "
                        "or a log kind such as nova-api, switch, dnsmasq)")
    parser.add_argument("--host", action="append", default=[], metavar="[GLOB=]HOST",
                        help="the host of log files whose lines name none: HOST for every "
                        "log input, GLOB=HOST for inputs whose path matches GLOB (repeatable, "
                        "first match wins)")
    parser.add_argument("--lateness", type=duration, default="5s",
                        help="out-of-order tolerance (default 5s)")
    parser.add_argument("--no-drain", action="store_true",
                        help="stop the clock at the last event instead of firing open deadlines")
    parser.add_argument("--dead-letter", type=Path,
                        help="where rejected input goes (default: stderr summary + "
                        "./dreamcatcher.deadletter.jsonl)")
    parser.add_argument("--inventory", type=Path, action="append", default=[],
                        help="seed facts from `openstack server|port|volume list --long -f json`")



def rules_or_fail(paths: list[Path]) -> list[Rule]:
    """The rules, or every ``file:line: field: message`` and one closing line (status 1)."""
    try:
        return load_rules(paths)
    except RuleErrors as exc:
        raise RuntimeFailure("rules", f"{plural(len(exc.errors), 'error')}, nothing replayed",
                             details=[str(e) for e in exc.errors]) from None


def seed_inventory(engine: Engine, snapshots: list[Path]) -> None:
    """The inventory snapshots (``--inventory``) into the engine; one line if unreadable."""
    if not snapshots:
        return
    from adapters.inventory import SnapshotError, facts_from_files

    try:
        engine.load_facts(facts_from_files(snapshots))
    except (SnapshotError, OSError) as exc:
        raise RuntimeFailure("inventory", str(exc)) from None


def input_files(files: list[Path], dead_path: Path, command: str = "replay") -> list[Path]:
    """The inputs, a folder standing for its regular files (sorted, hidden ones and
    our own dead-letter file left out); a missing input is a usage error of ``command``."""
    missing = [f for f in files if not is_stream(f) and not f.exists()]
    if missing:
        raise UsageError(command, f"no such file: {', '.join(map(str, missing))}")
    out: list[Path] = []
    for path in files:
        if is_stream(path) or not path.is_dir():
            out.append(path)
            continue
        inside = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                        and p.resolve() != dead_path.resolve())
        if not inside:
            raise UsageError(command, f"{path}: folder holds no files to replay")
        out.extend(inside)
    if sum(1 for f in out if str(f) == STDIN) > 1:
        raise UsageError(command, "- (standard input) can be given only once")
    return out


def host_of(path: Path, hosts: list[str]) -> str | None:
    """The host ``--host`` gives ``path``: the first ``GLOB=HOST`` whose glob matches
    the path (or its name), else a bare ``HOST``, else None."""
    bare = None
    for spec in hosts:
        glob, sep, host = spec.rpartition("=")
        if not sep:
            bare = bare or host
        elif fnmatch.fnmatchcase(str(path), glob) or fnmatch.fnmatchcase(path.name, glob):
            return host
    return bare


def input_events(files: list[Path], dead: DeadLetters, kind: str | None, tally: RunTally,
                 meter: InputMeter, names: dict[Path, str],
                 hosts: list[str] | None = None) -> Iterable[Event]:
    """All inputs merged by time, each counted for the summary under its name; with a
    live input among them, batched as it arrives."""
    streams: list[Iterator[Event]] = [
        tally.count(names.get(f) or input_name(f),
                    events_from_stream(f, dead, kind, stats=tally.stats) if is_stream(f)
                    else events_from_path(f, dead, kind, stats=tally.stats, opener=meter.open,
                                          host=host_of(f, hosts or [])))
        for f in files
    ]
    merged = merge_by_time(streams)
    return LiveBatches(merged) if any(map(is_stream, files)) else merged


def replay(args: argparse.Namespace, files: list[Path],
           names: dict[Path, str] | None = None) -> int:
    """Every input through the rules; ``names`` label inputs in the summary (the
    demo's bundled files read better as ``bad-day/...`` than as their install path)."""
    rules = rules_or_fail(args.rules or [shipped_rules()])
    engine = Engine(rules, lateness=args.lateness)
    seed_inventory(engine, args.inventory)
    dead_path = args.dead_letter or Path("dreamcatcher.deadletter.jsonl")
    files = input_files(files, dead_path)
    dead = DeadLetters(dead_path)
    meter = InputMeter(files)
    progress = Progress(enabled=args.progress, meter=meter)
    tally = RunTally()
    # the one place alerts and progress meet: whatever writes to stdout or stderr
    # during the run (printer, terminal sinks, warnings) first erases the progress line
    with redirect_stdout(progress.guard(sys.stdout)), redirect_stderr(progress.guard(sys.stderr)):
        outputs = open_outputs(args.config, args.format)
        pipeline = Pipeline(engine, tally.counting(outputs.handle))
        try:
            pipeline.run(input_events(files, dead, args.kind, tally, meter, names or {},
                                      getattr(args, "host", [])),
                         progress, drain=not args.no_drain)
        finally:
            outputs.close()
    delivery = None
    if outputs.router_stats is not None:
        delivery = Delivery.from_router_stats(outputs.router_stats(), outputs.dead_letter_path)
    print(format_summary(tally, rules=len(rules), rejected=dead.counts,
                         dead_letter_path=dead_path, delivery=delivery), file=sys.stderr)
    return exit_status(dead.total, args.allow_rejects)


def exit_status(rejected: int, allow_rejects: bool) -> int:
    """1 (runtime failure) when input was rejected: the alerts may be missing some.

    Not 2: the command line was fine, the data was not. ``--allow-rejects``
    is for runs that expect some junk (a raw capture) and only want alerts.
    """
    return 1 if rejected and not allow_rejects else 0


def run(args: argparse.Namespace) -> int:
    if not args.files:
        raise UsageError("replay", "needs at least one file, or - for standard input "
                         "(or try `dreamcatcher demo`)")
    return replay(args, list(args.files))
