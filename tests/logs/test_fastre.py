"""Patterns compiled ASCII-first match exactly as the patterns as written do."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.logs import header, oslo
from adapters.logs.fastre import ascii_first
from adapters.logs.header import split_header
from adapters.logs.parsers import nova_api


@pytest.mark.parametrize(("written", "spelt"), [
    (r"\d{4}-\d\d", r"[0-9\d]{4}-[0-9\d][0-9\d]"),
    (r"[\w.]*", r"[a-zA-Z0-9_\w.]*"),
    (r"[^\]]*\d", r"[^\]]*[0-9\d]"),
    (r"[]\d]", r"[]0-9\d]"),
    (r"[^]\w]", r"[^]a-zA-Z0-9_\w]"),
    (r"\\d \D\W\S\s", r"\\d \D\W\S\s"),
    (r"(?P<x>\w+)\]\[\d", r"(?P<x>[a-zA-Z0-9_\w]+)\]\[[0-9\d]"),
])
def test_ascii_first_spelling(written: str, spelt: str) -> None:
    assert ascii_first(written) == spelt
    assert _as_written(spelt) == written


def _as_written(spelt: str) -> str:
    """The source before ``ascii_first`` (its spellings occur nowhere else)."""
    for escape in ("d", "w"):
        inner = {"d": r"0-9\d", "w": r"a-zA-Z0-9_\w"}[escape]
        spelt = spelt.replace(f"[{inner}]", "\\" + escape).replace(inner, "\\" + escape)
    return spelt


def _fast_patterns() -> list[re.Pattern[str]]:
    found = [value for module in (header, oslo, nova_api) for value in vars(module).values()
             if isinstance(value, re.Pattern) and _as_written(value.pattern) != value.pattern]
    # the oslo.log layouts compiled from format strings, alone and fused with nova-api's
    for fmt in oslo.AUTO:
        for layout in fmt.layouts:
            found += [layout.regex, layout.fused(nova_api._ACCESS_BODY)]
    assert len(found) >= 6
    return found


FAST = _fast_patterns()


def _same(pattern: re.Pattern[str], text: str) -> None:
    written = re.compile(_as_written(pattern.pattern), pattern.flags)
    assert ascii_first(written.pattern) == pattern.pattern
    for fast, slow in ((pattern.match(text), written.match(text)),
                       (pattern.search(text), written.search(text))):
        assert (fast and (fast.span(), fast.groupdict())) == \
            (slow and (slow.span(), slow.groupdict())), (pattern.pattern, text)


def _corpus_texts(corpus: Path) -> list[str]:
    texts = []
    for path in sorted((corpus / "logs").glob("*.log")):
        for raw in path.read_text().splitlines():
            texts += [raw, split_header(raw, 2020).message]
    return texts


def test_fast_patterns_match_as_written_on_the_corpus(corpus: Path) -> None:
    for text in _corpus_texts(corpus):
        for pattern in FAST:
            _same(pattern, text)


SAMPLES = [
    "nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO "
    "nova.osapi_compute.wsgi.server [req-38101a0b-2096-447d-96ea-a692162415ae "
    "113d3a99c3da401fbd62cc2caa5b96d2 54fadb412c4e40cdbaed9335e4c35a9e - - -] 10.11.10.1 "
    '"GET /v2/54fadb412c4e40cdbaed9335e4c35a9e/servers/detail HTTP/1.1" status: 200 '
    "len: 1893 time: 0.2477829",
    "<30>Mar  1 02:38:14 host dnsmasq-dhcp[1234]: DHCPACK(tap1) 10.0.0.5 fa:16:3e:00:00:01",
    "2017-05-16T00:00:00.123+02:00 host prog[1]: text",
    "INFO nova.api.openstack.requestlog [None req-1 admin admin] 1.2.3.4 "
    '"GET /v2.1/servers" status: 302 len: None microversion: - time: 0.016',
]
#: Characters where ASCII-first and the Unicode classes could part: non-ASCII digits,
#: letters and numerals, the underscore, and ASCII neighbours of the ranges.
_PIECES = ["٣", "²", "é", "ǅ", "Ⅻ", "_", "/", ":", "@", "`", "{", "0", "9", "a", "Z", " ", "."]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(SAMPLES), st.lists(
    st.tuples(st.floats(0, 1, exclude_max=True), st.sampled_from(_PIECES), st.booleans()),
    min_size=1, max_size=4))
def test_fast_patterns_match_as_written_on_mutated_lines(
    line: str, edits: list[tuple[float, str, bool]],
) -> None:
    for where, piece, overwrite in edits:
        i = int(where * len(line))
        line = line[:i] + piece + line[i + (len(piece) if overwrite else 0):]
    texts = [line]
    with contextlib.suppress(ValueError, KeyError):  # a date or month made invalid: the
        texts.append(split_header(line, 2020).message)  # pipeline dead-letters the line
    for text in texts:
        for pattern in FAST:
            _same(pattern, text)


@pytest.mark.parametrize("line", SAMPLES)
def test_fast_patterns_match_as_written_with_any_character_made_unicode(line: str) -> None:
    """Every digit, letter and underscore in turn swapped for a non-ASCII one of its kind."""
    swaps = {**dict.fromkeys("0123456789", "٣"), "_": "ǅ",
             **dict.fromkeys("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "é")}
    for i, c in enumerate(line):
        if c in swaps:
            text = line[:i] + swaps[c] + line[i + 1:]
            for pattern in FAST:
                _same(pattern, text)
