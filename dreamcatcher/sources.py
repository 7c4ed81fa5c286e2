"""The live worker's sources, each on its own thread, each feeding the one ``Intake``.

What every source owes the worker: ``start()``, ``stop()`` (stop taking input,
hand on what is in hand), ``join()``, ``finished()`` (a pipe at its end),
``threads()`` (for ``/healthz``) and ``caught_up()``: whether it has no backlog,
so the wall clock may move event time. A pull source knows (the queue went
idle, the follower reached the end of its file); a push source (syslog, stdin)
counts as caught up once nothing has arrived for ``idle`` seconds, so a sender
flushing a queue it kept during an outage holds the clock too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from adapters.amqp.queues import QueueMismatch
from adapters.deadletter import DeadLetters
from adapters.logs import FileFollower, ListenError, OffsetStore, SyslogServer, UnparsedStats
from adapters.logs.base import MAX_LINE
from adapters.logs.oslo import format_from_config
from adapters.logs.pipeline import parse_lines
from dreamcatcher.errors import RuntimeFailure
from dreamcatcher.intake import BatchFailed, Intake
from dreamcatcher.sourceconfig import (
    AmqpSource,
    FileSource,
    HostFactsSource,
    SourcesConfig,
    StdinSource,
    SyslogSource,
)
from engine.events import Event

log = logging.getLogger(__name__)

class Source(Protocol):
    name: str

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def join(self, timeout: float) -> None: ...
    def caught_up(self) -> bool: ...
    def finished(self) -> bool: ...
    def threads(self) -> list[threading.Thread]: ...
    def failed(self) -> str | None: ...


class _Arrivals:
    """Caught up = nothing arrived for ``idle`` seconds (push sources)."""

    def __init__(self, idle: float) -> None:
        self.idle = idle
        self.last = 0.0

    def seen(self) -> None:
        self.last = time.monotonic()

    def quiet(self) -> bool:
        return time.monotonic() - self.last >= self.idle


class _ThreadedSource:
    """A source that runs on a thread of its own: the lifecycle all of them share."""

    name: str
    _thread: threading.Thread

    def threads(self) -> list[threading.Thread]:
        return [self._thread] if self._thread.ident is not None else []

    def finished(self) -> bool:
        return False  # runs until stopped

    def failed(self) -> str | None:
        return None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        raise NotImplementedError

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class _PollingSource(_ThreadedSource):
    """Polls something (a file) until stopped; caught up once a poll has read to its end."""

    poll_interval: float

    def __init__(self) -> None:
        self._polled = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def poll(self) -> bool:
        """Read what is new; True when it read to the end."""
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.poll():
                self._polled = True
            self._stop.wait(self.poll_interval)
        self.close()

    def close(self) -> None:
        return None

    def caught_up(self) -> bool:
        return self._polled

    def stop(self) -> None:
        self._stop.set()


class AmqpIntake(_ThreadedSource):
    """The notification consumer; its acks wait for the engine (``barrier``)."""

    def __init__(self, conf: AmqpSource, intake: Intake, name: str = "amqp",
                 wanted: frozenset[str] | None = None) -> None:
        from adapters.amqp.consumer import NotificationConsumer
        from adapters.notifications import normalizer


        self.name = name
        self.state = intake.register(name, "amqp", self.caught_up)
        put, state = intake.put, self.state

        def handle(events: list[Event]) -> None:
            put(state, events)

        dead: Any = (DeadLetters(Path(conf.dead_letters)) if conf.dead_letters != "queue"
                     else None)
        self.consumer = NotificationConsumer(
            conf.transport_url.reveal(), handle, exchanges=conf.exchanges, topics=conf.topics,
            queue_prefix=conf.queue_prefix, batch_size=conf.batch_size,
            flush_interval=conf.flush_interval, idle_ack=conf.idle_ack, dead_letters=dead,
            barrier=lambda: intake.barrier(state, timeout=600.0),
            queues=conf.queues, own_queue=conf.own_queue, queue_type=conf.queue_type,
            message_ttl=conf.message_ttl, max_length=conf.max_length, overflow=conf.overflow,
            single_active_consumer=conf.single_active_consumer,
            exchange_durable=conf.exchange_durable, normalizer=normalizer(wanted),
        )
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            self.consumer.run()
        except QueueMismatch as exc:  # a config error: retrying cannot help
            self.error = str(exc)

    def caught_up(self) -> bool:
        return bool(self.consumer.caught_up)

    def connected(self) -> bool:
        return self.consumer.connected

    def failed(self) -> str | None:
        return self.error

    def stop(self) -> None:
        self.consumer.stop()


class SyslogIntake:
    """One UDP/TCP listener; every parsed line is handed on as it comes."""

    def __init__(self, conf: SyslogSource, intake: Intake, *, routes: Mapping[str, str],
                 stats: UnparsedStats, dead: DeadLetters, idle: float, name: str,
                 max_line: int = MAX_LINE) -> None:
        self.name = name
        self.arrivals = _Arrivals(idle)
        self.state = intake.register(name, "syslog", self.caught_up)
        put, state, seen = intake.put, self.state, self.arrivals.seen

        def handle(events: list[Event]) -> None:
            seen()
            put(state, events)

        try:
            self.server = SyslogServer(lambda event: handle([event]), batch=handle,
                                       host=conf.bind, port=conf.port,
                                       udp="udp" in conf.protocols, tcp="tcp" in conf.protocols,
                                       routes=routes or None, senders=conf.senders, stats=stats,
                                       dead_letters=dead, max_message=max_line,
                                       max_connections=conf.max_connections)
        except ListenError as exc:
            raise RuntimeFailure("syslog", str(exc)) from None
        except OSError as exc:
            raise RuntimeFailure("syslog", f"cannot listen on {conf.bind}:{conf.port}: {exc}") \
                from None

    def caught_up(self) -> bool:
        return self.arrivals.quiet()

    def threads(self) -> list[threading.Thread]:
        return []  # the server's own threads restart nothing; a dead one shows as silence

    def finished(self) -> bool:
        return False  # runs until stopped

    def failed(self) -> str | None:
        return None

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def join(self, timeout: float) -> None:
        return None


class FileIntake(_PollingSource):
    """A followed file; each poll's lines are one batch, and the follower commits its
    offset only once the engine has processed that batch (a crash repeats, never skips)."""

    def __init__(self, conf: FileSource, intake: Intake, *, offsets: OffsetStore,
                 routes: Mapping[str, str], stats: UnparsedStats, dead: DeadLetters,
                 poll_interval: float, max_line: int = MAX_LINE) -> None:
        self.name = f"file:{conf.path}"
        self.poll_interval = poll_interval
        self.state = intake.register(self.name, "file", self.caught_up)
        state = self.state

        def deliver(events: list[Event]) -> None:
            intake.put(state, events)
            intake.barrier(state)

        log_format = format_from_config(conf.format) if conf.format is not None else None

        def make() -> FileFollower:
            return FileFollower(conf.path, kind=conf.kind, offsets=offsets, stats=stats,
                                dead_letters=dead, routes=routes or None, host=conf.host,
                                poll_interval=poll_interval, start_at_end=conf.start_at_end,
                                log_format=log_format, deliver=deliver, max_line=max_line)

        self._reopen = make  # after a failed batch: resume from the committed offset
        self.follower = make()
        super().__init__()

    def poll(self) -> bool:
        try:
            self.follower.poll()
        except BatchFailed as exc:  # offset not committed: the lines are read again
            log.warning("%s; retrying", exc)
            self.follower.close()
            self.follower = self._reopen()
            self._stop.wait(1.0)
            return False
        return True

    def close(self) -> None:
        self.follower.close()


class HostFactsIntake(_PollingSource):
    """Host network facts re-read whenever their file changes (an agent rewrites it)."""

    def __init__(self, conf: HostFactsSource, intake: Intake, *, poll_interval: float) -> None:
        from adapters.hostfacts import HostFactsWatcher

        self.name = f"hostfacts:{conf.path}"
        self.poll_interval = poll_interval
        self.state = intake.register(self.name, "hostfacts", self.caught_up)
        state = self.state

        def handle(event: Event) -> None:
            intake.put(state, [event])

        self.watcher = HostFactsWatcher(conf.path, handle, host=conf.host,
                                        poll_interval=poll_interval)
        super().__init__()

    def poll(self) -> bool:
        self.watcher.poll()
        return True


class StdinIntake:
    """Lines from standard input (a pipe), parsed as they arrive; the source ends at EOF."""

    def __init__(self, conf: StdinSource, intake: Intake, *, routes: Mapping[str, str],
                 stats: UnparsedStats, dead: DeadLetters, idle: float,
                 max_line: int = MAX_LINE) -> None:
        self.name = "stdin"
        self.arrivals = _Arrivals(idle)
        self.state = intake.register(self.name, "stdin", self.caught_up)
        self.ended = threading.Event()
        self._conf, self._intake, self._routes = conf, intake, routes
        self._stats, self._dead, self._max_line = stats, dead, max_line
        self._thread = threading.Thread(target=self._run, name="stdin", daemon=True)

    def _run(self) -> None:
        import sys

        try:
            for event in parse_lines(sys.stdin, "stdin", self._conf.kind, stats=self._stats,
                                     dead_letters=self._dead, routes=self._routes or None,
                                     max_line=self._max_line):
                self.arrivals.seen()
                self._intake.put(self.state, [event])
        finally:
            self.ended.set()

    def caught_up(self) -> bool:
        return self.ended.is_set() or self.arrivals.quiet()

    def threads(self) -> list[threading.Thread]:
        return []  # ends by itself at EOF

    def finished(self) -> bool:
        return self.ended.is_set()  # a pipe ends

    def failed(self) -> str | None:
        return None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        return None  # a blocked read cannot be interrupted; the thread is a daemon

    def join(self, timeout: float) -> None:
        return None


def build_sources(conf: SourcesConfig, intake: Intake, *, dead: DeadLetters,
                  stats: UnparsedStats, idle: float,
                  wanted: frozenset[str] | None = None) -> list[Source]:
    """Every configured source, registered with ``intake`` (none started yet).

    ``wanted``: the event fields the loaded rules read (``engine.reads.fields_read``), all that
    notifications are mapped to; None maps every field."""
    routes = conf.routes
    sources: list[Source] = []
    if conf.amqp is not None:
        sources.append(AmqpIntake(conf.amqp, intake, wanted=wanted))
    for number, syslog in enumerate(conf.syslog, 1):
        sources.append(SyslogIntake(syslog, intake, routes=routes, stats=stats, dead=dead,
                                    idle=idle, name=f"syslog:{number}", max_line=conf.max_line))
    if conf.files:
        offsets = OffsetStore(conf.offsets)
        for entry in conf.files:
            sources.append(FileIntake(entry, intake, offsets=offsets, routes=routes,
                                      stats=stats, dead=dead,
                                      poll_interval=conf.poll_interval, max_line=conf.max_line))
    for facts in conf.hostfacts:
        sources.append(HostFactsIntake(facts, intake, poll_interval=conf.poll_interval))
    if conf.stdin is not None:
        sources.append(StdinIntake(conf.stdin, intake, routes=routes, stats=stats, dead=dead,
                                   idle=idle, max_line=conf.max_line))
    return sources
