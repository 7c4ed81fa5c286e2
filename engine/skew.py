"""Whether an event is stamped too far ahead of the clock it arrives by: one pure test.

Event time moves the watermark, so one notification from a host whose clock is an
hour fast would close every open expectation at once (false absences) and leave
the watermark an hour ahead of every event after it. What the intake does with
such an event (take its arrival time, or dead-letter it) is its policy
(``dreamcatcher.clockguard``); whether it is one is decided here, without I/O.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

#: ``arrival``: processed with the reference time as its time; ``deadletter``: refused.
FuturePolicy = Literal["arrival", "deadletter"]
#: seconds: NTP keeps clocks within milliseconds; a wrong one is off by far more
DEFAULT_MAX_FUTURE = 300.0


def latest_allowed(reference: datetime, bound: timedelta) -> datetime:
    """The latest event time still taken as it is, ``bound`` after ``reference``."""
    return reference + bound


def too_far_ahead(event_time: datetime, reference: datetime | None, bound: timedelta) -> bool:
    """True when ``event_time`` is more than ``bound`` after ``reference`` (None: there is
    no reference yet, so nothing is too far ahead of it)."""
    return reference is not None and event_time > latest_allowed(reference, bound)
