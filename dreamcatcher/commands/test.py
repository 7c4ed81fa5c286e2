"""``dreamcatcher test [PATH...]``: run rule tests (default: the shipped pack's), print a
diff, exit non-zero on failure."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from dreamcatcher.errors import UsageError
from dreamcatcher.resources import shipped_rules
from dreamcatcher.ruletest import find_test_files, run_file
from engine.loader import RuleErrors
from engine.yamlsource import SourceError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("test", help="run rule tests (*.test.yaml)")
    parser.add_argument("paths", nargs="*", type=Path,
                        help="test files or folders (default: the shipped rule pack's tests)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    paths = args.paths or [shipped_rules()]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageError("test", f"no such file or folder: {', '.join(missing)}")
    files = find_test_files(paths)
    if not files:
        raise UsageError("test", "no *.test.yaml files found")
    passed = failed = 0
    for path in files:
        try:
            results = run_file(path)
        except (SourceError, RuleErrors) as exc:
            print(f"ERROR {path}\n    {exc}")
            failed += 1
            continue
        for result in results:
            if result.ok:
                passed += 1
                if args.verbose:
                    print(result.report())
            else:
                failed += 1
                print(result.report())
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1
