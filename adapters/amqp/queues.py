"""Declaring queues: the operator's queue options, and a clear error when they clash.

RabbitMQ cannot change a queue's arguments in place: redeclaring an existing
queue with other arguments closes the channel with ``PRECONDITION_FAILED``,
and naming only the first difference. Retrying would loop forever, so the
clash becomes one :class:`QueueMismatch` that lists *every* differing
argument (found by re-declaring with the queue's own value until the broker
agrees) and says how to resolve it.

Overflow: ``drop-head`` is the default. oslo.messaging notifiers publish
without publisher confirms, so with ``reject-publish`` the broker's refusal
reaches nobody: a full queue would silently lose the *newest* notifications
and keep the stalest. ``drop-head`` keeps the most recent ``max_length``
messages, which describe the cloud as it is now; what it drops is the oldest.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any

import amqp.exceptions

OVERFLOW_POLICIES = ("drop-head", "reject-publish")
QUEUE_TYPES = ("classic", "quorum")

#: ``... inequivalent arg 'x-max-length' for queue 'q' in vhost '/': received none
#: but current is the value '50' of type 'signedint'`` (RabbitMQ 3.x wording)
_MISMATCH = re.compile(
    r"inequivalent arg '(?P<arg>[^']+)' for queue '(?P<queue>[^']*)' in vhost "
    r"'(?P<vhost>[^']*)': received (?P<received>.+?) but current is (?P<current>.+)$")
_TYPED = re.compile(r"^the value '(?P<value>.*)' of type '(?P<type>[^']+)'$")
_INT_TYPES = frozenset({"signedint", "long", "short", "byte", "unsignedint", "unsignedshort",
                        "unsignedbyte", "signedshort", "timestamp"})
_NOT_SET = object()
_MAX_PROBES = 20


@dataclass(frozen=True)
class QueueOptions:
    """What an operator sets on the worker's own queue (``None``: not set)."""

    message_ttl: float | None = None  # seconds a message may wait before RabbitMQ drops it
    max_length: int | None = None  # messages; beyond it ``overflow`` applies
    overflow: str = "drop-head"
    queue_type: str = "classic"
    single_active_consumer: bool = False

    def __post_init__(self) -> None:
        if self.overflow not in OVERFLOW_POLICIES:
            raise ValueError(f"overflow must be one of {', '.join(OVERFLOW_POLICIES)}, "
                             f"not {self.overflow!r}")
        if self.queue_type not in QUEUE_TYPES:
            raise ValueError(f"queue_type must be one of {', '.join(QUEUE_TYPES)}, "
                             f"not {self.queue_type!r}")
        if self.message_ttl is not None and self.message_ttl <= 0:
            raise ValueError(f"message_ttl must be positive seconds, not {self.message_ttl!r}")
        if self.max_length is not None and self.max_length < 1:
            raise ValueError(f"max_length must be at least 1, not {self.max_length!r}")

    def arguments(self) -> dict[str, Any]:
        """The ``x-`` arguments of the queue declare (only what is set: an unset option
        declares exactly as earlier versions did, so existing queues stay compatible)."""
        args: dict[str, Any] = {}
        if self.message_ttl is not None:
            args["x-message-ttl"] = max(1, round(self.message_ttl * 1000))
        if self.max_length is not None:
            args["x-max-length"] = self.max_length
            args["x-overflow"] = self.overflow
        if self.queue_type == "quorum":
            args["x-queue-type"] = "quorum"
        if self.single_active_consumer:
            args["x-single-active-consumer"] = True
        return args


@dataclass(frozen=True)
class Mismatch:
    argument: str
    wanted: str  # as this worker declares it
    current: str  # as the existing queue has it


class QueueMismatch(Exception):
    """The queue exists with other arguments than configured: a configuration error."""

    def __init__(self, queue: str, vhost: str, mismatches: list[Mismatch]) -> None:
        self.queue, self.vhost, self.mismatches = queue, vhost, mismatches
        diffs = "; ".join(f"{m.argument}: configured {m.wanted}, queue has {m.current}"
                          for m in mismatches)
        super().__init__(
            f"queue {queue!r} (vhost {vhost!r}) already exists with other arguments ({diffs}). "
            "RabbitMQ cannot change them in place: set the options back, or delete the queue "
            f"(rabbitmqctl delete_queue {queue}; its waiting messages are lost) and restart, "
            "or set limits through a RabbitMQ policy instead")


