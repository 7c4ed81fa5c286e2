"""``dreamcatcher demo [--quiet-day]``: replay the bundled bad day (nine incidents) or quiet day."""

from __future__ import annotations

import argparse
from typing import Any

from dreamcatcher.commands.replay import add_replay_arguments, replay
from dreamcatcher.errors import RuntimeFailure, UsageError
from dreamcatcher.resources import demo_day


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="replay the bundled 'bad day' (nine incidents) or, with --quiet-day, "
        "the same ordinary traffic with none"
    )
    parser.add_argument("--quiet-day", action="store_true",
                        help="replay the quiet day (ordinary traffic only; nothing should fire)")
    add_replay_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.files:
        raise UsageError("demo", "takes no files (it replays the bundled bad day or quiet day)")
    day = "quiet-day" if args.quiet_day else "bad-day"
    try:
        files = demo_day(day)
    except OSError as exc:
        raise RuntimeFailure("demo", str(exc)) from None
    if not files:
        raise RuntimeFailure("demo", f"the bundled {day} has no data; reinstall dreamcatcher")
    return replay(args, files, {f: f"{day}/{f.name} (bundled)" for f in files})
