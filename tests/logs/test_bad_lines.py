"""Issue 19: a line that raises is a dead letter with its reason, never a crash or a
silent drop; year-less stamps take the stream clock's year; over-long lines are cut.

Each case of the issue (and each crash the fuzz tests found) is one named test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.deadletter import DeadLetters
from adapters.logs import UnparsedStats, events_from_file, parse_lines
from adapters.logs.errors import BadTime
from adapters.logs.header import split_header
from adapters.logs.stats import LINE_CUT
from adapters.logs.timeparse import bsd_time, clf_time, rolled_year
from engine.events import Event

STP = "%SPANTREE-2-BLOCK_BPDUGUARD: Received BPDU on port Fa1/0/11 with BPDU Guard enabled."


def _run(lines: list[str], kind: str | None, **kw: object) -> tuple[list[Event], DeadLetters,
                                                                      UnparsedStats]:
    dead, stats = DeadLetters(None), UnparsedStats()
    events = list(parse_lines(lines, "test", kind, dead_letters=dead, stats=stats,
                              **kw))  # type: ignore[arg-type]
    return events, dead, stats


def _only_dead_letter(lines: list[str], kind: str | None, **kw: object) -> str:
    """The reason of the one dead letter ``lines`` give; no event, one unparsed count."""
    events, dead, stats = _run(lines, kind, **kw)
    assert events == []
    assert stats.unparsed["test"] == 1
    assert len(dead.kept) == 1 and dead.kept[0]["raw"] == lines[-1]
    reason: str = dead.kept[0]["reason"]
    return reason


def test_feb_29_under_a_non_leap_year_is_a_dead_letter() -> None:
    reason = _only_dead_letter([f"Feb 29 10:00:00 SW-1 Stp: {STP}"], "switch", year=2025)
    assert reason.startswith("bad timestamp: Feb 29 in 2025, not a leap year")


def test_feb_29_takes_the_leap_year_of_the_streams_recent_lines() -> None:
    lines = [f"2024-02-28T23:00:00Z SW-1 Stp: {STP}", f"Feb 29 10:00:00 SW-1 Stp: {STP}"]
    events, dead, _ = _run(lines, "switch", year=2025)  # the hint is not a leap year
    assert dead.kept == []
    assert [e.time for e in events] == [datetime(2024, 2, 28, 23, tzinfo=UTC),
                                        datetime(2024, 2, 29, 10, tzinfo=UTC)]


def test_dec_31_seen_on_jan_1_is_last_year() -> None:
    """Issue 19: ``Dec 31 23:59:59`` was stamped a year ahead across the new year. The
    stream's clock (a live stream: the arrival, here Jan 1 2027) is in January."""
    head = split_header(f"Dec 31 23:59:59 SW-1 Stp: {STP}", 2027, 1)
    assert head.time == datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_jan_1_after_dec_31_in_a_file_is_next_year(tmp_path: Path) -> None:
    log = tmp_path / "switch.log"
    log.write_text(f"Dec 31 23:59:58 SW-1 Stp: {STP}\nJan  1 00:00:03 SW-1 Stp: {STP}\n")
    events = list(events_from_file(log, "switch", year=2026))
    assert [e.time for e in events] == [datetime(2026, 12, 31, 23, 59, 58, tzinfo=UTC),
                                        datetime(2027, 1, 1, 0, 0, 3, tzinfo=UTC)]


def test_a_file_without_year_hint_rolls_by_its_modification_time(tmp_path: Path) -> None:
    import os

    log = tmp_path / "switch.log"
    log.write_text(f"Dec 31 23:59:58 SW-1 Stp: {STP}\n")
    when = datetime(2027, 1, 2, tzinfo=UTC).timestamp()
    os.utime(log, (when, when))
    (event,) = events_from_file(log, "switch")
    assert event.time.year == 2026


@pytest.mark.parametrize(("month", "year", "near", "expected"), [
    (12, 2027, 1, 2026), (1, 2026, 12, 2027), (2, 2026, 1, 2026), (3, 2026, 1, 2025),
    (2, 2026, 12, 2026), (8, 2026, 3, 2025), (3, 2026, 3, 2026), (3, 2026, 0, 2026),
    (12, 2026, 0, 2026),
])
def test_rollover_is_the_distance_from_the_clock(month: int, year: int, near: int,
                                                 expected: int) -> None:
    assert rolled_year(month, year, near) == expected


