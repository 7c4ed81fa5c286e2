"""Log streams in: parsers for OpenStack, network and broker logs, and their sources.

``parse_lines`` / ``events_from_file`` turn raw lines into ``engine.events.Event``;
``FileFollower``, ``SyslogServer`` and ``read_stdin`` deliver them live.
"""

from adapters.logs.follower import FileFollower, OffsetStore
from adapters.logs.pipeline import events_from_file, parse_lines
from adapters.logs.router import PARSERS, kind_for_origin
from adapters.logs.stats import UnparsedStats
from adapters.logs.stdin import read_stdin
from adapters.logs.syslog import ListenError, SyslogServer

__all__ = [
    "PARSERS",
    "FileFollower",
    "ListenError",
    "OffsetStore",
    "SyslogServer",
    "UnparsedStats",
    "events_from_file",
    "kind_for_origin",
    "parse_lines",
    "read_stdin",
]
