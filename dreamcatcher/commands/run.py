"""``dreamcatcher run --config deploy.yaml``: the live worker, every source into one engine.

The config's ``sources`` section names what is read (the notification bus,
syslog listeners, followed files, standard input); options on the command line
add to it (``--transport-url``, ``--syslog``, ``--file``, ``--stdin``), so a
quick try needs no file. The worker itself is ``dreamcatcher.worker.Worker``;
this module builds it, installs the signal handlers and reports at exit.

Signals: SIGTERM/SIGINT stop cleanly (nothing in hand is lost); SIGHUP re-reads
the rules, keeps the running set on any error (logged with file:line), and
keeps the state of the rules that did not change.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import orjson

from adapters.amqp.consumer import DEFAULT_EXCHANGES, DEFAULT_TOPICS
from adapters.deadletter import DeadLetters
from adapters.logs import UnparsedStats
from adapters.notifications import normalizer
from dreamcatcher import hangup
from dreamcatcher.argtypes import duration
from dreamcatcher.clockguard import FutureGuard
from dreamcatcher.commands.replay import rules_or_fail
from dreamcatcher.config import DeploymentConfig, load_config
from dreamcatcher.errors import RuntimeFailure, UsageError, redact_url
from dreamcatcher.intake import Intake, Item
from dreamcatcher.logsetup import configure_logging
from dreamcatcher.operations import operations
from dreamcatcher.outbox import Outbox
from dreamcatcher.outputs import open_outputs
from dreamcatcher.resources import shipped_rules
from dreamcatcher.signalflag import SignalFlag
from dreamcatcher.sourceconfig import (
    AmqpSource,
    FileSource,
    SourcesConfig,
    StdinSource,
    SyslogSource,
    not_a_rabbit_url,
)
from dreamcatcher.sources import AmqpIntake, build_sources
from dreamcatcher.state import add_state_options, store_from_args
from dreamcatcher.worker import Worker
from engine.engine import Engine
from engine.firing import Firing
from engine.loader import RuleErrors, load_rules
from engine.reads import fields_read
from engine.schema import Rule
from engine.yamlsource import SourceError

log = logging.getLogger(__name__)

#: the transport URL without putting its password on the command line (``ps`` shows it)
URL_ENV = "DREAMCATCHER_TRANSPORT_URL"


def transport_url(value: str) -> str:
    """Refused at parse time, like the config's ``sources.amqp.transport_url``."""
    problem = not_a_rabbit_url(value)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return value


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def file_spec(value: str) -> FileSource:
    """``PATH[:KIND][@HOST]``: a followed file, its parser kind, the host its lines are from."""
    spec, _, host = value.partition("@")
    path, _, kind = spec.partition(":")
    if not path:
        raise argparse.ArgumentTypeError(f"{value!r}: write PATH[:KIND][@HOST]")
    return FileSource(path=Path(path), kind=kind or None, host=host or None)


def syslog_spec(value: str) -> SyslogSource:
    """``[ADDRESS:]PORT``: a UDP and TCP listener (loopback unless an address is given)."""
    host, _, port = value.rpartition(":")
    if not port.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r}: write [ADDRESS:]PORT, e.g. 0.0.0.0:5514")
    return SyslogSource(bind=host or "127.0.0.1", port=int(port))


def _config(args: argparse.Namespace) -> DeploymentConfig:
    if args.config is None:
        return DeploymentConfig()
    try:
        return load_config(args.config)
    except SourceError as exc:
        raise RuntimeFailure("config", str(exc)) from None


def sources_from(args: argparse.Namespace, config: DeploymentConfig) -> SourcesConfig:
    """The config's sources plus the command line's (which win for the bus)."""
    sources = config.sources.model_copy(deep=True)
    url = args.transport_url or os.environ.get(URL_ENV)
    if url is not None:
        base = sources.amqp.model_dump() if sources.amqp is not None else {}
        update: dict[str, Any] = {"transport_url": url}
        for name in ("exchanges", "topics", "queue_prefix", "batch_size", "flush_interval",
                     "idle_ack"):
            value = getattr(args, name)
            if value is not None:
                update[name] = value
        if args.dead_letter_file is not None:
            update["dead_letters"] = args.dead_letter_file
        sources.amqp = AmqpSource.model_validate({**base, **update})
    sources.syslog = [*sources.syslog, *args.syslog]
    sources.files = [*sources.files, *args.file]
    if args.stdin is not None:
        sources.stdin = StdinSource(kind=args.stdin or None)
    if args.offsets is not None:
        sources.offsets = args.offsets
    if sources.empty():
        raise UsageError("run", "nothing to read: give --config with a sources section, "
                         f"--transport-url (or ${URL_ENV}), --syslog, --file or --stdin")
    return sources


