"""The ``dreamcatcher`` console script.

Every failure leaves as one line ``dreamcatcher: <what>: <why>`` (see
``dreamcatcher.errors``): 2 for a wrong command line, 1 for a runtime failure,
and an unexpected exception as ``internal error`` unless ``--debug`` asks for
its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn

from dreamcatcher import commands, hangup
from dreamcatcher.errors import CliError, RuntimeFailure, UsageError

Handler = Callable[[argparse.Namespace], int]


def _version() -> str:
    """The installed distribution's version (a bare checkout has none to report)."""
    try:
        return version("dreamcatcher")
    except PackageNotFoundError:
        return "(not installed)"


class Parser(argparse.ArgumentParser):
    """argparse whose mistakes raise ``UsageError`` (one line, status 2) instead of
    printing the usage block; ``--help`` is untouched."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("dreamcatcher").strip() or "usage"
        raise UsageError(command, message)

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        """Like argparse's, but an unrecognized argument is blamed on its command."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = getattr(parsed, "command", None) or "usage"
            raise UsageError(command, f"unrecognized arguments: {' '.join(extras)}")
        return parsed


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="dreamcatcher",
        description="Rule engine for OpenStack notifications and logs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an internal error")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(subparsers)
    return parser


def _report(error: CliError, debug: bool) -> int:
    if debug:
        traceback.print_exception(error)
    for detail in error.details:
        print(detail, file=sys.stderr)
    print(error.line(), file=sys.stderr)
    return error.status


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except CliError as exc:
        return _report(exc, debug=False)
    handler: Handler = args.handler
    debug: bool = args.debug
    hangup.install(args.command)  # SIGHUP never kills a command (dreamcatcher/hangup.py)
    try:
        return handler(args)
    except CliError as exc:
        return _report(exc, debug)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if debug:
            raise
        return _report(_internal(args.command, exc), debug=False)


def _internal(command: str, exc: Exception) -> CliError:
    """An unreadable file is the world's fault (status 1), anything else is ours."""
    if isinstance(exc, OSError) and exc.filename is not None:
        return RuntimeFailure(command, f"{exc.filename}: {exc.strerror or exc}")
    return CliError(command, f"internal error: {type(exc).__name__}: {exc} "
                    "(run with --debug for the traceback)")


if __name__ == "__main__":
    sys.exit(main())
