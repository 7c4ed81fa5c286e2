"""The parsers' shortcuts give what the plain way gives.

Each speed-up (one fused regex for the oslo access line, the reused file-name
prefix, positional timestamps, the event built without validation) is checked
against a reference written here the slow, obvious way, on corpus lines and on
lines mutated around the places where the shortcut could split differently.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.logs import header, oslo, timeparse
from adapters.logs.base import StreamContext
from adapters.logs.build import NO_IDS, StreamEvents
from adapters.logs.header import Header, split_header
from adapters.logs.oslo import context_ids, parse_oslo
from adapters.logs.parsers import nova_api
from adapters.logs.parsers.nova_api import NovaApiParser
from adapters.logs.timeparse import bsd_time, iso_time
from engine.events import Event, log_event_id

# The access wording as first written: a lazy remote address, matched on the message
# that parse_oslo leaves (context and ``[instance: ..]`` already taken off).
REF_ACCESS = re.compile(
    r'(?P<remote>[^"]*?) ?"(?P<method>[A-Z]+) (?P<path>\S+)(?: HTTP/[\d.]+)?" '
    r"status: (?P<status>\d+) len: (?P<len>\d+|None)(?: microversion: (?P<mv>\S+))? "
    r"time: (?P<dur>[\d.]+)"
)
CTX = "[req-38101a0b-2096-447d-96ea-a692162415ae 113d3a99c3da401fbd62cc2caa5b96d2 " \
      "54fadb412c4e40cdbaed9335e4c35a9e - - -]"
ACCESS = '10.11.10.1 "GET /v2/54fadb412c4e40cdbaed9335e4c35a9e/servers/detail HTTP/1.1" ' \
         "status: 200 len: 1893 time: 0.2477829"
EDGE_LINES = [
    f"2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server {CTX} {ACCESS}",
    f"2017-05-16 00:00:00 INFO nova.osapi_compute.wsgi.server {CTX} {ACCESS}",  # no pid, frac
    f"2017-05-16 00:00:00.008  INFO [nova.api.openstack.wsgi] {ACCESS}",  # Grizzly
    f"INFO nova.api.openstack.requestlog [None req-1 admin admin] {ACCESS}",  # journald
    f"2017-05-16 00:00:00.008 1 INFO nova.osapi_compute.wsgi.server [-] {ACCESS}",
    f"2017-05-16 00:00:00.008 1 INFO nova.osapi_compute.wsgi.server {CTX}  {ACCESS}",
    f"2017-05-16 00:00:00.008 1 INFO nova.osapi_compute.wsgi.server {CTX}{ACCESS}",
    f"2017-05-16 00:00:00.008 1 INFO nova.osapi_compute.wsgi.server {CTX} [instance: "
    f"fc5e4c94-ff40-440d-b55a-289344a6905f] {ACCESS}",
    f"2017-05-16 00:00:00.008 1 INFO nova.osapi_compute.wsgi.server [instance: x] {ACCESS}",
    f'2017-05-16 00:00:00.008 1 INFO nova.osapi_compute.wsgi.server [req-1 "u" p] {ACCESS}',
    f"2017-05-16 00:00:00.008 1 INFO nova.osapi_compute.wsgi.server {CTX} "
    f'a "b" {ACCESS}',
    f"2017-05-16 00:00:00.008 1 INFO nova.osapi_compute.wsgi.server {CTX}   {ACCESS}",
    f"2017-05-16 00:00:00.008 1 INFO nova.osapi_compute.wsgi.server {CTX} "
    '"GET /v2.1/servers" status: 302 len: None microversion: - time: 0.016',
    f"2017-05-16 00:00:00.008 1 INFO nova.osapi_compute.wsgi.server {CTX} "
    '"GET /" status: 200 len: 5 microversion: 2.1 time: 1',
    f"2017-05-16 00:00:00.008 1 ERROR nova.osapi_compute.wsgi.server {CTX} Traceback",
]


def _reference(msg: str) -> dict[str, Any] | None:
    """What a nova-api access event carries, the two-step way; None when not an access."""
    line = parse_oslo(msg)
    if line is None:
        return None
    m = REF_ACCESS.match(line.message)
    if m is None:
        return None
    api = line.module.split(".", 2)[1]  # raises for a module without a dot, as nova-api does
    float(m.group("dur"))  # raises for "0.2.4", as nova-api does
    return {
        "api": "compute" if api in ("osapi_compute", "api") else api,
        "method": m.group("method"), "path": m.group("path"), "status": int(m.group("status")),
        "length": None if m.group("len") == "None" else int(m.group("len")),
        "duration": float(m.group("dur")), "remote_addr": m.group("remote") or None,
        "microversion": None if m.group("mv") in (None, "-") else m.group("mv"),
        "time": line.time, "severity": line.severity, "request_id": line.ids[0],
        "global_request_id": line.ids[1], "user_id": line.ids[2],
    }


def _fast(msg: str) -> dict[str, Any] | None:
    parser = NovaApiParser(StreamContext("t", 2020, datetime(2020, 1, 1, tzinfo=UTC)))
    event = parser.parse(Header(msg), msg, 0)
    if not isinstance(event, Event):
        return None
    d = event.data
    return {
        "api": d["api"], "method": d["method"], "path": d["path"], "status": d["status"],
        "length": d["length"], "duration": d["duration"], "remote_addr": d["remote_addr"],
        "microversion": d["microversion"],
        "time": event.time if msg[:1].isdigit() else None, "severity": event.severity,
        "request_id": event.request_id, "global_request_id": event.global_request_id,
        "user_id": event.user_id,
    }


def _comparable(msg: str) -> bool:
    """Lines the access path reads (uwsgi and Apache layouts go elsewhere)."""
    return not (msg[:1] == "[" or (msg[:1].isdigit() and msg[4:5] != "-"))


def _outcome(parse: Any, msg: str) -> Any:
    try:
        return parse(msg)
    except (IndexError, ValueError) as exc:  # e.g. a module without a dot, "time: 0.2.4":
        return type(exc).__name__             # the pipeline dead-letters such a line


@pytest.mark.parametrize("msg", EDGE_LINES)
def test_fused_access_regex_agrees_on_edge_lines(msg: str) -> None:
    assert _comparable(msg)
    assert _outcome(_fast, msg) == _outcome(_reference, msg)


def test_fused_access_regex_agrees_on_the_corpus(corpus: Path) -> None:
    parsed = 0
    for raw in (corpus / "logs" / "nova-api-wsgi.log").read_text().splitlines():
        msg = split_header(raw, 2020).message
        ref = _reference(msg)
        assert _fast(msg) == ref, raw
        parsed += ref is not None
    assert parsed == 1021


_PIECES = [" ", "  ", '"', "[", "]", "] ", "[instance: i] ", "-", ".", "req-9 ", "None ", "x"]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(EDGE_LINES[:6]), st.lists(
    st.tuples(st.floats(0, 1, exclude_max=True), st.sampled_from(_PIECES), st.booleans()),
    min_size=1, max_size=3))
def test_fused_access_regex_agrees_on_mutated_lines(
    line: str, edits: list[tuple[float, str, bool]],
) -> None:
    """Insert or overwrite quote, bracket, space and id characters anywhere in the line."""
    for where, piece, overwrite in edits:
        i = int(where * len(line))
        line = line[:i] + piece + line[i + (len(piece) if overwrite else 0):]
    if _comparable(line):
        assert _outcome(_fast, line) == _outcome(_reference, line)


@pytest.mark.parametrize("frac", ["", "1", "12", "123", "1234", "12345", "123456", "1234567",
                                  "123456789", "008"])
@pytest.mark.parametrize("zone", [None, "Z", "+00:00", "+02:00", "-0530"])
def test_iso_time_matches_fromisoformat(frac: str, zone: str | None) -> None:
    text = "2017-05-16T23:59:58" + (f".{(frac + '000000')[:6]}" if frac else "")
    expected = datetime.fromisoformat(text).replace(tzinfo=UTC)
    if zone not in (None, "Z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        expected = expected.replace(tzinfo=offset).astimezone(UTC)
    for stamp in ("2017-05-16 23:59:58", "2017-05-16T23:59:58"):
        for _ in range(2):  # the second call is answered from the per-second cache
            got = iso_time(stamp, frac or None, zone)
            assert got == expected and got.utcoffset() == timedelta(0)


@pytest.mark.parametrize("frac", ["0", "5", "05", "000", "528", "999", "2432", "243288",
                                  "2432881"])
def test_bsd_time_fraction_keeps_the_cached_second(frac: str) -> None:
    whole = bsd_time("Mar", "1", "02:38:14", 2020)
    expected = whole.replace(microsecond=int((frac + "00000")[:6]))
    for _ in range(2):  # the second call adds the cached millisecond delta
        got = bsd_time("Mar", "1", "02:38:14", 2020, frac)
        assert got == expected and got.tzinfo is UTC
    assert bsd_time("Mar", "1", "02:38:14", 2020) == whole and whole.microsecond == 0


def test_stream_events_equal_the_validated_model() -> None:
    when = datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    maker = StreamEvents("o.log", "s")
    fast = maker.make(17, "t.x", when, "raw line", {"k": 1}, "h", "info",
                      ("req-1", "req-g", "u", "p"), "i-1",
                      {"mac": "fa:16:3e:00:00:01", "image_base_hash": "ab", "volume_id": "v"})
    slow = Event(id=log_event_id("o.log", 17), type="t.x", time=when, raw="raw line",
                 data={"k": 1}, service="s", host="h", severity="info", request_id="req-1",
                 global_request_id="req-g", user_id="u", project_id="p", instance_id="i-1",
                 mac="fa:16:3e:00:00:01", image_base_hash="ab", volume_id="v", origin="o.log")
    assert fast == slow
    assert list(fast.__dict__) == list(Event.model_fields)  # same order as validation gives
    assert fast.model_dump() == slow.model_dump()
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast.model_fields_set == set(Event.model_fields)
    bare = maker.make("7:42", "t.y", when, "r", {}, None, None)
    assert bare == Event(id="o.log#7:42", type="t.y", time=when, raw="r", service="s",
                         origin="o.log")
    with pytest.raises(TypeError, match="vollume_id"):
        maker.make(6, "t", when, "r", {}, None, None, NO_IDS, None, {"vollume_id": "v"})


def test_stream_events_share_nothing_mutable() -> None:
    when = datetime(2020, 1, 1, tzinfo=UTC)
    maker = StreamEvents("o", "s")
    a = maker.make(1, "t", when, "r", {}, "h", None)
    b = maker.make(2, "t", when, "r", {}, "h", None)
    a.host = "other"
    a.facts.append("x")  # type: ignore[arg-type]
    assert b.host == "h" and b.facts == [] and a.data is not b.data
    assert b.model_fields_set == set(Event.model_fields)


_TAILS = st.text(st.sampled_from(" :.-_[]<>*aZ09\t"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["nova-api.log.1.2017-05-16_13:53:08 ", "n.log ", "x.log.1 ",
                        "a.log:", "a.log.b:c ", "b.log.log "]), _TAILS, _TAILS)
def test_reused_file_prefix_splits_as_a_fresh_match(prefix: str, first: str, tail: str) -> None:
    primed = prefix + first + "2017-05-16 00:00:00.008 1 INFO m.x msg"
    line = prefix + tail + "Mar  1 02:38:14 host prog[1]: text"
    header._last_prefix = ""
    fresh = split_header(line, 2020)
    split_header(primed, 2020)  # leaves its prefix for the next line
    again = split_header(line, 2020)
    assert (again.message, again.time, again.host, again.program) == \
        (fresh.message, fresh.time, fresh.host, fresh.program)


def _reference_ids(ctx: str) -> tuple[str | None, ...]:
    """The context rules as first written, one case after another."""
    request = global_id = user = project = None
    parts = ctx.split()
    if parts and parts[0] == "None":
        parts = parts[1:]
    if len(parts) >= 2 and parts[0].startswith("req-") and parts[1].startswith("req-"):
        global_id = parts[0]
        parts = parts[1:]
    if parts and parts[0].startswith("req-"):
        request = parts[0]
        if len(parts) > 1 and parts[1] not in ("-", "None"):
            user = parts[1]
        if len(parts) > 2 and parts[2] not in ("-", "None"):
            project = parts[2]
    else:
        global_id = None
    return request, global_id, user, project


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["req-a", "req-b", "None", "-", "u1", "p1", "req"]),
                max_size=7), st.sampled_from([" ", "  "]))
def test_context_ids_follow_the_rules(tokens: list[str], sep: str) -> None:
    ctx = sep.join(tokens)
    assert context_ids(ctx) == _reference_ids(ctx)


#: Patterns whose optional parts are written ``(?:x|)`` for speed.
_BRANCHED = [oslo.LEGACY.layouts[0].regex, oslo.LEGACY.layouts[0].fused(nova_api._ACCESS_BODY)]


def _same_match(pattern: re.Pattern[str], text: str) -> None:
    """``pattern`` matches ``text`` exactly as its ``(?:x)?`` spelling does."""
    as_written = re.compile(pattern.pattern.replace("|)", ")?"), pattern.flags)
    assert as_written.pattern != pattern.pattern
    fast, slow = pattern.match(text), as_written.match(text)
    assert (fast and (fast.span(), fast.groupdict())) == \
        (slow and (slow.span(), slow.groupdict())), text


def test_branched_optional_parts_match_as_written_on_the_corpus(corpus: Path) -> None:
    for path in sorted((corpus / "logs").glob("*.log")):
        for raw in path.read_text().splitlines():
            msg = split_header(raw, 2020).message
            for pattern in _BRANCHED:
                _same_match(pattern, msg)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(EDGE_LINES), st.lists(
    st.tuples(st.floats(0, 1, exclude_max=True), st.sampled_from([*_PIECES, "1", "A", ": "]),
              st.booleans()),
    min_size=1, max_size=3))
def test_branched_optional_parts_match_as_written_on_mutated_lines(
    line: str, edits: list[tuple[float, str, bool]],
) -> None:
    for where, piece, overwrite in edits:
        i = int(where * len(line))
        line = line[:i] + piece + line[i + (len(piece) if overwrite else 0):]
    for pattern in _BRANCHED:
        _same_match(pattern, line)


def _fresh(stamp: str, frac: str | None = None) -> datetime:
    """The uncached way: every field parsed, one datetime built."""
    us = int((frac + "000000")[:6]) if frac else 0
    return datetime(int(stamp[0:4]), int(stamp[5:7]), int(stamp[8:10]), int(stamp[11:13]),
                    int(stamp[14:16]), int(stamp[17:19]), us, tzinfo=UTC)


def _clear_time_caches() -> None:
    timeparse._iso_cache.clear()
    timeparse._minute_cache.clear()


#: Across a year end, a leap day, a month end and a day change, with both separators,
#: so a cached minute or second is never taken for its neighbour's.
_BOUNDARY_STAMPS = [
    f"{day}{sep}{clock}"
    for day, clocks in (("2019-12-31", ("23:58:59", "23:59:00", "23:59:58", "23:59:59")),
                        ("2020-01-01", ("00:00:00", "00:00:01", "00:01:00")),
                        ("2020-02-29", ("23:59:59",)), ("2020-03-01", ("00:00:00",)),
                        ("2017-05-16", ("00:00:00", "00:00:59", "13:53:08")),
                        ("2017-05-17", ("00:00:00", "13:53:08")))
    for clock in clocks for sep in (" ", "T")
]


@pytest.mark.parametrize("order", ["forward", "backward"])
def test_iso_time_minute_and_second_caches_give_the_fresh_datetime(order: str) -> None:
    _clear_time_caches()
    stamps = _BOUNDARY_STAMPS if order == "forward" else _BOUNDARY_STAMPS[::-1]
    for _ in range(2):  # cold, then every second cached
        for stamp in stamps:
            for frac in (None, "", "5", "008", "1234", "1234567"):
                got = iso_time(stamp, frac)
                assert got == _fresh(stamp, frac) and got.tzinfo is UTC, (stamp, frac)
    _clear_time_caches()
    for second in range(60):  # every second of one minute, the minute cached after the first
        stamp = f"2020-01-01 00:00:{second:02d}"
        assert timeparse.iso_seconds(stamp) == _fresh(stamp)


def test_iso_time_cached_seconds_match_fresh_ones_on_the_corpus(corpus: Path) -> None:
    stamps = re.compile(r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)(?:\.(\d+))?")
    _clear_time_caches()
    seen = 0
    for path in sorted((corpus / "logs").glob("*.log")):
        for m in stamps.finditer(path.read_text()):
            assert iso_time(m[1], m[2]) == _fresh(m[1], m[2]), m[0]
            seen += 1
    assert seen > 1000


@pytest.mark.parametrize("stamp", ["2017-05-16 00:00:60", "2017-05-16 00:00:99",
                                   "2017-05-16 00:60:00", "2017-05-16 24:00:00",
                                   "2017-02-29 00:00:00", "2017-13-01 00:00:60",
                                   "2017-05-16 00:00:-1", "2017-05-16 00:00"])
@pytest.mark.parametrize("minute_cached", [False, True])
def test_iso_time_raises_what_datetime_raises(stamp: str, minute_cached: bool) -> None:
    _clear_time_caches()
    if minute_cached:  # the stamp's minute, where it is valid, comes from the cache
        with contextlib.suppress(ValueError):
            iso_time(stamp[:16] + ":00")
    with pytest.raises(ValueError) as expected:
        _fresh(stamp)
    with pytest.raises(ValueError) as got:
        iso_time(stamp, "123")
    assert str(got.value) == str(expected.value)


def _split(line: oslo.OsloLine | None) -> Any:
    """What a reader gives for a line, without what it remembers across lines (a
    traceback line's ids come from its record, which a fresh reader never saw)."""
    if line is None:
        return None
    return (line.time, line.level, line.module, line.message, line.instance_id, line.trace,
            None if line.trace else (line.ids, line.names))


def test_sticky_and_remembered_layouts_read_as_trying_every_format_in_order(
        corpus: Path) -> None:
    """The stream's usual layout first (and its memo across readers of one origin) gives
    what trying ``AUTO`` in order gives, line by line, on every corpus file."""
    for path in sorted((corpus / "logs").glob("*.log")):
        origin = f"memo-test:{path.name}"
        sticky = oslo.OsloReader(origin=origin)
        for number, raw in enumerate(path.read_text().splitlines()):
            msg = split_header(raw, 2020).message
            plain = oslo.OsloReader()  # fresh: AUTO in order, nothing remembered
            assert _split(sticky.parse(msg)) == _split(plain.parse(msg)), raw
            if number % 7 == 0:  # a new reader of the same origin starts from the memo
                sticky = oslo.OsloReader(origin=origin)
