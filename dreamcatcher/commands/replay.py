"""``dreamcatcher replay FILE...``: run the rules over recorded events, logs or notifications."""

from __future__ import annotations

import argparse
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from adapters.deadletter import DeadLetters
from dreamcatcher.inputs import events_from_path
from dreamcatcher.outputs import open_outputs
from dreamcatcher.pipeline import Pipeline, Progress, merge_by_time
from dreamcatcher.progress import InputMeter
from dreamcatcher.resources import shipped_rules
from dreamcatcher.summary import Delivery, RunTally, format_summary
from engine.engine import Engine
from engine.loader import RuleErrors, load_rules
from engine.schema import parse_duration
from engine.yamlsource import SourceError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay", help="replay files (events JSONL, raw notifications, raw logs) through the rules"
    )
    add_replay_arguments(parser)
    parser.set_defaults(handler=run)


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", type=Path, help="input files, merged by event time")
    parser.add_argument("--rules", type=Path, action="append",
                        help="rule files or folders (default: the shipped rule pack)")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text for people, json: one object per alert")
    parser.add_argument("--kind", help="force the input kind (events, notifications, "
                        "or a log kind such as nova-api, switch, dnsmasq)")
    parser.add_argument("--lateness", default="5s", help="out-of-order tolerance (default 5s)")
    parser.add_argument("--no-drain", action="store_true",
                        help="stop the clock at the last event instead of firing open deadlines")
    parser.add_argument("--dead-letter", type=Path,
                        help="where rejected input goes (default: stderr summary + "
                        "./dreamcatcher.deadletter.jsonl)")
    parser.add_argument("--inventory", type=Path, action="append", default=[],
                        help="seed facts from `openstack server|port|volume list --long -f json`")
    parser.add_argument("--config", type=Path,
                        help="deployment config (alert sinks, remediation); default: "
                        "alerts on the terminal, remediation dry-run")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress on stderr (default: when stderr is a terminal)")
    parser.add_argument("--allow-rejects", action="store_true",
                        help="exit 0 even when some input was rejected (dead-lettered); "
                        "by default that exits 1, since the alerts may be incomplete")


def replay(args: argparse.Namespace, files: list[Path]) -> int:
    try:
        rules = load_rules(args.rules or [shipped_rules()])
    except RuleErrors as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        return 1
    engine = Engine(rules, lateness=parse_duration(args.lateness))
    if args.inventory:
        from adapters.inventory import SnapshotError, facts_from_files

        try:
            engine.load_facts(facts_from_files(args.inventory))
        except (SnapshotError, OSError) as exc:
            print(f"inventory: {exc}", file=sys.stderr)
            return 1
    dead_path = args.dead_letter or Path("dreamcatcher.deadletter.jsonl")
    dead = DeadLetters(dead_path)
    missing = [f for f in files if not f.exists()]
    if missing:
        print(f"no such file: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    meter = InputMeter(files)
    progress = Progress(enabled=args.progress, meter=meter)
    tally = RunTally()
    # the one place alerts and progress meet: whatever writes to stdout or stderr
    # during the run (printer, terminal sinks, warnings) first erases the progress line
    with redirect_stdout(progress.guard(sys.stdout)), redirect_stderr(progress.guard(sys.stderr)):
        try:
            outputs = open_outputs(args.config, args.format)
        except (SourceError, OSError) as exc:
            print(f"config: {exc}", file=sys.stderr)
            return 1
        pipeline = Pipeline(engine, tally.counting(outputs.handle))
        streams = [tally.count(str(f), events_from_path(f, dead, args.kind, stats=tally.stats,
                                                        opener=meter.open)) for f in files]
        try:
            pipeline.run(merge_by_time(streams), progress, drain=not args.no_drain)
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
        print("replay needs at least one file (or try `dreamcatcher demo`)", file=sys.stderr)
        return 2
    return replay(args, list(args.files))
