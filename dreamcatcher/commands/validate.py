"""``dreamcatcher validate [PATH...]``: check rule files (default: the shipped pack),
report every mistake."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dreamcatcher.catalogue import shipped_catalogue
from dreamcatcher.resources import shipped_rules
from dreamcatcher.words import plural
from engine.loader import RuleErrors, load_rules
from engine.rulecheck import rule_check


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("validate", help="check rule files (file, line, field)")
    parser.add_argument("paths", nargs="*", type=Path,
                        help="rule files or folders (default: the shipped rule pack)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        # beyond the schema: event types nothing emits, fields no matching type has,
        # template names a firing cannot give (not in load_rules: tests feed any event)
        rules = load_rules(args.paths or [shipped_rules()], check=rule_check(shipped_catalogue()))
    except RuleErrors as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(plural(len(exc.errors), "error"), file=sys.stderr)
        return 1
    print(f"{plural(len(rules), 'rule')} OK")
    return 0
