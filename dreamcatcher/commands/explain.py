"""``dreamcatcher explain RULE KEY FILE...``: why a rule did or did not fire for a key."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from dreamcatcher.commands.replay import rules_or_fail
from dreamcatcher.errors import UsageError
from dreamcatcher.explanation import Entry, Explainer, Explanation
from dreamcatcher.history import add_history_arguments, engine_for, read_history, warn
from dreamcatcher.resources import shipped_rules
from dreamcatcher.routing import RouterDecisions
from dreamcatcher.words import plural


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain", help="replay files with tracing: why RULE did or did not fire for KEY "
        "(an instance id, a MAC, a request id, any field value)")
    parser.add_argument("rule", help="the rule's id")
    parser.add_argument("key", help="a value to follow: events with a field equal to it")
    add_history_arguments(parser)
    parser.add_argument("--rules", type=Path, action="append",
                        help="rule files or folders (default: the shipped rule pack)")
    parser.add_argument("--config", type=Path,
                        help="deployment config whose alerting section decides folding and "
                        "silences (default: the router's defaults); nothing is sent")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not args.key.strip():
        raise UsageError("explain", "the key is empty: give the value to follow")
    rules = rules_or_fail(args.rules or [shipped_rules()])
    known = sorted(r.rule for r in rules if r.enabled)
    if args.rule not in known:
        raise UsageError("explain", f"no enabled rule {args.rule!r} in the rules "
                         f"(known: {', '.join(known) or 'none'})")
    router = RouterDecisions(args.config)
    history = read_history("explain", args)
    explainer = Explainer(rules, args.rule, args.key.strip(),
                          lambda rs, tracer: engine_for(rs, args, tracer), router)
    explanation = explainer.run(history.events, drain=not args.no_drain)
    if args.format == "json":
        sys.stdout.write(orjson.dumps(explanation.json(), default=str).decode() + "\n")
    else:
        sys.stdout.write(format_text(explanation))
    warn(history.rejected_line())
    return 0


def _line(entry: Entry) -> str:
    return (f"{entry.time.strftime('%Y-%m-%d %H:%M:%S')}  {entry.event_type}  "
            f"{entry.verdict}: {entry.reason}")


def format_text(explanation: Explanation) -> str:
    """One line per relevant event, then what was left out and the conclusion."""
    lines = [f"{explanation.rule} for {explanation.key} (router: {explanation.router})"]
    lines += [_line(e) for e in explanation.entries]
    if explanation.unread:
        kinds = ", ".join(f"{t} ({n})" for t, n in sorted(explanation.unread.items()))
        lines.append(f"also naming it, of types the rule does not read: "
                     f"{plural(sum(explanation.unread.values()), 'event')}: {kinds}")
    lines.append(explanation.conclusion())
    return "\n".join(lines) + "\n"
