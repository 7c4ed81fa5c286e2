"""Issue 19: a bounded fuzz run over the header parser, every log parser and the syslog
TCP framing, part of the suite (fixed seed, a few seconds).

What must hold for every line: nothing escapes the pipeline, and the line is accounted
for (an event, ignored, or unparsed; a line that raised is a dead letter with its
reason). ``DREAMCATCHER_FUZZ_EXAMPLES`` raises the number of examples for a long run
(docs/limits.md, "Log lines"); each crash found becomes a named test in
``test_bad_lines.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.deadletter import DeadLetters
from adapters.logs import UnparsedStats, parse_lines
from adapters.logs.header import split_header
from adapters.logs.router import PARSERS
from adapters.logs.syslog import SyslogServer, _Framing

#: a long run (the variable set) draws new examples each time; the suite's run is fixed
EXAMPLES = int(os.environ.get("DREAMCATCHER_FUZZ_EXAMPLES") or 150)
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                derandomize=not os.environ.get("DREAMCATCHER_FUZZ_EXAMPLES"),
                suppress_health_check=[HealthCheck.too_slow])
KINDS = [*sorted(PARSERS), "syslog"]
CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "logs"

#: The shapes of every corpus file: a few lines each, to mutate.
SEED_LINES: list[str] = [
    line for path in sorted(CORPUS.glob("*.log"))
    for line in path.read_text(errors="replace").splitlines()[:60:15] if line
]
#: What breaks parsers: separators, digits where words go, impossible dates, controls.
PIECES = [" ", "  ", "[", "]", "(", ")", "{", "}", ":", "/", ".", "-", "+", ",", '"', "'",
          "<", ">", "%", "|", "=", "\t", "\x00", "\x1b[0m", "\ufeff", "\u3000", "é", "0", "9",
          "99", "-1", "54:03:12", "Feb 29", "Fec", "Dec 31 23:59:59", "9999", "0000",
          "time: .", "status: x", "len: None", "[instance: ", "req-", "<999>", "<5>",
          "1 ", "-", "Jan  1", "T", "Z", "+25:00", "\\", "\n", "\r"]

#: Exceptions that are not ``BadLine`` but dead letters by design, each a named test in
#: ``test_bad_lines.py`` (``test_fastpaths`` pins them: the fast path raises as the slow):
#: a nova-api duration that is no number, a logger without a dot.
KNOWN_FAILURES = ("nova-api parser failed: ValueError('could not convert string to float",
                  'nova-api parser failed: ValueError("could not convert string to float',
                  "nova-api parser failed: IndexError('list index out of range')")

edits = st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.sampled_from(PIECES),
                           st.sampled_from(["insert", "overwrite", "delete"])),
                 min_size=1, max_size=4)


def _mutate(line: str, changes: list[tuple[float, str, str]]) -> str:
    for where, piece, how in changes:
        i = int(where * len(line))
        if how == "insert":
            line = line[:i] + piece + line[i:]
        elif how == "overwrite":
            line = line[:i] + piece + line[i + len(piece):]
        else:
            line = line[:i] + line[i + len(piece):]
    return line


def _accounted(line: str) -> None:
    """Every parser kind on ``line``: no exception escapes; the line is accounted for."""
    for kind in KINDS:
        stats, dead = UnparsedStats(), DeadLetters(None)
        events = list(parse_lines(line.split("\n"), "fuzz", kind, year=2026, stats=stats,
                                  dead_letters=dead))
        lines = [part for part in line.split("\n") if part.rstrip("\r")]
        seen = stats.unparsed["fuzz"] + stats.ignored["fuzz"] + len(events)
        assert seen >= len(lines) or not lines, (kind, line)
        assert len(dead.kept) <= stats.unparsed["fuzz"], (kind, line)
        for letter in dead.kept:
            assert letter["reason"] and letter["raw"], (kind, line)
            if "parser failed" in letter["reason"]:  # a bug, unless one of the known
                assert letter["reason"].startswith(KNOWN_FAILURES), (kind, line, letter)


@FUZZ
@given(st.sampled_from(SEED_LINES), edits)
def test_mutated_corpus_lines_are_events_or_accounted_for(line: str,
                                                          changes: list[tuple[float, str, str]],
                                                          ) -> None:
    _accounted(_mutate(line, changes))


@FUZZ
@given(st.text(max_size=200))
def test_any_text_is_an_event_or_accounted_for(line: str) -> None:
    _accounted(line)


months = st.sampled_from(["Jan", "Feb", "Dec", "Fec", "jan", "Xyz"])
stamps = st.builds(lambda pri, mon, day, clock, host, rest: f"{pri}{mon} {day} {clock} "
                   f"{host} {rest}",
                   st.sampled_from(["", "<13>", "<5>", "<999>", "<1", "<13>1 "]), months,
                   st.sampled_from(["1", " 1", "29", "31", "00", "99"]),
                   st.sampled_from(["00:00:00", "23:59:59", "54:03:12", "1:2:3", "00:00:60",
                                    "00:00:00.123456789"]),
                   st.sampled_from(["h", "SW-1", "", "a.log:", "h.x.y"]),
                   st.text(max_size=40))


@FUZZ
@given(stamps, st.integers(1, 9999), st.integers(0, 12))
def test_split_header_returns_a_header_or_a_bad_time(line: str, year: int, month: int) -> None:
    from adapters.logs.errors import BadTime

    try:
        head = split_header(line, year, month)
    except BadTime as exc:
        assert str(exc)
        return
    assert isinstance(head.message, str)
    if head.time is not None:
        assert head.time.tzinfo is not None


frame = st.one_of(
    st.binary(max_size=60).map(lambda b: b + b"\n"),
    st.binary(max_size=60).map(lambda b: str(len(b)).encode() + b" " + b),
    st.binary(max_size=60).map(lambda b: str(len(b) + 1000).encode() + b" " + b),  # a lie
    st.binary(max_size=60).map(lambda b: b + b"\x00"),
    st.binary(max_size=80),
)


@FUZZ
@given(st.lists(frame, max_size=8).map(b"".join), st.floats(0, 1))
def test_syslog_framing_never_raises_and_keeps_its_bounds(stream: bytes, where: float) -> None:
    srv = SyslogServer(lambda e: None, port=0, udp=False, tcp=False, max_message=512,
                       dead_letters=DeadLetters(None))
    handled: list[bytes] = []
    real = srv.handle

    def handle(data: bytes, sender: str) -> None:
        handled.append(data)
        real(data, sender)  # the whole path: header, routing, parsers

    srv.handle = handle  # type: ignore[method-assign]
    framing = _Framing()
    cut = int(where * len(stream))
    rest = srv._frames(stream[:cut], "10.0.0.1", framing)
    if rest is not None:
        rest = srv._frames(rest + stream[cut:], "10.0.0.1", framing)
    assert rest is None or len(rest) <= 512 + 12  # never more than one frame is held
    assert all(len(data) <= 513 for data in handled)
