"""``dreamcatcher listen``: log sources wired to a callback that prints JSON lines.

Until the engine is connected this is the operator's way to see what a log
source yields: ``--file`` (followed, offsets kept in ``--offsets``),
``--syslog`` (UDP+TCP, loopback unless ``--bind``), ``--stdin``, or a YAML
config listing the same (``--config``). Unparsed counts go to stderr at exit.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any

import orjson
import yaml

from adapters.deadletter import DeadLetters
from adapters.logs import (
    FileFollower,
    ListenError,
    OffsetStore,
    SyslogServer,
    UnparsedStats,
    read_stdin,
)
from adapters.logs.oslo import OsloFormat, format_from_config
from dreamcatcher.errors import RuntimeFailure, UsageError
from engine.events import Event


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("listen", help="read log sources and print events as JSON lines")
    p.add_argument("--file", action="append", default=[], metavar="PATH[:KIND]",
                   help="follow a log file (kind from its name unless given)")
    p.add_argument("--syslog", action="store_true", help="receive syslog on UDP and TCP")
    p.add_argument("--bind", default="127.0.0.1", help="syslog address (default loopback)")
    p.add_argument("--port", type=int, default=5514, help="syslog port (default 5514)")
    p.add_argument("--stdin", nargs="?", const="syslog", metavar="KIND",
                   help="read lines from standard input (default kind: syslog routing)")
    p.add_argument("--offsets", type=Path, help="file keeping followed files' offsets")
    p.add_argument("--dead-letters", type=Path, help="JSON-lines file for rejected input")
    p.add_argument("--once", action="store_true", help="read files to their end and exit")
    p.add_argument("--config", type=Path, help="YAML: {files: [{path, kind, host, format}], "
                   "syslog: {bind, port, senders: {addr: kind}}, routes: {glob: kind}, "
                   "offsets: path}")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    conf = _read_config(args.config) if args.config else {}
    routes = conf.get("routes") or None
    files = [{"path": f.split(":", 1)[0], "kind": [*f.split(":", 1), None][1]}
             for f in args.file] + list(conf.get("files") or [])
    syslog_conf = conf.get("syslog") or ({} if args.syslog else None)
    offsets_path = args.offsets or (Path(conf["offsets"]) if conf.get("offsets") else None)
    stats = UnparsedStats()
    dead = DeadLetters(args.dead_letters if args.dead_letters else sys.stderr)
    lock = threading.Lock()
    out = sys.stdout.buffer

    def emit(event: Event) -> None:
        line = orjson.dumps(event.model_dump(mode="json")) + b"\n"
        with lock:
            out.write(line)
            out.flush()

    stop = threading.Event()
    threads: list[threading.Thread] = []
    offsets = OffsetStore(offsets_path)
    followers = [FileFollower(Path(f["path"]), emit, kind=f.get("kind"), offsets=offsets,
                              stats=stats, dead_letters=dead, routes=routes, host=f.get("host"),
                              log_format=_log_format(f)) for f in files]
    server = None
    try:
        if args.once:
            for follower in followers:
                follower.drain()
            return _report(stats)
        for follower in followers:
            t = threading.Thread(target=follower.run, args=(stop,), daemon=True)
            t.start()
            threads.append(t)
        if syslog_conf is not None:
            try:
                server = SyslogServer(
                    emit, host=syslog_conf.get("bind", args.bind),
                    port=int(syslog_conf.get("port", args.port)),
                    senders=syslog_conf.get("senders"), routes=routes, stats=stats,
                    dead_letters=dead,
                ).start()
            except ListenError as exc:  # port in use, address not ours
                raise RuntimeFailure("syslog", str(exc)) from None
            except OSError as exc:  # e.g. a bind address that does not resolve
                raise RuntimeFailure("syslog", f"cannot listen: {exc}") from None
            print(f"syslog on udp {server.udp_address} tcp {server.tcp_address}",
                  file=sys.stderr)
        if args.stdin:
            for _ in read_stdin(emit, kind=args.stdin, stats=stats, dead_letters=dead,
                                routes=routes):
                pass
            if not followers and server is None:
                return _report(stats)
        if not threads and server is None:
            raise UsageError("listen", "nothing to listen to: give --file, --syslog, "
                             "--stdin or --config")
        stop.wait()
    finally:
        stop.set()
        if server is not None:
            server.stop()
        for t in threads:
            t.join(timeout=2)
    return _report(stats)


def _log_format(entry: dict[str, Any]) -> OsloFormat | None:
    """A followed file's ``format:`` (oslo.log options, a known name, a format string)."""
    spec = entry.get("format")
    if spec is None:
        return None
    try:
        return format_from_config(spec)
    except (ValueError, TypeError) as exc:
        raise UsageError("listen", f"{entry.get('path')}: format: {exc}") from None


def _read_config(path: Path) -> dict[str, Any]:
    """The listen config as a mapping; unreadable or not YAML is one line, status 1."""
    try:
        conf = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RuntimeFailure("listen", f"{path}: {' '.join(str(exc).split())}") from None
    if not isinstance(conf, dict):
        raise RuntimeFailure("listen", f"{path}: a listen config is a YAML mapping")
    return conf


def _report(stats: UnparsedStats) -> int:
    sys.stderr.write(orjson.dumps(stats.as_dict()).decode() + "\n")
    return 0