def _rule_paths(args: argparse.Namespace, config: DeploymentConfig) -> list[Path]:
    return args.rules or config.rules or [shipped_rules()]


def build_engine(args: argparse.Namespace, config: DeploymentConfig,
                 rules: list[Rule]) -> Engine:
    lateness = args.lateness if args.lateness is not None else config.clock.lateness
    engine = Engine(rules, store_from_args(args), lateness=lateness,
                    fact_max_age=config.inventory.max_age)
    dumps = [*config.inventory.dumps, *args.inventory]
    if dumps:
        from adapters.inventory import SnapshotError, facts_from_files

        try:
            count = engine.load_facts(facts_from_files(dumps))
        except (SnapshotError, OSError) as exc:
            raise RuntimeFailure("inventory", str(exc)) from None
        log.info("inventory seeded: %d facts from %d dumps", count, len(dumps))
    return engine


def reloaded(paths: list[Path], running: Engine, sources: list[Any],
             all_fields: bool = False) -> Engine:
    """A new engine on the same store with the rules read again; raises on any error.

    State lives in the store under each rule's id and operator kind, so an
    unchanged rule carries on where it was; the clock carries over. Inventory
    facts already stored keep the fields the old rules read of them: a new rule
    that joins on more sees those fields as facts are refreshed.
    """
    try:
        rules = load_rules(paths)
    except RuleErrors as exc:
        raise ValueError("; ".join(str(e) for e in exc.errors)) from None
    fresh = Engine(rules, running.store, lateness=running.lateness,
                   dedup_ttl=running.dedup_ttl, fact_max_age=running.inventory.max_age)
    fresh.newest, fresh.hold = running.newest, running.hold
    for source in sources:
        if isinstance(source, AmqpIntake) and not all_fields:  # what the new rules read
            source.consumer.set_normalizer(normalizer(fields_read(rules)))
    return fresh


def _print_events(item: Item, firings: list[Firing]) -> None:
    out = sys.stdout
    for event in item.events:
        out.write(orjson.dumps(event.model_dump(mode="json", exclude={"raw"})).decode() + "\n")
    out.flush()