def test_a_live_syslog_stream_rolls_by_the_arrival_time() -> None:
    """A stamp two months ahead of the arrival is the last one of that month before it."""
    import socket
    import time

    from adapters.logs import SyslogServer

    events: list[Event] = []
    srv = SyslogServer(events.append, port=0, tcp=False).start()
    try:
        now = datetime.now(UTC)
        month = (now.month + 1) % 12 + 1
        stamp = f"{datetime(2000, month, 1):%b}  1 00:00:00"
        assert srv.udp_address is not None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(f"<28>{stamp} SW-1 Stp: {STP}".encode(), srv.udp_address)
        deadline = time.monotonic() + 5
        while not events and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        srv.stop()
    assert [e.time for e in events] == [
        datetime(now.year if month < now.month else now.year - 1, month, 1, tzinfo=UTC)]


def test_hour_54_after_a_pri_is_a_dead_letter() -> None:
    reason = _only_dead_letter(["<5>Jun 1 54:03:12 vmx01 eswd[1]: ESWD_X: y"], None)
    assert reason.startswith("bad timestamp: Jun 1 54:03:12 in ")
    assert "hour must be in 0..23" in reason


def test_no_such_month_is_a_dead_letter() -> None:
    reason = _only_dead_letter([f"Fec 5 01:40:19 SW-1 Stp: {STP}"], "switch", year=2026)
    assert reason.startswith("bad timestamp: no month 'Fec'")


@pytest.mark.parametrize("date", ["5/Oct/3:15:1855.m", "06/Feb/2009:12:14:14.655 +2500",
                                  "31/Feb/2009:12:14:14", "06/Fob/2009:12:14:14", "x"])
def test_haproxy_dates_that_are_none_are_dead_letters(date: str) -> None:
    line = (f"Feb  6 12:14:14 localhost haproxy[1]: 10.0.1.2:33317 [{date}] http-in "
            'static/srv1 9/10/7/14/+30 200 +243 - - ---- 3/1/1/1/0 1/0 "GET / HTTP/1.0"')
    reason = _only_dead_letter([line], "haproxy", year=2009)
    assert reason.startswith("bad timestamp: ")


def test_clf_reads_what_it_read_before() -> None:
    assert clf_time("06/Feb/2009:12:14:14.655") == \
        datetime(2009, 2, 6, 12, 14, 14, 655000, tzinfo=UTC)
    assert clf_time("22/Mar/2023:17:36:21 +0100") == datetime(2023, 3, 22, 16, 36, 21, tzinfo=UTC)


def test_nova_api_time_dot_is_a_dead_letter() -> None:
    line = ("2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b-"
            "2096-447d-96ea-a692162415ae 113d3a99c3da401fbd62cc2caa5b96d2 54fadb412c4e40cdbaed"
            '9335e4c35a9e - - -] 10.11.10.1 "GET /v2/x/servers/detail HTTP/1.1" status: 200 '
            "len: 1893 time: .")
    reason = _only_dead_letter([line], "nova-api")
    assert reason.startswith("nova-api parser failed: ValueError(")
    assert "'.'" in reason


def test_nova_api_logger_without_a_dot_is_a_dead_letter() -> None:
    """Found by the fuzz run (``test_fuzz``): an access line whose logger names no API."""
    line = ("2017-05-16 00:00:00.008 25746 INFO | [req-38101a0b-2096-447d-96ea-a692162415ae "
            "113d3a99c3da401fbd62cc2caa5b96d2 54fadb412c4e40cdbaed9335e4c35a9e - - -] 10.11.10.1"
            ' "GET /v2/x/servers/detail HTTP/1.1" status: 200 len: 1893 time: 0.2')
    reason = _only_dead_letter([line], "nova-api")
    assert reason == "nova-api parser failed: IndexError('list index out of range')"


def test_nova_api_duration_with_two_dots_is_a_dead_letter() -> None:
    """Found by the fuzz run: ``time: 0.28086.1``."""
    line = ("2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b-"
            "2096-447d-96ea-a692162415ae 113d3a99c3da401fbd62cc2caa5b96d2 54fadb412c4e40cdbaed"
            '9335e4c35a9e - - -] 10.11.10.1 "GET /v2/x/servers/detail HTTP/1.1" status: 200 '
            "len: 1893 time: 0.28086.1")
    assert "'0.28086.1'" in _only_dead_letter([line], "nova-api")


