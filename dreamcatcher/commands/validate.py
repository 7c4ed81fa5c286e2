"""``dreamcatcher validate PATH...``: check rule files, report every mistake."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dreamcatcher.catalogue import shipped_catalogue
from engine.loader import RuleErrors, load_rules
from engine.rulechecks import rule_check


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("validate", help="check rule files (file, line, field)")
    parser.add_argument("paths", nargs="+", type=Path, help="rule files or folders")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        # beyond the schema: event types nothing emits, fields no matching type has,
        # template names a firing cannot give (not in load_rules: tests feed any event)
        rules = load_rules(args.paths, check=rule_check(shipped_catalogue()))
    except RuleErrors as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(f"{len(exc.errors)} error(s)", file=sys.stderr)
        return 1
    print(f"{len(rules)} rule(s) OK")
    return 0
