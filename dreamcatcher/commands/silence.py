"""``dreamcatcher silence add|list|expire``: mute known trouble for a while, from the shell."""

from __future__ import annotations

import argparse
import getpass
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import yaml

from adapters.alerting.durations import parse_duration
from adapters.alerting.silences import Silence, SilenceFile
from dreamcatcher.errors import RuntimeFailure, UsageError

ENV_FILE = "DREAMCATCHER_SILENCES"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("silence", help="add, list or expire alert silences")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--file", type=Path, help=f"silences JSON file (default: ${ENV_FILE} "
                       "or the config's alerting.silences_path)")
    where.add_argument("--config", type=Path, help="deployment YAML with alerting.silences_path")
    actions = parser.add_subparsers(dest="silence_command", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="mute a rule and/or label values")
    add.add_argument("--rule", default="", help="rule name or glob (bpdu-*)")
    add.add_argument("--label", action="append", default=[], metavar="K=V",
                     help="label that must equal the value (repeatable)")
    span = add.add_mutually_exclusive_group(required=True)
    span.add_argument("--for", dest="duration", help="how long: 30m, 2h, 1d")
    span.add_argument("--until", help="end time, ISO 8601 (UTC if no zone)")
    add.add_argument("--comment", default="", help="why (shown in list)")
    add.add_argument("--by", default="", help="who (default: current user)")

    listing = actions.add_parser("list", help="show silences (active and pending)")
    listing.add_argument("--all", action="store_true", help="include expired ones")
    listing.add_argument("--format", choices=["table", "json"], default="table")

    expire = actions.add_parser("expire", help="end a silence now")
    expire.add_argument("id")
    parser.set_defaults(handler=run)


def silences_path(args: argparse.Namespace) -> Path:
    if args.file:
        return Path(args.file)
    if args.config:
        doc = yaml.safe_load(Path(args.config).read_text()) or {}
        configured = (doc.get("alerting") or {}).get("silences_path")
        if not configured:
            raise ValueError(f"{args.config}: alerting.silences_path is not set")
        return Path(configured)
    if os.environ.get(ENV_FILE):
        return Path(os.environ[ENV_FILE])
    raise ValueError(f"no silences file: use --file, --config or set ${ENV_FILE}")


def _labels(pairs: list[str]) -> dict[str, str]:
    labels = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--label wants K=V, got {pair!r}")
        labels[key] = value
    return labels


def _add(store: SilenceFile, args: argparse.Namespace) -> int:
    labels = _labels(args.label)
    if not args.rule and not labels:
        raise ValueError("a silence needs --rule or at least one --label (refusing to mute all)")
    now = datetime.now(UTC)
    if args.duration:
        ends = now + timedelta(seconds=parse_duration(args.duration))
    else:
        ends = datetime.fromisoformat(args.until)
        ends = ends if ends.tzinfo else ends.replace(tzinfo=UTC)
    if ends <= now:
        raise ValueError("the silence would already be over")
    silence = store.add(Silence(rule=args.rule, labels=labels, starts_at=now, ends_at=ends,
                                comment=args.comment, created_by=args.by or getpass.getuser()))
    print(f"silenced until {ends.isoformat(timespec='seconds')}: {silence.id}")
    return 0


def _list(store: SilenceFile, args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    shown = [s for s in store.load() if args.all or s.ends_at > now]
    if args.format == "json":
        print(orjson.dumps([s.model_dump(mode="json") for s in shown]).decode())
        return 0
    for s in shown:
        state = "expired" if s.ends_at <= now else ("active" if s.active(now) else "pending")
        match = " ".join([f"rule={s.rule}"] * bool(s.rule)
                         + [f"group={s.group}"] * bool(s.group)
                         + [f"{k}={v}" for k, v in s.labels.items()])
        until = s.ends_at.isoformat(timespec="seconds")
        print(f"{s.id}  {s.kind:<7}  {state:<7}  until {until}  {match}"
              f"  {s.created_by}: {s.comment}")
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        store = SilenceFile(silences_path(args))
        if args.silence_command == "add":
            return _add(store, args)
        if args.silence_command == "list":
            return _list(store, args)
        if store.expire(args.id) is None:
            raise RuntimeFailure("silence expire", f"no silence with id {args.id}")
        print(f"expired {args.id}")
        return 0
    except ValueError as exc:  # a wrong --for, --until, --label or no file named
        raise UsageError(f"silence {args.silence_command}", str(exc)) from None
    except OSError as exc:
        raise RuntimeFailure(f"silence {args.silence_command}", str(exc)) from None
