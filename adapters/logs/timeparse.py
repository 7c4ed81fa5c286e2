"""Timestamp helpers tuned for log volume: caching per second, no strptime.

Every log format here has its own clock layout; parsing the second-resolution
part once per distinct second (an ISO stamp: once per minute, plus the seconds)
and adding the fraction keeps this off the profile. Times without a zone are
taken as UTC.

Times without a year (RFC 3164 has none) take the year of the stream's clock: the
time of its recent lines (a live stream: the arrival time). The rollover is the
line's distance from that clock: a line is placed in the twelve months that end one
month after the clock's, since logs are read after they are written (``Dec 31
23:59:59`` seen on Jan 1 is in December of the year before; a file's ``Jan 1`` after
its ``Dec 31`` lines is next year's; ``Mar 5`` read in January is last March). A
stream whose clock is not known yet (a file read with a year hint) takes the hint
as is. ``Feb 29`` is only
read in a leap year: under another it is a dead letter, never moved to a year it
was not written in. Every stamp that names no instant raises ``BadTime``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from adapters.logs.errors import BadTime

MONTHS: dict[str, int] = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}

_CACHE_MAX = 4096
#: Per distinct second, the whole-second datetime; a stamp with a fraction adds it.
_iso_cache: dict[str, datetime] = {}
#: Per distinct minute (``YYYY-MM-DD HH:MM``): a second not seen yet is that minute plus
#: a cached delta, not a datetime built from six parsed fields. A log writing a few
#: lines a second meets a new second on every other line.
_minute_cache: dict[str, datetime] = {}
_SECONDS: tuple[timedelta, ...] = tuple(timedelta(seconds=s) for s in range(60))
_bsd_cache: dict[tuple[int, str, str, str], datetime] = {}
#: Microseconds per unit of a fraction with 0..6 digits ("5" -> 100000 per unit).
_FRAC_SCALE: tuple[int, ...] = (0, 100_000, 10_000, 1_000, 100, 10, 1)
#: Fractions of up to three digits (oslo.log, RabbitMQ and IOS write milliseconds) as
#: the timedelta to add to the cached second: one addition instead of a datetime built
#: from eight fields. At most 1,110 keys, so it is never cleared.
_ms_deltas: dict[str, timedelta] = {}


def _frac_us(frac: str | None) -> int:
    if not frac:
        return 0
    n = len(frac)
    return int(frac) * _FRAC_SCALE[n] if n <= 6 else int(frac[:6])


def _ms_delta(frac: str) -> timedelta:
    delta = _ms_deltas.get(frac)
    if delta is None:
        delta = _ms_deltas[frac] = timedelta(microseconds=_frac_us(frac))
    return delta


def _remember(cache: dict[str, datetime], key: str, value: datetime) -> None:
    if len(cache) >= _CACHE_MAX:
        cache.clear()
    cache[key] = value


def _iso_second(stamp: str) -> datetime:
    """The whole second of ``stamp``, which the per-second cache does not hold yet.

    Errors are the ones ``datetime(y, mo, d, h, mi, s)`` raises: the minute's fields
    are checked first, a second outside 0..59 by ``replace``.
    """
    dt = _iso_cache.get(stamp)
    if dt is not None:
        return dt
    try:
        minute = _minute_cache.get(stamp[:16])
        if minute is None:
            minute = datetime(int(stamp[0:4]), int(stamp[5:7]), int(stamp[8:10]),
                              int(stamp[11:13]), int(stamp[14:16]), tzinfo=UTC)
            _remember(_minute_cache, stamp[:16], minute)
        s = int(stamp[17:19])
        dt = minute + _SECONDS[s] if 0 <= s <= 59 else minute.replace(second=s)
    except ValueError as exc:
        raise BadTime(str(exc)) from None  # datetime's own words (the line is kept)
    _remember(_iso_cache, stamp, dt)
    return dt


def iso_seconds(stamp: str) -> datetime:
    """``YYYY-MM-DD HH:MM:SS`` (or ``T`` separator), cached per distinct second."""
    return _iso_second(stamp)


def iso_time(stamp: str, frac: str | None = None, zone: str | None = None) -> datetime:
    """An ISO-like stamp split as seconds part, fraction digits and zone text."""
    dt = _iso_cache.get(stamp) or _iso_second(stamp)
    if frac:
        if len(frac) <= 3:
            dt = dt + (_ms_deltas.get(frac) or _ms_delta(frac))
        else:
            dt = dt + timedelta(0, 0, _frac_us(frac))
    if zone and zone not in ("Z", "+00:00", "+0000", "z"):
        dt = in_utc(dt, zone)
    return dt


def in_utc(dt: datetime, zone: str) -> datetime:
    """``dt`` read in ``zone`` and moved to UTC (``BadTime`` off the calendar's ends)."""
    try:
        return dt.replace(tzinfo=parse_zone(zone)).astimezone(UTC)
    except OverflowError as exc:
        raise BadTime(f"{dt.replace(tzinfo=None)} {zone[:20]}: {exc}") from None


def parse_zone(zone: str) -> timezone:
    """``+HH:MM`` / ``+HHMM`` / ``Z`` as a fixed offset."""
    if zone in ("Z", "z"):
        return UTC
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    try:
        return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0)))
    except ValueError as exc:
        raise BadTime(f"zone {zone[:20]!r}: {exc}") from None


