"""The one syslog header parser (``split_header``): every wrapper it reads, in linear time.

Vendor samples are written from the vendors' documented formats (cited per test);
real senders (``SysLogHandler``, ``logger``, rsyslog) are in ``test_syslog_producers``.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.logs import header
from adapters.logs.header import file_prefix, split_header
from adapters.logs.pipeline import events_from_file, parse_lines

#: The file-name prefix pattern as first written (``file_prefix`` must agree with it).
PLAIN_PREFIX = re.compile(r"[^\s:]*\.log(?::|(?:\.\S*)? )")


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(["a", ".log", ".", ":", " ", "\t", "x.log.1", "\u3000"]),
                max_size=14).map("".join))
def test_file_prefix_is_the_plain_pattern(text: str) -> None:
    m = PLAIN_PREFIX.match(text)
    assert file_prefix(text) == (m.group() if m else "")
    m = PLAIN_PREFIX.match(text, 2)
    assert file_prefix(text, 2) == (m.group() if m else "")


@pytest.mark.parametrize("line", [
    "a.log." * 170_000,  # the old prefix pattern backtracked over every ".log"
    ".log" * 250_000,
    "a.log " * 170_000,  # prefix after prefix: no re-slicing of the rest
    "<13>" + "Mar  1 02:38:14 " + "h " * 500_000,
    "2020-01-01T00:00:00 h " + "a" * 1_000_000,
    "a" * 1_000_000 + "[1",
    "<13>1 2020-01-01T00:00:00Z h a p m " + "[x a=\"\\]\"]" * 90_000 + " msg",
], ids=["log-dots", "dot-logs", "prefixes", "hosts", "iso", "prog", "sd"])
def test_a_megabyte_line_splits_in_linear_time(line: str) -> None:
    """Issue 19: 65 KB took 0.88 s (quadratic); a megabyte must take well under a second."""
    header._last_prefix = ""
    start = time.process_time()
    split_header(line, 2020)
    assert time.process_time() - start < 1.0


def test_cisco_ios_counter_and_clock_markers() -> None:
    """Cisco IOS "System Log Message Format" (IOS XE 17.2 System Management Configuration
    Guide, Catalyst 9500): ``seq no:timestamp: %facility-severity-MNEMONIC:description``;
    over syslog the message counter comes first (``<PRI>45:``); ``*`` marks a clock never
    synchronized, ``.`` one that lost NTP."""
    for line, frac in (
        ("<187>45: *Mar  1 00:01:02.345: %LINK-3-UPDOWN: Interface Gi1/0/1, changed state to down",
         345000),
        ("<187>46: 000012: .Mar  1 00:01:02.345: %LINK-3-UPDOWN: Interface Gi1/0/1, changed "
         "state to down", 345000),
        ("<187>47: Mar  1 00:01:02: %LINK-3-UPDOWN: Interface Gi1/0/1, changed state to down", 0),
    ):
        head = split_header(line, 2024)
        assert head.time == datetime(2024, 3, 1, 0, 1, 2, frac, tzinfo=UTC), line
        assert head.message.startswith("%LINK-3-UPDOWN: Interface Gi1/0/1"), line
        assert head.severity == "error" and head.host is None and head.program is None
    # the same, relayed into a file by a syslog daemon that took the counter for the tag
    head = split_header("Mar  1 00:01:03 10.1.2.3 45: *Mar  1 00:01:02.345: %LINK-3-UPDOWN: "
                        "Interface Gi1/0/1, changed state to down", 2024)
    assert head.host == "10.1.2.3" and head.message.startswith("%LINK-3-UPDOWN")
    assert head.time == datetime(2024, 3, 1, 0, 1, 2, 345000, tzinfo=UTC)


def test_cisco_link_down_through_the_parser() -> None:
    events = list(parse_lines(["<187>45: *Mar  1 00:01:02.345: %LINK-3-UPDOWN: Interface "
                               "GigabitEthernet1/0/1, changed state to down"], "syslog:10.1.2.3"))
    assert [(e.type, e.data["interface"], e.severity) for e in events] == \
        [("switch.link.down", "GigabitEthernet1/0/1", "error")]


#: Junos "Interpreting Messages Generated in Structured-Data Format" (Junos OS System Log
#: Messages Reference): ``<PRI>version timestamp hostname process processID TAG
#: [junos@2636.platform variable-value-pairs] message-text``; the first is the guide's own
#: example, the second the ESWD message of tests/corpus (switch-bpduguard-juniper.log) so.
JUNOS_SD = (
    '<165>1 2007-02-15T09:17:15.719Z router1 mgd 3046 UI_DBASE_LOGOUT_EVENT '
    '[junos@2636.1.1.1.2.18 username="regress"] User \'regress\' exiting configuration mode',
    '<25>1 2019-06-21T14:03:12.000Z vmx01 eswd 2902 ESWD_BPDU_BLOCK_ERROR_DISABLED '
    '[junos@2636.1.1.1.2.133 interface-name="ge-0/0/17.0"] ge-0/0/17.0: bpdu-block disabled port',
)


def test_juniper_structured_data() -> None:
    head = split_header(JUNOS_SD[0], 2020)
    assert (head.host, head.program, head.msgid) == ("router1", "mgd", "UI_DBASE_LOGOUT_EVENT")
    assert head.sd == '[junos@2636.1.1.1.2.18 username="regress"]'
    assert head.message == "User 'regress' exiting configuration mode"
    assert head.time == datetime(2007, 2, 15, 9, 17, 15, 719000, tzinfo=UTC)
    assert head.severity == "info"
    events = list(parse_lines([JUNOS_SD[1]], "syslog:10.0.0.9"))
    assert [(e.type, e.host, e.data["interface"], e.data["unit"]) for e in events] == \
        [("switch.stp.bpdu_guard", "vmx01", "ge-0/0/17", "ge-0/0/17.0")]
    assert events[0].severity == "critical"  # PRI 25: daemon.alert, the line has no level


@pytest.mark.parametrize(("line", "program", "message"), [
    ("<14>myident: hello there", "myident", "hello there"),  # SysLogHandler, ident "myident: "
    ("<14>myident[42]: hello there", "myident", "hello there"),
    ("<14>hello there", None, "hello there"),  # no ident at all
    ("<14>2026-03-02 08:00:00.123 7 ERROR nova.x [-] m", None,
     "2026-03-02 08:00:00.123 7 ERROR nova.x [-] m"),
])
def test_pri_with_ident_or_nothing(line: str, program: str | None, message: str) -> None:
    head = split_header(line, 2020)
    assert (head.program, head.message, head.time, head.severity) == \
        (program, message, None, "info")


def test_rfc5424_lines_in_a_file(tmp_path: Path, corpus: Path) -> None:
    """rsyslog's RSYSLOG_SyslogProtocol23Format in a file: host, program and time are read."""
    src = (corpus / "logs" / "dnsmasq-dhcp.log").read_text().splitlines()[:2]
    lines = []
    for n, raw in enumerate(src):
        msg = split_header(raw, 2019).message
        lines.append(f"<30>1 2019-02-27T22:01:3{n}.5+01:00 mynode dnsmasq-dhcp 2438 - - {msg}")
    path = tmp_path / "syslog"
    path.write_text("\n".join(lines) + "\n")
    events = list(events_from_file(path))
    assert [(e.type, e.host, e.time) for e in events] == [
        ("dnsmasq.dhcp.discover", "mynode", datetime(2019, 2, 27, 21, 1, 30, 500000, tzinfo=UTC)),
        ("dnsmasq.dhcp.offer", "mynode", datetime(2019, 2, 27, 21, 1, 31, 500000, tzinfo=UTC)),
    ]


