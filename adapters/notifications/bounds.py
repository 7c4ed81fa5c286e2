"""How big and how deep a notification may be, checked before anything recursive sees it.

Everything after decoding recurses over the message: the snapshot an open
expectation keeps (``orjson.dumps``, limit 254 levels), ``model_dump`` of the
evidence in the outbox, pydantic, the templates. A 3.5 KB body nesting 300 deep
passes ``orjson.loads`` (limit 1024) and then crashes one of those: the batch
fails, the broker redelivers and the dedup mark set on the first try drops it.
So ``decode_body`` refuses such a body with a reason (a dead letter) at once.

Cost: the size is a ``len``. The depth of a body is at most its count of ``{``
and ``[`` (two C scans, about 0.3 ns a byte); only a body with more openers than
``MAX_DEPTH`` is walked, without recursion, to find its depth. Of a 2.0 envelope
only the inner message is counted: the outer object is dropped once unwrapped.
"""

from __future__ import annotations

from typing import Any

from adapters.notifications.errors import DecodeError

#: Bytes of one body. The largest of nova's (a service catalog in the context) are tens
#: of KB; RabbitMQ itself would take 128 MB.
MAX_BYTES = 1024 * 1024
#: Levels of objects and arrays. The corpus's deepest (nova versioned, objects in
#: objects) has 11; what we wrap a message in (evidence, outbox record) adds about 6.
MAX_DEPTH = 32


def check_size(text: bytes | str, max_bytes: int = MAX_BYTES) -> None:
    """Raise ``DecodeError`` if ``text`` is over the size bound (before it is parsed)."""
    if len(text) > max_bytes:
        raise DecodeError(f"body of {len(text)} bytes is over the {max_bytes}-byte bound")


def check_parsed(text: bytes | str, value: Any, max_depth: int = MAX_DEPTH) -> None:
    """``check_depth`` of ``value``, parsed from ``text``, walked only when ``text`` has
    more openers than ``max_depth`` (fewer cannot nest deeper)."""
    if isinstance(text, bytes):
        openers = text.count(b"{") + text.count(b"[")
    else:
        openers = text.count("{") + text.count("[")
    if openers > max_depth:
        check_depth(value, max_depth)


#: The integers JSON can carry on (orjson writes from -2^63 to 2^64 - 1; from the wire
#: it reads a larger one as a float, but a decoded dict handed in may hold any).
_INT_RANGE = range(-(2**63), 2**64)


def check_depth(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Raise ``DecodeError`` if ``value`` nests objects/arrays deeper than ``max_depth``
    or holds an integer JSON cannot be written with (``_INT_RANGE``).

    Iterative (a recursive walk is what the bound protects against) and it stops at the
    first container past the bound.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        container, level = pop()
        items = container.values() if container.__class__ is dict else container
        for item in items:
            kind = item.__class__
            if kind is dict or kind is list:
                if level >= max_depth:
                    raise DecodeError(f"nested deeper than {max_depth} levels")
                push((item, level + 1))
            elif kind is int and item not in _INT_RANGE:
                raise DecodeError(
                    f"an integer of {item.bit_length()} bits is out of the 64-bit range")
