"""``dreamcatcher replay FILE...``: run the rules over recorded events, logs or notifications."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from adapters.deadletter import DeadLetters
from dreamcatcher import PROJECT_ROOT
from dreamcatcher.argtypes import duration, input_kind
from dreamcatcher.errors import RuntimeFailure, UsageError
from dreamcatcher.inputs import events_from_path, events_from_stream, is_stream
from dreamcatcher.outputs import build_outputs
from dreamcatcher.pipeline import LiveBatches, Pipeline, Progress, merge_by_time
from engine.engine import Engine
from engine.events import Event
from engine.loader import RuleErrors, load_rules
from engine.schema import Rule

DEFAULT_RULES = PROJECT_ROOT / "rules"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay", help="replay files (events JSONL, raw notifications, raw logs) through the rules"
    )
    add_replay_arguments(parser)
    parser.set_defaults(handler=run)


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", type=Path,
                        help="input files or folders (their files), merged by event time; "
                        "- reads standard input as it arrives")
    parser.add_argument("--rules", type=Path, action="append",
                        help=f"rule files or folders (default: {DEFAULT_RULES})")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text for people, json: one object per alert")
    parser.add_argument("--kind", type=input_kind,
                        help="force the input kind (events, notifications, "
                        "or a log kind such as nova-api, switch, dnsmasq)")
    parser.add_argument("--lateness", type=duration, default="5s",
                        help="out-of-order tolerance (default 5s)")
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


def rules_or_fail(paths: list[Path]) -> list[Rule]:
    """The rules, or every ``file:line: field: message`` and one closing line (status 1)."""
    try:
        return load_rules(paths)
    except RuleErrors as exc:
        raise RuntimeFailure("rules", f"{len(exc.errors)} error(s), nothing replayed",
                             details=[str(e) for e in exc.errors]) from None


def input_files(files: list[Path], dead_path: Path) -> list[Path]:
    """The inputs, a folder standing for its regular files (sorted, hidden ones and
    our own dead-letter file left out); a missing input is a usage error."""
    missing = [f for f in files if not is_stream(f) and not f.exists()]
    if missing:
        raise UsageError("replay", f"no such file: {', '.join(map(str, missing))}")
    out: list[Path] = []
    for path in files:
        if is_stream(path) or not path.is_dir():
            out.append(path)
            continue
        inside = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                        and p.resolve() != dead_path.resolve())
        if not inside:
            raise UsageError("replay", f"{path}: folder holds no files to replay")
        out.extend(inside)
    if sum(1 for f in out if str(f) == "-") > 1:
        raise UsageError("replay", "- (standard input) can be given only once")
    return out


def input_events(files: list[Path], dead: DeadLetters, kind: str | None) -> Iterable[Event]:
    """All inputs merged by time; with a live input among them, batched as it arrives."""
    streams: list[Iterator[Event]] = [
        events_from_stream(f, dead, kind) if is_stream(f) else events_from_path(f, dead, kind)
        for f in files
    ]
    merged = merge_by_time(streams)
    return LiveBatches(merged) if any(map(is_stream, files)) else merged


def replay(args: argparse.Namespace, files: list[Path]) -> int:
    rules = rules_or_fail(args.rules or [DEFAULT_RULES])
    engine = Engine(rules, lateness=args.lateness)
    if args.inventory:
        from adapters.inventory import SnapshotError, facts_from_files

        try:
            engine.load_facts(facts_from_files(args.inventory))
        except (SnapshotError, OSError) as exc:
            raise RuntimeFailure("inventory", str(exc)) from None
    dead_path = args.dead_letter or Path("dreamcatcher.deadletter.jsonl")
    files = input_files(files, dead_path)
    dead = DeadLetters(dead_path)
    on_firing, close = build_outputs(args.config, args.format)
    pipeline = Pipeline(engine, on_firing)
    try:
        pipeline.run(input_events(files, dead, args.kind), Progress(enabled=args.progress),
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
        raise UsageError("replay", "needs at least one file, or - for standard input "
                         "(or try `dreamcatcher demo`)")
    return replay(args, list(args.files))
