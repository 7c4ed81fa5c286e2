"""``dreamcatcher backtest --rules A --against B FILE...``: two rule packs, one history."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from dreamcatcher.backtest import Comparison, alert_json, compare
from dreamcatcher.commands.replay import rules_or_fail
from dreamcatcher.history import add_history_arguments, firings_of, read_history, warn
from dreamcatcher.resources import shipped_rules
from dreamcatcher.words import plural
from engine.firing import Firing
from engine.templates import utc_stamp


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "backtest", help="replay history through two rule packs (or two versions of a rule) "
        "and show how their alerts differ")
    parser.add_argument("--rules", type=Path, action="append",
                        help="pack A: rule files or folders (default: the shipped rule pack)")
    parser.add_argument("--against", type=Path, action="append", required=True,
                        help="pack B: rule files or folders to compare with A")
    add_history_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    rules_a = rules_or_fail(args.rules or [shipped_rules()])
    rules_b = rules_or_fail(args.against)
    history = read_history("backtest", args)
    (a, b), events = firings_of([rules_a, rules_b], history, args)
    comparison = compare(a, b)
    names = (", ".join(map(str, args.rules or ["the shipped rules"])),
             ", ".join(map(str, args.against)))
    if args.format == "json":
        sys.stdout.write(orjson.dumps(report_json(comparison, names)).decode() + "\n")
    else:
        sys.stdout.write(format_text(comparison, names, events))
    warn(history.rejected_line())
    return 0


def report_json(comparison: Comparison, names: tuple[str, str]) -> dict[str, Any]:
    return {"a": {"rules": names[0], "alerts": [alert_json(f) for f in comparison.a]},
            "b": {"rules": names[1], "alerts": [alert_json(f) for f in comparison.b]},
            "only_a": [f.id for f in comparison.only_a],
            "only_b": [f.id for f in comparison.only_b],
            "both": [f.id for f in comparison.both],
            "per_rule": comparison.per_rule(), "same": comparison.same}


def _alert_line(mark: str, firing: Firing) -> str:
    kind = " (resolve)" if firing.resolves else ""
    return f"  {mark} {utc_stamp(firing.time)}  {firing.rule}{kind}: {firing.title}"


def format_text(comparison: Comparison, names: tuple[str, str], events: int) -> str:
    """The difference first (what a reviewer reads), then every alert, then counts."""
    a, b = names
    lines = [f"A: {a}", f"B: {b}",
             f"{plural(events, 'event')}: A gives {plural(len(comparison.a), 'alert')}, "
             f"B {plural(len(comparison.b), 'alert')}; "
             f"{len(comparison.only_a)} only in A, {len(comparison.only_b)} only in B, "
             f"{len(comparison.both)} in both"]
    if comparison.same:
        lines.append("no difference")
    lines += [_alert_line("-", f) for f in comparison.only_a]
    lines += [_alert_line("+", f) for f in comparison.only_b]
    if comparison.both:
        lines.append("in both:")
        lines += [_alert_line("=", f) for f in comparison.both]
    per_rule = comparison.per_rule()
    if per_rule:
        wide = max(len(r) for r in per_rule)
        lines.append(f"  {'per rule':{wide}} {'A':>4} {'B':>4} {'only A':>7} {'only B':>7} "
                     f"{'both':>5}")
        for rule, n in per_rule.items():
            lines.append(f"  {rule:{wide}} {n['a']:4} {n['b']:4} {n['only_a']:7} "
                         f"{n['only_b']:7} {n['both']:5}")
    return "\n".join(lines) + "\n"