def _shown(value: Any) -> str:
    return "not set" if value is _NOT_SET else repr(value)


def _parse_value(text: str, sent: Any) -> Any:
    """The broker's rendering of a value, back to what declares it (``_NOT_SET``: none).

    It reads ``the value '50' of type 'signedint'`` when only one side has the
    argument, and a bare ``'50'`` when both have it (then of the type we sent).
    """
    if text == "none":
        return _NOT_SET
    typed = _TYPED.match(text)
    if typed is None:
        if not (len(text) >= 2 and text[0] == text[-1] == "'"):
            raise ValueError(text)
        bare = text[1:-1]
        if isinstance(sent, bool):
            return bare == "true"
        if isinstance(sent, int):
            return int(bare)
        if isinstance(sent, float):
            return float(bare)
        return bare
    value, kind = typed["value"], typed["type"]
    if kind in _INT_TYPES:
        return int(value)
    if kind == "bool":
        return value == "true"
    if kind in ("float", "double"):
        return float(value)
    return value


def declare_queue(conn: Any, name: str, *, durable: bool, arguments: dict[str, Any]) -> int:
    """Declare ``name`` (non-exclusive, not auto-deleted); the number of messages ready in it.

    Raises :class:`QueueMismatch` if it exists with other arguments.
    """
    channel = conn.channel()
    try:
        ok = channel.queue_declare(name, durable=durable, auto_delete=False,
                                   arguments=arguments or None)
    except amqp.exceptions.PreconditionFailed as exc:
        raise _diagnose(conn, name, durable, arguments, str(exc)) from None
    finally:
        with contextlib.suppress(Exception):  # closed already after an error
            channel.close()
    return int(ok.message_count)


def passive_count(conn: Any, name: str) -> int | None:
    """Messages ready in ``name``, or ``None`` when it does not exist (yet)."""
    channel = conn.channel()
    try:
        return int(channel.queue_declare(name, passive=True).message_count)
    except amqp.exceptions.NotFound:
        return None
    finally:
        with contextlib.suppress(Exception):
            channel.close()


def _diagnose(conn: Any, name: str, durable: bool, arguments: dict[str, Any],
              first_error: str) -> QueueMismatch:
    """Every differing argument: adopt the queue's value for each one the broker names."""
    probe: dict[str, Any] = {"durable": durable, **arguments}
    mismatches: list[Mismatch] = []
    error: str | None = first_error
    vhost = ""
    for _ in range(_MAX_PROBES):
        if error is None:
            break
        found = _MISMATCH.search(error)
        if found is None:
            mismatches.append(Mismatch("?", "(see broker)", error))
            break
        argument, vhost = found["arg"], found["vhost"]
        if any(m.argument == argument for m in mismatches):
            break  # adopting its value did not help: report what we have
        try:
            current = _parse_value(found["current"], probe.get(argument))
        except ValueError:
            mismatches.append(Mismatch(argument, _shown(probe.get(argument, _NOT_SET)),
                                       found["current"]))
            break
        mismatches.append(Mismatch(argument, _shown(probe.get(argument, _NOT_SET)),
                                   _shown(current)))
        if current is _NOT_SET:
            probe.pop(argument, None)
        else:
            probe[argument] = current
        error = _try_declare(conn, name, probe)
    return QueueMismatch(name, vhost, mismatches)


def _try_declare(conn: Any, name: str, probe: dict[str, Any]) -> str | None:
    args = dict(probe)
    durable = bool(args.pop("durable", False))
    auto_delete = bool(args.pop("auto_delete", False))
    channel = conn.channel()
    try:
        channel.queue_declare(name, durable=durable, auto_delete=auto_delete,
                              arguments=args or None)
    except amqp.exceptions.PreconditionFailed as exc:
        return str(exc)
    finally:
        with contextlib.suppress(Exception):
            channel.close()
    return None
