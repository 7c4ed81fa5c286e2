"""``dreamcatcher replay FILE...``: run the rules over recorded events, logs or notifications."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from adapters.deadletter import DeadLetters
from dreamcatcher.inputs import events_from_path
from dreamcatcher.outputs import build_outputs
from dreamcatcher.pipeline import Pipeline, Progress, merge_by_time
from dreamcatcher.resources import shipped_rules
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
    try:
        on_firing, close = build_outputs(args.config, args.format)
    except (SourceError, OSError) as exc:
        print(f"config: {exc}", file=sys.stderr)
        return 1
    pipeline = Pipeline(engine, on_firing)
    streams = [events_from_path(f, dead, args.kind) for f in files]
    try:
        pipeline.run(merge_by_time(streams), Progress(enabled=args.progress),
                     drain=not args.no_drain)
    finally:
        close()
    print(f"{pipeline.events:,} events, {pipeline.firings:,} alerts from {len(rules)} rules",
          file=sys.stderr)
    if dead.total:
        print(f"{dead.total} input(s) rejected, kept with the reason in {dead_path}",
              file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    if not args.files:
        print("replay needs at least one file (or try `dreamcatcher demo`)", file=sys.stderr)
        return 2
    return replay(args, list(args.files))