def _write_pid(path: Path) -> None:
    try:
        path.write_text(f"{os.getpid()}\n", encoding="ascii")
    except OSError as exc:
        raise RuntimeFailure("run", f"cannot write the pid file {path}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    config = _config(args)
    configure_logging(config.logging)
    sources_conf = sources_from(args, config)
    rules = [] if args.print_events else rules_or_fail(_rule_paths(args, config))
    engine = build_engine(args, config, rules)
    # notifications are mapped to the fields the rules read (all with --print-events)
    wanted = None if args.print_events else fields_read(rules)
    clock = args.clock or config.clock.mode
    intake = Intake()
    stats = UnparsedStats()
    dead = DeadLetters(args.dead_letters) if args.dead_letters else DeadLetters(sys.stderr)
    intake.guard = FutureGuard(max_future=config.clock.max_future,
                               policy=config.clock.future_policy, dead_letters=dead)
    sources = build_sources(sources_conf, intake, dead=dead, stats=stats,
                            idle=config.clock.tick, wanted=wanted)
    outbox_path = args.outbox or config.outbox.path
    try:
        outbox = Outbox(outbox_path, fsync=config.outbox.fsync)
    except OSError as exc:
        raise RuntimeFailure("outbox", f"{outbox_path}: {exc}") from None
    outputs = open_outputs(args.config, args.format, live=True)
    worker = Worker(engine, intake, sources, outputs, outbox, clock=clock,
                    tick=config.clock.tick, drain_at_exit=args.drain_at_exit,
                    dead_letter=dead.put)
    if args.print_events:
        worker.on_batch.append(_print_events)
    ops = operations(config, worker, sources, stats, dead, outputs.router_stats)
    # the handlers only set flags (dreamcatcher/signalflag.py); this loop acts on them
    reload_wanted, stop_wanted = SignalFlag(), SignalFlag()

    def _graceful(signum: int, frame: FrameType | None) -> None:
        stop_wanted.set()

    def _hup(signum: int, frame: FrameType | None) -> None:
        reload_wanted.set()

    signal.signal(signal.SIGTERM, _graceful)
    signal.signal(signal.SIGINT, _graceful)
    signal.signal(signal.SIGHUP, _hup)
    if hangup.received_while_starting():
        reload_wanted.set()
    # rules, mappings and imports live as long as the process: keep them out of the
    # full collections, which otherwise pause the worker (~10 ms) now and then
    gc.freeze()
    if args.pid_file is not None:
        _write_pid(args.pid_file)
    worker.start()
    ops.started(config, worker)
    log.info("running: %s", ", ".join(s.name for s in sources))
    if args.transport_url and redact_url(args.transport_url) != args.transport_url:
        log.warning("the broker password is on the command line, where ps shows it to "
                    "every user: put it in $%s or the config (sources.amqp.transport_url)",
                    URL_ENV)
    rule_paths = _rule_paths(args, config)
    failure: str | None = None
    while not worker.wait_stop(0.2):
        if stop_wanted.is_set():
            worker.stop()
            continue
        ops.sync()
        if reload_wanted.take():
            ops.notifier.reloading()
            worker.swap_engine(lambda running: reloaded(rule_paths, running, sources,
                                                        all_fields=args.print_events))
            ops.notifier.ready("rules reloaded")
        if not worker.alive():  # exit non-zero: systemd's Restart= starts a fresh worker
            failure = "the engine thread stopped unexpectedly"
            break
        if all(source.finished() for source in sources):
            break  # e.g. `... | dreamcatcher run --stdin`: the pipe has ended
        failure = next((f for f in (source.failed() for source in sources) if f), None)
        if failure:
            break
    log.info("stopping: finishing the batch in hand, draining alerts")
    ops.notifier.stopping("draining")
    worker.shutdown()
    ops.sync()
    ops.close()
    if args.pid_file is not None:
        args.pid_file.unlink(missing_ok=True)
    if failure:
        raise RuntimeFailure("run", failure)
    s = worker.stats
    log.info("stopped: %d events, %d firings (%d from the outbox), %d unsettled in the outbox",
             s.events, s.firings, s.redelivered_firings, outbox.unsettled())
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run", help="the live worker: notifications, syslog, log files into the rules",
        description="Read every configured source into one engine and alert as it goes.")
    parser.add_argument("--config", type=Path,
                        help="deployment config: sources, inventory, clock, alert sinks, "
                             "remediation, state (see deploy/deploy.yaml)")
    parser.add_argument("--transport-url", type=transport_url, default=None,
                        help=f"RabbitMQ URL (rabbit://user:pass@host:5672/); better in the "
                             f"config or ${URL_ENV}, since the command line is visible in ps")
    parser.add_argument("--syslog", type=syslog_spec, action="append", default=[],
                        metavar="[ADDR:]PORT", help="listen for syslog on UDP and TCP")
    parser.add_argument("--file", type=file_spec, action="append", default=[],
                        metavar="PATH[:KIND][@HOST]", help="follow a log file")
    parser.add_argument("--stdin", nargs="?", const="", default=None, metavar="KIND",
                        help="read log lines from standard input")
    parser.add_argument("--offsets", type=Path, help="where followed files' offsets are kept")
    parser.add_argument("--inventory", type=Path, action="append", default=[],
                        help="seed facts from `openstack server|port|volume list --long -f json`")
    parser.add_argument("--clock", choices=("wall", "event"), default=None,
                        help="wall (default): time follows the wall clock once every source "
                             "is caught up; event: time moves only with events")
    parser.add_argument("--drain-at-exit", action="store_true",
                        help="at a clean stop fire every open deadline (for back-testing)")
    parser.add_argument("--pid-file", type=Path,
                        help="write the process id here (for `dreamcatcher reload`)")
    parser.add_argument("--outbox", type=Path,
                        help="journal of firings not yet delivered (survives kill -9)")
    parser.add_argument("--dead-letters", type=Path,
                        help="JSON-lines file for rejected log lines (default: stderr)")
    parser.add_argument("--exchanges", type=_csv, default=None,
                        help=f"comma-separated service exchanges (default: "
                             f"{','.join(DEFAULT_EXCHANGES)})")
    parser.add_argument("--topics", type=_csv, default=None,
                        help=f"comma-separated notification topics, all priorities "
                             f"(default: {','.join(DEFAULT_TOPICS)})")
    parser.add_argument("--queue-prefix", default=None,
                        help="our queue is <prefix>.notifications, dead letters <prefix>.dead")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="ack once per this many messages (each is processed at once)")
    parser.add_argument("--flush-interval", type=float, default=None,
                        help="seconds a processed message may stay unacked while messages "
                             "keep coming")
    parser.add_argument("--idle-ack", type=float, default=None,
                        help="ack as soon as no message came for this many seconds")
    parser.add_argument("--dead-letter-file", default=None,
                        help="write rejected messages to this JSON-lines file instead of "
                             "the <prefix>.dead queue")
    parser.add_argument("--rules", type=Path, action="append",
                        help="rule files or folders (default: the config's, else the shipped "
                             "rule pack)")
    parser.add_argument("--lateness", type=duration, default=None,
                        help="out-of-order tolerance (default 5s)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--print-events", action="store_true",
                        help="print normalized events instead of running the rules")
    add_state_options(parser)
    parser.set_defaults(handler=run)
