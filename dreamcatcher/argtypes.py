"""argparse ``type=`` functions: a bad value is refused while parsing, as a usage
error naming the option, instead of failing deep inside the command."""

from __future__ import annotations

import argparse

from engine.schema import parse_duration

#: Input kinds that are not a log parser's own: sniffed, or forced to a decoder.
NON_LOG_KINDS = ("events", "notifications", "hostfacts", "logs", "syslog")


def duration(value: str) -> float:
    """Seconds, read by the rules' own duration parser (``30s``, ``15m``, ``1h30m``)."""
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def input_kind(value: str) -> str:
    """``events``, ``notifications``, ``hostfacts``, ``logs``, ``syslog`` or a log parser's
    kind."""
    from adapters.logs import PARSERS  # only when --kind is given: the parsers are heavy

    known = (*NON_LOG_KINDS, *sorted(PARSERS))
    if value not in known:
        raise argparse.ArgumentTypeError(f"unknown kind {value!r} (known: {', '.join(known)})")
    return value
