"""Consume OpenStack notifications from RabbitMQ with kombu, in acknowledged batches.

Why kombu and not oslo.messaging's listener: measured here ~5x faster, and we
need batch acks (``multiple=True``) tied to the engine having stored a batch's
effects. The consumer binds its *own* durable queue to the service exchanges,
so it coexists with Ceilometer (which keeps ``notifications.info``).

Delivery contract:

- a batch is handed to ``handler`` once it is full, once the socket has
  nothing more ready, or ``flush_interval`` after its first message;
- only after ``handler`` returns is the batch acked (one ``basic_ack``,
  ``multiple=True``); if it raises, the channel is recovered so every
  unacked message is redelivered (nothing lost);
- an undecodable/unnormalizable message goes to the dead-letter queue with
  its reason (publish confirmed) and is acked with its batch;
- a redelivered message whose event a successful handler call already saw
  (acks lost in a connection drop) is skipped, so this worker hands nothing
  on twice; across workers the engine's id de-duplication covers it;
- connection loss: reconnect with capped exponential back-off; unacked
  messages come back from the broker;
- ``stop()`` (e.g. from SIGTERM): stop taking, finish the batch, ack, exit.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import kombu

from adapters.amqp.deadletter import AmqpDeadLetters
from adapters.notifications.decode import content_id, decode_body
from adapters.notifications.errors import NotificationError
from adapters.notifications.normalize import normalize
from engine.events import Event

# kombu ships without complete type hints: use it as Any in one place.
_kombu: Any = kombu
Connection = _kombu.Connection
Exchange = _kombu.Exchange
Queue = _kombu.Queue

log = logging.getLogger(__name__)

DEFAULT_EXCHANGES = ("nova", "cinder", "neutron", "glance")
DEFAULT_TOPICS = ("notifications", "versioned_notifications")

Handler = Callable[[list[Event]], None]


class DeadLetterSink(Protocol):
    def put(self, origin: str, raw: Any, reason: str) -> None: ...


@dataclass
class ConsumerStats:
    """Counters an operator (and the bench) reads."""

    received: int = 0
    events: int = 0
    ignored: int = 0
    dead_lettered: int = 0
    duplicates_skipped: int = 0
    batches: int = 0
    handler_failures: int = 0
    reconnects: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def kombu_url(transport_url: str) -> str:
    """oslo.messaging ``rabbit://u:p@h1:5672,u:p@h2:5672/vhost`` → kombu failover URLs.

    kombu knows ``amqp://`` and takes several brokers separated by ``;``.
    """
    scheme, sep, rest = transport_url.partition("://")
    if not sep:
        raise ValueError(f"not a transport URL: {transport_url!r}")
    if scheme in ("rabbit", "kombu"):
        scheme = "amqp"
    hosts, slash, vhost = rest.partition("/")
    return ";".join(f"{scheme}://{host}{slash}{vhost}" for host in hosts.split(","))


def _message_id(message: dict[str, Any]) -> str | None:
    metadata = message.get("metadata")
    found = message.get("message_id") or (
        metadata.get("message_id") if isinstance(metadata, dict) else None)
    return str(found) if found else None


class _RecentIds:
    """Bounded memory of event ids already handed on (to drop redeliveries)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, key: str) -> bool:
        return key in self._ids

    def add_all(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._ids[key] = None
        while len(self._ids) > self._size:
            self._ids.popitem(last=False)


class NotificationConsumer:
    """Bind ``<queue_prefix>.notifications`` to the exchanges, hand batches of events on."""

    def __init__(
        self,
        url: str,
        handler: Handler,
        *,
        exchanges: Sequence[str] = DEFAULT_EXCHANGES,
        topics: Sequence[str] = DEFAULT_TOPICS,
        queue_prefix: str = "dreamcatcher",
        batch_size: int = 100,
        flush_interval: float = 0.05,
        prefetch: int | None = None,
        dead_letters: DeadLetterSink | None = None,
        exchange_durable: bool = False,
        max_backoff: float = 5.0,
        remember_ids: int = 100_000,
        normalizer: Callable[[dict[str, Any], str], Event | None] | None = None,
    ) -> None:
        self.url = kombu_url(url)
        self.handler = handler
        self.exchanges = tuple(exchanges)
        self.topics = tuple(topics)
        self.queue_name = f"{queue_prefix}.notifications"
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.prefetch = prefetch or max(1000, batch_size * 4)
        self.dead_letters: DeadLetterSink = dead_letters or AmqpDeadLetters(f"{queue_prefix}.dead")
        # oslo.messaging declares exchanges with amqp_durable_queues (default False);
        # a mismatching redeclare would be refused, so we only declare missing ones.
        self.exchange_durable = exchange_durable
        self.max_backoff = max_backoff
        self.stats = ConsumerStats()
        self._normalize = normalizer or (lambda msg, fid: normalize(msg, fallback_id=fid))
        self._recent = _RecentIds(remember_ids)
        self._stopping = False
        self._pending: list[Any] = []
        self._batch_started = 0.0
        self._channel: Any = None
        self._connection: Any = None

    # -- lifecycle -------------------------------------------------------------------
    def stop(self) -> None:
        """Ask ``run()`` to finish the current batch, ack it and return (signal-safe)."""
        self._stopping = True

    def run(self) -> None:
        """Consume until ``stop()``; reconnects with back-off on connection loss."""
        backoff = 0.1
        errors: tuple[type[BaseException], ...] = (*self._connection_errors(), OSError)
        while not self._stopping:
            try:
                conn: Any = Connection(self.url, transport_options={"confirm_publish": True},
                                       heartbeat=30)
                with conn:
                    conn.connect()
                    self._connection = conn
                    self._setup(conn)
                    backoff = 0.1
                    self._consume(conn)
                    return
            except errors as exc:
                self._pending.clear()  # unacked: the broker redelivers them
                if self._stopping:
                    return
                self.stats.reconnects += 1
                log.warning("AMQP connection lost (%s); reconnecting in %.1fs", exc, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
            finally:
                self._connection = None

    def _connection_errors(self) -> tuple[type[BaseException], ...]:
        probe: Any = Connection(self.url)
        return tuple(probe.connection_errors) + tuple(probe.channel_errors)

    # -- setup -----------------------------------------------------------------------
    def _declare_exchange(self, conn: Any, name: str) -> Any:
        exchange = Exchange(name, type="topic", durable=self.exchange_durable)
        probe = conn.channel()
        try:
            exchange(probe).declare(passive=True)  # keep whatever the services declared
        except conn.channel_errors:
            exchange(conn.channel()).declare()
        finally:
            with contextlib.suppress(Exception):  # the probe channel may already be closed
                probe.close()
        return exchange

    def _setup(self, conn: Any) -> None:
        bindings = []
        for name in self.exchanges:
            exchange = self._declare_exchange(conn, name)
            bindings += [(exchange, f"{topic}.*") for topic in self.topics]
        channel = conn.channel()
        queue: Any = Queue(self.queue_name, durable=True, auto_delete=False, channel=channel)
        queue.declare()
        for exchange, key in bindings:
            queue.bind_to(exchange=exchange, routing_key=key)
        channel.basic_qos(0, self.prefetch, False)
        if isinstance(self.dead_letters, AmqpDeadLetters):
            self.dead_letters.bind(conn)
        self._channel = channel
        channel.basic_consume(self.queue_name, callback=self._on_message,
                              consumer_tag=f"dreamcatcher-{id(self)}")

    # -- loop ------------------------------------------------------------------------
    def _on_message(self, message: Any) -> None:
        if not self._pending:
            self._batch_started = time.monotonic()
        self._pending.append(message)

    def _consume(self, conn: Any) -> None:
        while not self._stopping:
            conn.heartbeat_check()
            try:
                conn.drain_events(timeout=min(self.flush_interval, 0.25) or 0.05)
                idle = False
            except TimeoutError:
                idle = True
            # take whatever is already on the socket without waiting
            while not idle and len(self._pending) < self.batch_size:
                try:
                    conn.drain_events(timeout=0)
                except TimeoutError:
                    idle = True
            if self._pending and (
                idle or len(self._pending) >= self.batch_size
                or time.monotonic() - self._batch_started >= self.flush_interval
            ):
                self._flush()
        # stopping: no new deliveries, finish what we hold, ack, leave
        with contextlib.suppress(Exception):  # best effort: closing requeues anyway
            self._channel.basic_cancel(f"dreamcatcher-{id(self)}")
        if self._pending:
            self._flush()

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        events: list[Event] = []
        for message in batch:
            self.stats.received += 1
            body = message.body
            try:
                decoded = decode_body(body)
                event = self._normalize(decoded, _message_id(decoded) or content_id(decoded))
            except NotificationError as exc:
                self._dead_letter(message, exc.reason)
                continue
            except Exception as exc:  # a poison message must not kill the worker
                self._dead_letter(message, f"unexpected {type(exc).__name__}: {exc}")
                continue
            if event is None:
                self.stats.ignored += 1
                continue
            if message.delivery_info.get("redelivered") and event.id in self._recent:
                self.stats.duplicates_skipped += 1
                continue
            events.append(event)
        if events:
            try:
                self.handler(events)
            except Exception:
                self.stats.handler_failures += 1
                log.exception("handler failed; %d messages go back to the queue", len(batch))
                self._channel.basic_recover(requeue=True)
                time.sleep(0.1)
                return
            self._recent.add_all(e.id for e in events)
        self._channel.basic_ack(batch[-1].delivery_tag, multiple=True)
        self.stats.events += len(events)
        self.stats.batches += 1

    def _dead_letter(self, message: Any, reason: str) -> None:
        info = message.delivery_info
        origin = f"amqp:{info.get('exchange', '')}/{info.get('routing_key', '')}"
        self.dead_letters.put(origin, message.body, reason)
        self.stats.dead_lettered += 1
        self.stats.reasons[reason[:80]] = self.stats.reasons.get(reason[:80], 0) + 1
