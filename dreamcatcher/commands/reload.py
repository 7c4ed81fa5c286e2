"""``dreamcatcher reload --pid-file PATH``: ask a running worker to re-read its rules.

The same as ``kill -HUP``: the worker validates the rule files first and keeps
the running set on any error (its log names file:line).
"""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path
from typing import Any

from dreamcatcher.errors import RuntimeFailure


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("reload", help="re-read the rules of a running worker")
    parser.add_argument("--pid-file", type=Path, required=True,
                        help="the file `dreamcatcher run --pid-file` wrote")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        pid = int(args.pid_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as exc:
        raise RuntimeFailure("reload", f"{args.pid_file}: no worker pid ({exc})") from None
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        raise RuntimeFailure("reload", f"no worker with pid {pid} (stale {args.pid_file})") \
            from None
    except PermissionError:
        raise RuntimeFailure("reload", f"not allowed to signal pid {pid}") from None
    print(f"asked worker {pid} to reload its rules (its log says whether it did)")
    return 0
