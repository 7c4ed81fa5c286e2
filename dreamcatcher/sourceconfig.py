"""The deployment's ``sources``, ``clock`` and ``outbox`` sections: what the live worker reads.

Every source feeds the same engine, so a switch's syslog line joins the port
facts that neutron's notifications put into the inventory, as in replay.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from adapters.amqp.consumer import DEFAULT_EXCHANGES, DEFAULT_TOPICS
from adapters.logs.base import MAX_LINE
from adapters.logs.oslo import format_from_config
from adapters.logs.syslog import MAX_CONNECTIONS
from adapters.secrets import Secret, SecretValue
from dreamcatcher.errors import redact_url
from engine.schema import Duration
from engine.skew import DEFAULT_MAX_FUTURE, FuturePolicy

#: What kombu reaches RabbitMQ with (``rabbit``/``kombu`` are oslo.messaging's names).
TRANSPORTS = ("rabbit", "kombu", "amqp", "amqps", "pyamqp")


def not_a_rabbit_url(url: str) -> str | None:
    """Why ``url`` cannot be the bus's URL (its password hidden), or None when it can:
    refused when read, since kombu would otherwise fail on it deep in the consumer."""
    scheme, sep, _ = url.partition("://")
    if sep and scheme in TRANSPORTS:
        return None
    return f"{redact_url(url)} is not a RabbitMQ URL (rabbit://user:pass@host:5672/)"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AmqpSource(_Section):
    """The notification bus: our own durable queue bound to the services' exchanges,
    plus any queues the services declare themselves (an extra notification topic)."""

    transport_url: Secret

    @field_validator("transport_url")
    @classmethod
    def _rabbit(cls, url: SecretValue) -> SecretValue:
        problem = not_a_rabbit_url(url.reveal())
        if problem is not None:
            raise ValueError(problem)
        return url
    exchanges: list[str] = Field(default_factory=lambda: list(DEFAULT_EXCHANGES))
    topics: list[str] = Field(default_factory=lambda: list(DEFAULT_TOPICS))
    #: queues the services declare themselves (an extra topic in their
    #: ``[oslo_messaging_notifications] topics``, e.g. ``dreamcatcher.info``): they keep
    #: the messages while the worker is down and across a broker restart
    queues: list[str] = Field(default_factory=list)
    #: also bind and consume our own ``<prefix>.notifications`` queue (off when the
    #: publisher-declared queues carry everything: else each message comes twice)
    own_queue: bool = True
    queue_prefix: str = "dreamcatcher"
    queue_type: Literal["classic", "quorum"] = "classic"
    message_ttl: Duration | None = None
    max_length: int | None = Field(default=None, ge=1)
    #: what a full queue does: drop its oldest message (notifiers publish without
    #: confirms, so ``reject-publish`` would drop the newest, silently)
    overflow: Literal["drop-head", "reject-publish"] = "drop-head"
    single_active_consumer: bool = False
    #: must match the services' ``amqp_durable_queues`` (exchanges we declare if missing)
    exchange_durable: bool = False
    batch_size: int = Field(default=100, ge=1)
    flush_interval: Duration = 0.05
    idle_ack: Duration = 0.002
    #: rejected messages: ``queue`` (``<prefix>.dead``) or a JSON-lines file
    dead_letters: Literal["queue"] | Path = "queue"


class SyslogSource(_Section):
    """One listener; each sender is a stream routed by program name, or by ``senders``."""

    bind: str = "127.0.0.1"
    port: int = Field(default=5514, ge=0, le=65535)
    protocols: list[Literal["udp", "tcp"]] = ["udp", "tcp"]
    senders: dict[str, str] = Field(default_factory=dict)
    #: TCP connections served at once; one more is refused, counted (docs/limits.md)
    max_connections: int = Field(default=MAX_CONNECTIONS, ge=1)


class FileSource(_Section):
    """A followed log file; ``host`` names the host its lines come from when they do
    not say (a service's own log file has no host in its lines)."""

    path: Path
    kind: str | None = None
    host: str | None = None
    #: the oslo.log layout of the lines: a known name (``oslo``, ``oslo-pre-pike``,
    #: ``devstack``, ``json``...), a ``logging_context_format_string``, or a mapping of
    #: the site's ``logging_*`` options (docs/logs.md); none: the known ones are tried
    format: str | dict[str, str] | None = None
    start_at_end: bool = False

    @field_validator("format")
    @classmethod
    def _known_format(cls, spec: str | dict[str, str] | None) -> str | dict[str, str] | None:
        if spec is not None:
            format_from_config(spec)  # refused now, with its line, not at the first line read
        return spec


class HostFactsSource(_Section):
    """A host's network facts: a file holding what ``ip -details -json link`` printed
    (``host`` names the host), or a JSON-lines recording of snapshots from many hosts
    (``{"host", "time", "ip_link": [...]}`` per line); re-read when it changes."""

    path: Path
    host: str | None = None


class StdinSource(_Section):
    kind: str | None = None


class SourcesConfig(_Section):
    amqp: AmqpSource | None = None
    syslog: list[SyslogSource] = Field(default_factory=list)
    files: list[FileSource] = Field(default_factory=list)
    hostfacts: list[HostFactsSource] = Field(default_factory=list)
    stdin: StdinSource | None = None
    #: glob on a file path or program name -> parser kind, consulted before the built-in names
    routes: dict[str, str] = Field(default_factory=dict)
    #: where followed files' committed offsets are kept (none: start each run anew)
    offsets: Path | None = None
    #: the longest wait between polls of a followed file
    poll_interval: Duration = 0.2
    #: a longer log line is cut to this many characters, counted; a syslog TCP octet
    #: count over it closes the connection (docs/limits.md)
    max_line: int = Field(default=MAX_LINE, ge=1024)

    def empty(self) -> bool:
        return (self.amqp is None and not self.syslog and not self.files
                and not self.hostfacts and self.stdin is None)


class ClockConfig(_Section):
    """``wall``: when every source is caught up, event time follows the wall clock (an
    absence fires with no further event); ``event``: time moves only with events, so a
    replay through the live path gives the same alerts however fast it runs."""

    mode: Literal["wall", "event"] = "wall"
    lateness: Duration = 5.0
    #: how often the wall clock is read (and the sources' backlog looked at)
    tick: Duration = 1.0
    #: an event stamped further ahead (of the wall clock, or with ``mode: event`` of its
    #: source's newest event) does not move the watermark: ``future_policy`` decides
    max_future: Duration = DEFAULT_MAX_FUTURE
    #: ``arrival``: processed at its arrival time; ``deadletter``: refused with the reason
    future_policy: FuturePolicy = "arrival"


class OutboxConfig(_Section):
    """Firings are journalled here before their input is acknowledged, and delivered
    from it after a crash, once. ``fsync``: also survive a power loss (slower)."""

    path: Path | None = None
    fsync: bool = False

    @model_validator(mode="before")
    @classmethod
    def _a_path_alone(cls, value: Any) -> Any:
        """``outbox: PATH`` is short for ``outbox: {path: PATH}``."""
        return {"path": value} if isinstance(value, str) else value
