"""What a parser raises for a line of a shape it knows whose values cannot be right.

The pipeline turns it into a dead letter whose reason is ``<reason>: <detail>``
(``bad timestamp: Feb 29 in 2025, not a leap year``): the line is kept, the stream
goes on, and ``/metrics`` counts it by ``reason``. Any other exception from a parser
is a bug; it is dead-lettered too, as ``<kind> parser failed: <error>``.
"""

from __future__ import annotations


class BadLine(ValueError):
    """A known line with an impossible value (a number that is none, a date that is not)."""

    reason = "bad field"


class BadTime(BadLine):
    """A timestamp that names no instant: no such month, day, hour or year."""

    reason = "bad timestamp"


def as_int(text: str, field: str) -> int:
    """``int(text)``, or ``BadLine`` naming the field (``+-`` or 5,000 digits are no count)."""
    try:
        return int(text)
    except ValueError:
        raise BadLine(f"{field} {text[:40]!r} is not a whole number") from None