def test_uwsgi_date_that_is_none_is_a_dead_letter() -> None:
    line = ("[pid: 1|app: 0|req: 1/1] 10.0.0.1 () {60 vars in 1168 bytes} [Tue Sep  5 09:02:05]"
            " GET /compute/v2.1 => generated 0 bytes in 17 msecs (HTTP/1.1 302) 5 headers")
    reason = _only_dead_letter([line], "nova-api")
    assert reason.startswith("bad timestamp: 'Tue Sep  5 09:02:05' is no")


def test_haproxy_timer_that_is_no_number_is_a_dead_letter() -> None:
    line = ("Feb  6 12:14:14 localhost haproxy[1]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] "
            'http-in static/srv1 9/10/7/14/+- 200 +243 - - ---- 3/1/1/1/0 1/0 "GET / HTTP/1.0"')
    reason = _only_dead_letter([line], "haproxy", year=2009)
    assert reason.startswith("bad field: total time '-' is not a whole number")


def test_rfc5424_stamp_off_the_calendar_is_a_dead_letter() -> None:
    reason = _only_dead_letter(["<13>1 2024-13-01T00:00:00Z h app - - - msg"], None)
    assert reason.startswith("bad timestamp: month must be in 1..12")


def test_json_created_past_year_9999_is_a_dead_letter() -> None:
    line = '{"levelname": "INFO", "message": "m", "name": "nova.x", "created": 1e20}'
    reason = _only_dead_letter([line], "nova-compute")
    assert reason.startswith("bad timestamp: 1e+20 seconds since the epoch")


def test_the_stream_goes_on_after_a_dead_letter() -> None:
    lines = [f"Fec 5 01:40:19 SW-1 Stp: {STP}", f"Feb 15 01:40:19 SW-1 Stp: {STP}"]
    events, dead, _ = _run(lines, "switch", year=2026)
    assert len(dead.kept) == 1 and [e.type for e in events] == ["switch.stp.bpdu_guard"]


def test_bsd_time_is_unchanged_for_good_stamps() -> None:
    assert bsd_time("Feb", "29", "10:00:00", 2024) == datetime(2024, 2, 29, 10, tzinfo=UTC)
    with pytest.raises(BadTime):
        bsd_time("Feb", "30", "10:00:00", 2024)


def test_a_line_over_the_cap_is_cut_and_counted() -> None:
    long = f"Feb 15 01:40:19 SW-1 Stp: {STP} (source mac fa:16:3e:24:e7:22)" + " x" * 40_000
    events, dead, stats = _run([long, f"Feb 15 01:40:20 SW-1 Stp: {STP}"], "switch",
                               year=2026, max_line=1000)
    assert [len(e.raw) for e in events] == [1000, len(STP) + 26]
    assert stats.limits() == {("test", LINE_CUT): 1}
    assert dead.kept == []


def test_the_default_cap_is_64k() -> None:
    events, _, stats = _run([f"Feb 15 01:40:19 SW-1 Stp: {STP}" + "x" * 70_000], "switch",
                            year=2026)
    assert len(events[0].raw) == 65536 and stats.limits() == {("test", LINE_CUT): 1}


def test_a_followed_file_cuts_an_endless_line_and_drops_its_rest(tmp_path: Path) -> None:
    """A line with no newline past the cap is not held (and re-read each poll) forever:
    its head is parsed, cut and counted; the rest is dropped up to its newline."""
    from adapters.logs import FileFollower

    log = tmp_path / "switch.log"
    good = f"Feb 15 01:40:19 SW-1 Stp: {STP}"
    log.write_text(good + " " + "x" * 300_000)
    stats = UnparsedStats()
    follower = FileFollower(log, kind="switch", year=2026, stats=stats, max_line=1024)
    try:
        first = follower.poll()
        assert [len(e.raw) for e in first] == [1024]
        assert stats.limits() == {(str(log), LINE_CUT): 1}
        with log.open("a") as fh:
            fh.write("y" * 5000 + "\n" + good + "\n")
        second = follower.poll()
        assert [e.raw for e in second] == [good]
        assert stats.unparsed[str(log)] == 0  # the dropped rest is no line of its own
    finally:
        follower.close()


def test_a_5000_digit_count_is_a_dead_letter() -> None:
    """Python refuses ``int()`` of more than 4,300 digits; within the line cap a count may
    have them. It is a ``bad field``, not a parser failure."""
    line = ("Feb  6 12:14:14 localhost haproxy[1]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] "
            f"http-in static/srv1 9/10/7/14/+30 {'2' * 5000} +243 - - ---- 3/1/1/1/0 1/0 "
            '"GET / HTTP/1.0"')
    reason = _only_dead_letter([line], "haproxy", year=2009)
    assert reason.startswith("bad field: status '2222")
