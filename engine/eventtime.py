"""The range an event time may be in: outside it, the event is refused with a reason.

A ``9999-12-31`` stamp parses, and then every deadline computed from it (``then``
+ ``within``) is past ``datetime.max``: ``fromtimestamp`` raised in the middle of
a replay. A stamp from before 1970 or after 2200 is no clock a cloud runs on
(a host's wrong clock is off by hours, not centuries: ``engine.skew`` bounds
that), so the one way to build an Event (``engine.events``) refuses it, and each
intake turns the refusal into a dead letter.
"""

from __future__ import annotations

from datetime import UTC, datetime

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
#: Leaves centuries of room for deadlines and windows computed from an event time.
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class EventTimeError(ValueError):
    """An event time outside ``EARLIEST``..``LATEST``; ``reason`` is fit for a dead letter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def outside(time: datetime) -> EventTimeError:
    """The error for ``time`` (which may not even convert to UTC: year 9999 at -05:00)."""
    return EventTimeError(f"event time {time.isoformat()} is outside "
                          f"{EARLIEST.year}..{LATEST.year - 1}")


def check_event_time(time: datetime) -> datetime:
    """``time`` (UTC) if within the range, else ``EventTimeError`` saying why."""
    if EARLIEST <= time < LATEST:
        return time
    raise outside(time)