HAPROXY_5XX = ('10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 9/10/7/14/+30 503 '
               '+243 - - ---- 3/1/1/1/0 1/0 "GET /image.iso HTTP/1.0"')


def test_the_lines_own_level_wins_over_the_pri() -> None:
    """haproxy sends every request at local0.info: a 503 is still an error."""
    five = list(parse_lines([f"<134>Feb  6 12:14:14 lb1 haproxy[1]: {HAPROXY_5XX}"], "syslog:x"))
    ok = HAPROXY_5XX.replace(" 503 ", " 200 ")
    fine = list(parse_lines([f"<134>Feb  6 12:14:14 lb1 haproxy[1]: {ok}"], "syslog:x"))
    err = list(parse_lines([f"<131>Feb  6 12:14:14 lb1 haproxy[1]: {ok}"], "syslog:x"))
    bare = list(parse_lines([f"Feb  6 12:14:14 lb1 haproxy[1]: {ok}"], "syslog:x"))
    assert [e.severity for e in five + fine + err + bare] == ["error", "info", "error", "info"]


#: journalctl(1) --output formats (short-precise, short-iso, short-iso-precise), the way a
#: site exports a unit's log to a file; DevStack's units are ``devstack@n-cpu.service``.
@pytest.mark.parametrize(("line", "when"), [
    ("Mar 02 08:00:00.123456 compute-1 nova-compute[1234]: msg",
     datetime(2026, 3, 2, 8, 0, 0, 123456, tzinfo=UTC)),
    ("2026-03-02T09:00:00+0100 compute-1 nova-compute[1234]: msg",
     datetime(2026, 3, 2, 8, 0, tzinfo=UTC)),
    ("2026-03-02T08:00:00.123456+00:00 compute-1 nova-compute[1234]: msg",
     datetime(2026, 3, 2, 8, 0, 0, 123456, tzinfo=UTC)),
])
def test_journald_exports(line: str, when: datetime) -> None:
    head = split_header(line, 2026)
    assert (head.time, head.host, head.program, head.message) == \
        (when, "compute-1", "nova-compute", "msg")
    devstack = split_header(line.replace("nova-compute[", "devstack@n-cpu.service["), 2026)
    assert devstack.program == "devstack@n-cpu.service" and devstack.message == "msg"