def rolled_year(month: int, year: int, near: int) -> int:
    """The year of a year-less stamp in ``month``, by its distance from the stream's clock
    (``year``, month ``near``; 0: no clock yet, ``year`` as is): the year that puts it in
    the twelve months ending one month after the clock's month."""
    if near:
        ahead = month - near
        if ahead > 1:
            return year - 1
        if ahead < -10:
            return year + 1
    return year


def bsd_time(month: str, day: str, clock: str, year: int, frac: str | None = None,
             near: int = 0) -> datetime:
    """RFC 3164 ``Mmm dd HH:MM:SS`` in ``year``, rolled by ``near`` (``rolled_year``);
    ``BadTime`` when no such instant exists."""
    key = (year * 16 + near, month, day, clock)
    dt = _bsd_cache.get(key)
    if dt is None:
        number = MONTHS.get(month)
        if number is None:
            raise BadTime(f"no month {month[:20]!r}")
        if len(clock) != 8 or clock[2] != ":" or clock[5] != ":" or not (
                clock[:2] + clock[3:5] + clock[6:]).isdigit() or not day.isdigit():
            raise BadTime(f"{month} {day[:20]} {clock[:20]!r} is no HH:MM:SS clock")
        year = rolled_year(number, year, near)
        try:
            dt = datetime(year, number, int(day),
                          int(clock[0:2]), int(clock[3:5]), int(clock[6:8]), tzinfo=UTC)
        except ValueError as exc:
            if month == "Feb" and day == "29":
                raise BadTime(f"Feb 29 in {year}, not a leap year") from None
            raise BadTime(f"{month} {day} {clock} in {year}: {exc}") from None
        if len(_bsd_cache) >= _CACHE_MAX:
            _bsd_cache.clear()
        _bsd_cache[key] = dt
    if not frac:
        return dt
    if len(frac) <= 3:
        return dt + (_ms_deltas.get(frac) or _ms_delta(frac))
    return datetime(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second,
                    _frac_us(frac), UTC)


_CLF = re.compile(r"(\d{1,2})/([A-Z][a-z]{2})/(\d{4}):(\d\d:\d\d:\d\d)(?:\.(\d{1,9})|)"
                  r"(?: ([+-]\d\d:?\d\d)|)\Z")


def clf_time(stamp: str) -> datetime:
    """Apache/haproxy ``06/Feb/2009:12:14:14.655`` with an optional `` +0000`` zone."""
    m = _CLF.match(stamp)
    if m is None:
        raise BadTime(f"{stamp[:40]!r} is no dd/Mmm/yyyy:HH:MM:SS date")
    day, month, year, clock, frac, zone = m.groups()
    dt = bsd_time(month, day, clock, int(year), frac)
    return in_utc(dt, zone) if zone else dt


def epoch_time(seconds: float) -> datetime:
    """A POSIX time (JSON's ``created``) as UTC; ``BadTime`` past what a datetime holds."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise BadTime(f"{seconds!r} seconds since the epoch: {exc}") from None
