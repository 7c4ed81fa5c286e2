"""``dreamcatcher run --transport-url rabbit://...``: consume notifications live.

The handler comes from ``build_handler`` (one function): each message's
event goes through the engine as soon as it arrives (its effects stored
before the consumer acks, in batches) and the alerts are printed; a clock
thread advances event time from the wall clock so an absence fires even when
no further message arrives.
"""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import orjson

from adapters.amqp.consumer import DEFAULT_EXCHANGES, DEFAULT_TOPICS, NotificationConsumer
from adapters.deadletter import DeadLetters
from adapters.notifications import normalizer
from dreamcatcher.argtypes import duration
from dreamcatcher.commands.replay import rules_or_fail
from dreamcatcher.errors import redact_url
from dreamcatcher.outputs import open_outputs
from dreamcatcher.pipeline import Pipeline
from dreamcatcher.resources import shipped_rules
from dreamcatcher.state import add_state_options, store_from_args
from engine.engine import Engine
from engine.events import Event
from engine.readset import fields_read
from engine.schema import Rule

Handler = Callable[[list[Event]], None]


def print_events(batch: list[Event]) -> None:
    """Default handler: one JSON object per event on stdout (``raw`` left out)."""
    out = sys.stdout
    for event in batch:
        out.write(orjson.dumps(event.model_dump(mode="json", exclude={"raw"})).decode() + "\n")
    out.flush()


def build_handler(args: argparse.Namespace, rules: list[Rule] | None = None) -> Handler:
    """The one place the engine is wired in: return what receives each batch.

    It must return only once the batch's effects are stored: the consumer acks
    the batch right after it returns, and requeues it if it raises.
    """
    if args.print_events:
        return print_events
    engine = Engine(rules if rules is not None else rules_or_fail(args.rules or [shipped_rules()]),
                    store_from_args(args), lateness=args.lateness)
    pipeline = Pipeline(engine, open_outputs(args.config, args.format).handle)
    lock = threading.Lock()

    def handle(batch: list[Event]) -> None:
        with lock:
            pipeline.handle_batch(batch)

    def clock() -> None:
        while True:
            time.sleep(1.0)
            with lock:
                pipeline.tick(time.time())

    threading.Thread(target=clock, name="dreamcatcher-clock", daemon=True).start()
    return handle


def build_consumer(args: argparse.Namespace, handler: Handler,
                   wanted: frozenset[str] | None = None) -> NotificationConsumer:
    """``wanted``: the event fields the rules read, all that notifications are mapped to
    (``engine.readset``); None maps every field (``--print-events``)."""
    dead_letters: Any = DeadLetters(Path(args.dead_letter_file)) if args.dead_letter_file else None
    return NotificationConsumer(
        args.transport_url,
        handler,
        exchanges=args.exchanges,
        topics=args.topics,
        queue_prefix=args.queue_prefix,
        batch_size=args.batch_size,
        flush_interval=args.flush_interval,
        idle_ack=args.idle_ack,
        dead_letters=dead_letters,
        normalizer=normalizer(wanted),
    )


#: What kombu reaches RabbitMQ with (``rabbit``/``kombu`` are oslo.messaging's names).
TRANSPORTS = ("rabbit", "kombu", "amqp", "amqps", "pyamqp")


def transport_url(value: str) -> str:
    """Refused at parse time: kombu would otherwise fail on it deep in ``run()``."""
    scheme, sep, _ = value.partition("://")
    if not sep or scheme not in TRANSPORTS:
        raise argparse.ArgumentTypeError(
            f"{redact_url(value)} is not a RabbitMQ URL (rabbit://user:pass@host:5672/)")
    return value


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    rules = None if args.print_events else rules_or_fail(args.rules or [shipped_rules()])
    consumer = build_consumer(args, build_handler(args, rules),
                              wanted=None if rules is None else fields_read(rules))

    def _graceful(signum: int, frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("signal %d: finishing the batch in flight", signum)
        consumer.stop()

    signal.signal(signal.SIGTERM, _graceful)
    signal.signal(signal.SIGINT, _graceful)
    # rules, mappings and imports live as long as the process: keep them out of the
    # full collections, which otherwise pause the worker (~10 ms) now and then
    gc.freeze()
    consumer.run()
    stats = consumer.stats
    logging.getLogger(__name__).info(
        "stopped: %d received, %d events, %d ignored, %d dead-lettered, %d reconnects",
        stats.received, stats.events, stats.ignored, stats.dead_lettered, stats.reconnects)
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run", help="consume OpenStack notifications from RabbitMQ",
        description="Bind a durable queue to the service exchanges and process notifications.")
    parser.add_argument("--transport-url", required=True, type=transport_url,
                        help="oslo.messaging style URL, e.g. rabbit://user:pass@host:5672/")
    parser.add_argument("--exchanges", type=_csv, default=list(DEFAULT_EXCHANGES),
                        help="comma-separated service exchanges (default: %(default)s)")
    parser.add_argument("--topics", type=_csv, default=list(DEFAULT_TOPICS),
                        help="comma-separated notification topics, all priorities "
                             "(default: %(default)s)")
    parser.add_argument("--queue-prefix", default="dreamcatcher",
                        help="our queue is <prefix>.notifications, dead letters <prefix>.dead")
    parser.add_argument("--batch-size", type=int, default=100,
                        help="ack once per this many messages (each is processed at once)")
    parser.add_argument("--flush-interval", type=float, default=0.05,
                        help="seconds a processed message may stay unacked while messages "
                             "keep coming")
    parser.add_argument("--idle-ack", type=float, default=0.002,
                        help="ack as soon as no message came for this many seconds")
    parser.add_argument("--dead-letter-file", default=None,
                        help="write rejected messages to this JSON-lines file instead of "
                             "the <prefix>.dead queue")
    parser.add_argument("--rules", type=Path, action="append",
                        help="rule files or folders (default: the shipped rule pack)")
    parser.add_argument("--lateness", type=duration, default="5s",
                        help="out-of-order tolerance (default 5s)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--config", type=Path,
                        help="deployment config (alert sinks, remediation)")
    parser.add_argument("--print-events", action="store_true",
                        help="print normalized events instead of running the rules")
    add_state_options(parser)
    parser.set_defaults(handler=run)
