"""Every log fast path against the plain code, on the whole corpus: identical Events.

Each shortcut has a module flag that sends its lines the plain way; every log file
of the corpus is parsed with the flag on and off, and the events (every field, in
field order) and the counts of lines that gave none must be the same. Each test
also checks that the shortcut was taken on the corpus, so it proves something.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.logs import kind_for_origin, oslo, parse_lines
from adapters.logs.base import IGNORED, StreamContext
from adapters.logs.header import split_header
from adapters.logs.parsers import nova_api
from adapters.logs.parsers.nova_api import NovaApiParser
from adapters.logs.stats import UnparsedStats
from tests.logs.test_fastpaths import EDGE_LINES

#: the time of lines without one (the clock's now would differ between two runs)
_WHEN = datetime(2020, 6, 1, tzinfo=UTC)


def _corpus_logs(corpus: Path) -> list[Path]:
    logs = sorted(corpus.rglob("*.log"))
    assert len(logs) >= 20
    return logs


def _parsed(corpus: Path) -> list[tuple[str, list[tuple[Any, ...]], dict[str, Any]]]:
    """Each corpus file parsed as its own stream: (name, events, what was not one)."""
    out = []
    for path in _corpus_logs(corpus):
        stats = UnparsedStats()
        lines = path.read_text(errors="replace").splitlines()
        events = [(list(e.__dict__.items()), e.model_dump_json())
                  for e in parse_lines(lines, str(path), kind_for_origin(str(path)),
                                       year=2020, default_time=_WHEN, stats=stats)]
        out.append((str(path), events, stats.as_dict()))
    return out


def _outcomes(lines: list[str]) -> Iterator[Any]:
    """``lines`` as one nova-api stream, line by line: an event's fields, or what else."""
    parser = NovaApiParser(StreamContext("nova-api-test", 2020, _WHEN))
    for i, raw in enumerate(lines):
        try:
            result = parser.parse(split_header(raw, 2020), raw, i)
        except (IndexError, ValueError) as exc:  # the pipeline dead-letters these
            yield type(exc).__name__
            continue
        yield result if result is None or result is IGNORED else list(result.__dict__.items())


def _taken(lines: list[str]) -> int:
    """How many of ``lines`` the fused regexes read (the plain way is not needed)."""
    parser = NovaApiParser(StreamContext("nova-api-count", 2020, _WHEN))
    taken = 0
    for i, raw in enumerate(lines):
        head = split_header(raw, 2020)
        if parser._oslo.usual is not parser._fast_layout:  # as parse() does first
            parser._set_fast(parser._oslo.usual)
        for fused in (parser._fast, parser._twin):
            m = fused[0].match(head.message) if fused is not None else None
            if m is not None and fused is not None and fused[1].fitting_values(m.groups()):
                taken += 1
                break
        parser.parse(head, raw, i)
    return taken


