"""``dreamcatcher ack GROUP [--for 4h]``: I'm on it, stop repeating this alert group."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from adapters.alerting.acks import DEFAULT_ACK, AckRequest, acknowledge
from adapters.alerting.silences import SilenceFile
from dreamcatcher.commands.silence import ENV_FILE, silences_path
from dreamcatcher.errors import RuntimeFailure, UsageError
from engine.yamlsource import validation_problems


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ack", help="acknowledge an alert group: no repeats until it resolves or the ack ends")
    parser.add_argument("group", help="the group key, as notices carry it "
                        "(e.g. bpdu-guard-trip|fa:16:3e:24:e7:22)")
    parser.add_argument("--for", dest="duration", default=f"{DEFAULT_ACK / 3600:g}h",
                        help="how long at most (default %(default)s; the group's resolve "
                        "ends it sooner)")
    parser.add_argument("--comment", default="", help="why (kept in the audit trail)")
    parser.add_argument("--by", default="", help="who (default: current user)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--file", type=Path, help=f"silences JSON file (default: ${ENV_FILE} "
                       "or the config's alerting.silences_path)")
    where.add_argument("--config", type=Path, help="deployment YAML with alerting.silences_path")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        request = AckRequest.model_validate({
            "group": args.group, "for": args.duration, "comment": args.comment,
            "by": args.by or getpass.getuser()})
        ack = acknowledge(SilenceFile(silences_path(args)), request, via="cli")
    except ValidationError as exc:
        loc, message = validation_problems(exc)[0]
        option = {"for": "--for", "by": "--by", "comment": "--comment"}.get(str(loc[0]), "GROUP")
        raise UsageError("ack", f"{option}: {message}") from None
    except ValueError as exc:  # no silences file named
        raise UsageError("ack", str(exc)) from None
    except OSError as exc:
        raise RuntimeFailure("ack", str(exc)) from None
    print(f"acknowledged until {ack.ends_at.isoformat(timespec='seconds')}: {ack.id} "
          f"(group {ack.group})")
    return 0
