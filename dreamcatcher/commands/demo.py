"""``dreamcatcher demo [--quiet-day]``: replay the bundled bad day (nine incidents) or quiet day."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from dreamcatcher import PROJECT_ROOT
from dreamcatcher.commands.replay import add_replay_arguments, replay
from dreamcatcher.errors import RuntimeFailure, UsageError

DEMO_ROOT = PROJECT_ROOT / "demo"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="replay the bundled 'bad day' (nine incidents) or, with --quiet-day, "
        "the same ordinary traffic with none"
    )
    parser.add_argument("--quiet-day", action="store_true",
                        help="replay the quiet day (ordinary traffic only; nothing should fire)")
    add_replay_arguments(parser)
    parser.set_defaults(handler=run)


def demo_files(quiet: bool) -> list[Path]:
    folder = DEMO_ROOT / ("quiet-day" if quiet else "bad-day")
    return sorted(p for p in folder.iterdir() if p.suffix == ".jsonl")


def run(args: argparse.Namespace) -> int:
    if args.files:
        raise UsageError("demo", "takes no files (it replays demo/bad-day or demo/quiet-day)")
    try:
        files = demo_files(args.quiet_day)
    except OSError:
        files = []
    if not files:
        raise RuntimeFailure("demo", f"no demo data under {DEMO_ROOT}; run demo/generate.py")
    return replay(args, files)