def test_nova_api_fused_path_gives_the_plain_events_on_the_corpus(
        corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _parsed(corpus)
    monkeypatch.setattr(nova_api, "FAST", False)
    assert _parsed(corpus) == fast
    nova = [lines for name, lines, _ in fast if "nova-api" in name]
    assert sum(map(len, nova)) > 1500


def _layout_lines() -> list[str]:
    """Access lines of every known oslo layout with ids, switching layouts midway."""
    access = EDGE_LINES[0].split("] ", 1)[1]
    return [
        f"2017-05-16 00:00:00.008 1 INFO nova.osapi_compute.wsgi.server "
        f"[req-g req-1 u p - - - -] {access}",  # Train: 8 fields
        f"2017-05-16 00:00:00.009 1 INFO nova.osapi_compute.wsgi.server "
        f"[req-g req-1 u p - - -] {access}",  # Pike: 7
        f"2017-05-16 00:00:00.010 1 INFO nova.osapi_compute.wsgi.server "
        f"[req-1 u p - - -] {access}",  # before Pike: 6
        f"2017-05-16 00:00:00.010 1 INFO nova.osapi_compute.wsgi.server "
        f"[req-1 u p - - ] {access}",  # an empty last token: the plain way
        f"2017-05-16 00:00:00.010 1 INFO nova.osapi_compute.wsgi.server "
        f"[instance: u p - - -] {access}",
        f"INFO nova.api.openstack.requestlog [req-g req-1 demo admin] {access}",  # DevStack
        f"INFO nova.api.openstack.requestlog [None req-1 - admin] {access}",
        f"DEBUG nova.api.openstack.requestlog [None req-1 - admin] {access} "
        "{{(pid=1) f /p.py:1}}",
        # the ``[-]`` layouts (no request context), read by the context layout's twin
        f"2017-05-16 00:00:00.011 1 INFO nova.osapi_compute.wsgi.server [-] {access}",
        f"2017-05-16 00:00:00.012 1 ERROR nova.osapi_compute.wsgi.server [-] {access}",
        f"INFO nova.api.openstack.requestlog [-] {access}",
        # whitespace other than a space in the path: no access line for ``\S+``
        *(f"INFO nova.api.openstack.requestlog [None req-1 - admin] "
          f"{access.replace('/servers', f'/{ws}servers')}" for ws in ("\t", "\xa0", "\u2028")),
    ]


@pytest.mark.parametrize("repeat", [1, 3])
def test_nova_api_fused_path_gives_the_plain_events_on_every_line(
        corpus: Path, monkeypatch: pytest.MonkeyPatch, repeat: int) -> None:
    """Every corpus line, and each known layout's, read as nova-api in one stream: a
    layout that became the stream's usual one meets the others' lines too."""
    lines = [raw for path in _corpus_logs(corpus)
             for raw in path.read_text(errors="replace").splitlines()]
    lines += (EDGE_LINES + _layout_lines()) * repeat
    fast = list(_outcomes(lines))
    monkeypatch.setattr(nova_api, "FAST", False)
    assert list(_outcomes(lines)) == fast
    monkeypatch.setattr(nova_api, "FAST", True)
    fast_taken = _taken(lines)
    assert fast_taken > 1500
    # each layout's line, seen twice: the second time (and DevStack's after the first of
    # its kind, oslo's ``[-]`` ERROR after its INFO) its layout is the stream's usual one;
    # the empty last token and the ``[instance: ..]`` "context" always go the plain way
    assert _taken([raw for raw in _layout_lines() for _ in (1, 2)]) == 12
    monkeypatch.setattr(nova_api, "TWIN", False)
    assert _taken(lines) < fast_taken  # the twin reads the corpus's ``[-]`` lines


def test_fitting_values_are_fits_then_values(corpus: Path) -> None:
    """Every layout on every corpus line (and the layouts' own lines, with mutations of
    their contexts): what ``fits`` then ``values`` give, or None where ``fits`` fails
    or the context ends in an empty token."""
    contexts = ["", " ", "a", "a ", " a", "a  b", "instance: x", "x instance:", "a b c"]
    lines = [raw for path in _corpus_logs(corpus)
             for raw in path.read_text(errors="replace").splitlines()]
    lines += EDGE_LINES + _layout_lines()
    lines += [raw.replace("[req-1 u p - - -]", f"[{ctx}]") for raw in _layout_lines()
              for ctx in contexts]
    read = 0
    for raw in lines:
        msg = split_header(raw, 2020).message
        for fmt in oslo.AUTO:
            for layout in fmt.layouts:
                m = layout.regex.match(msg)
                if m is None or layout is oslo.LEGACY.layouts[0]:
                    continue
                g = m.groups()
                fits = not layout._widths or layout.fits(g)
                got = layout.fitting_values(g)
                if got is None:
                    runs = [g[i] for i, _ in layout._widths]
                    assert not fits or any(r.endswith(" ") or r == "" for r in runs), raw
                else:
                    assert fits and got == layout.values(g), raw
                    read += 1
    assert read > 1500


def test_reader_usual_is_the_layout_of_the_last_record_line(corpus: Path) -> None:
    """``OsloReader.usual`` (a slot the nova-api parser reads each line) follows the
    reader's own record of its last layout, through every corpus file in one stream."""
    reader = oslo.OsloReader(origin="usual-test")
    seen = set()
    for path in _corpus_logs(corpus):
        for raw in path.read_text(errors="replace").splitlines():
            reader.parse(split_header(raw, 2020).message)
            last = reader._layout
            assert reader.usual is (last[1] if last is not None else None)
            seen.add(reader.usual.name if reader.usual is not None else None)
    assert len(seen) >= 3  # it moved between layouts
    again = oslo.OsloReader(origin="usual-test")  # a new reader of a known stream
    assert again.usual is reader.usual is not None


def test_record_twin_reads_as_the_reader_does_in_any_state(corpus: Path) -> None:
    """``oslo.record_twin``'s promise: a line its twin reads is read alike by the reader,
    whichever layout is the reader's usual one and whether it saw a traceback."""
    records = [(fmt, layout) for fmt in oslo.KNOWN_FORMATS for layout in fmt.layouts
               if layout.role == "record"]
    traces = [None, *((fmt, layout) for fmt in oslo.KNOWN_FORMATS for layout in fmt.layouts
                      if layout.role == "trace")]
    twins = {layout.name: oslo.record_twin(layout) for _, layout in records}
    assert twins["oslo:context"] is not None and twins["oslo:context"].name == "oslo:default"
    assert twins["devstack:default"] is not None
    assert twins["devstack:default"].name == "devstack:context"
    assert twins["grizzly:default"] is None
    assert oslo.record_twin(oslo.oslo_format(name="site").layouts[0]) is None
    lines = [split_header(raw, 2020).message for path in _corpus_logs(corpus)
             for raw in path.read_text(errors="replace").splitlines()]
    lines += [split_header(raw, 2020).message for raw in EDGE_LINES + _layout_lines()]
    compared = 0
    for msg in lines:
        for fmt, usual in records:
            twin = oslo.record_twin(usual)
            m = twin.regex.match(msg) if twin is not None and "\x1b" not in msg else None
            if twin is None or m is None or twin.fitting_values(m.groups()) is None:
                continue
            for trace in traces:
                reader = oslo.OsloReader()
                reader._layout, reader.usual, reader._trace = (fmt, usual), usual, trace
                line = reader.parse(msg)
                assert line is not None and not line.trace, msg
                got = twin.values(m.groups())
                assert (line.time, line.severity, line.level, line.module, line.ids,
                        line.instance_id, line.names) == got, msg
                compared += 1
    assert compared > 500


def _read_all(lines: list[str]) -> list[Any]:
    """Every line through one reader: its split, and which layout is usual after it."""
    reader = oslo.OsloReader()
    out: list[Any] = []
    for msg in lines:
        line = reader.parse(msg)
        out.append(None if line is None else
                   ([getattr(line, name) for name in oslo.OsloLine.__slots__],
                    reader.usual.name if reader.usual is not None else None))
    return out


def test_reader_usual_first_reads_as_match_does(
        corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``OsloReader.parse`` reading the usual layout's line itself (``USUAL_FIRST``) gives
    what ``match`` then ``Layout.line`` give, on the corpus (each file one stream, then
    all in one) and the layouts' own lines; and events are the same."""
    files = [[split_header(raw, 2020).message
              for raw in path.read_text(errors="replace").splitlines()]
             for path in _corpus_logs(corpus)]
    streams = [*files, [msg for lines in files for msg in lines],
               [split_header(raw, 2020).message for raw in EDGE_LINES + _layout_lines()] * 2]
    fast = [_read_all(lines) for lines in streams]
    events = _parsed(corpus)
    monkeypatch.setattr(oslo, "USUAL_FIRST", False)
    assert [_read_all(lines) for lines in streams] == fast
    assert _parsed(corpus) == events
    assert sum(x is not None for lines in fast for x in lines) > 3000
