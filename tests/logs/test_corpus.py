"""Every line of the corpus log files: the right event type and fields, or a listed reason.

The expectations come from reading the lines (``expected.py``) and, for the
two big loghub files, from plain string rules independent of the parsers'
regexes. A line that is neither expected nor listed as not parsed fails.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from adapters.logs import UnparsedStats, events_from_file, kind_for_origin
from engine.events import Event, image_base_hash
from tests.logs.expected import EXPECTED, NOT_PARSED

MAC = re.compile(r"\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b")
REQ = re.compile(r"req-[0-9a-f]{8}-[0-9a-f-]{27}")
SHA = re.compile(r"[0-9a-f]{40}")


def _by_line(path: Path) -> tuple[dict[int, Event], list[str], UnparsedStats]:
    """Events keyed by 1-based line number (from their byte offsets)."""
    data = path.read_bytes()
    starts = {0: 1}
    for n, m in enumerate(re.finditer(b"\n", data), start=2):
        starts[m.end()] = n
    stats = UnparsedStats()
    events = {}
    for event in events_from_file(path, year=2020, stats=stats):
        offset = int(event.id.rsplit("#", 1)[1])
        line_no = starts[offset]
        assert line_no not in events, f"two events for line {line_no}"
        events[line_no] = event
    return events, path.read_text().splitlines(), stats


def _field(event: Event, name: str) -> Any:
    assert name in Event.model_fields or name in event.data, f"{event.type} has no {name}"
    return event.field(name)


def _files(corpus: Path) -> list[Path]:
    return sorted((corpus / "logs").glob("*.log"))


def test_every_file_is_routed_by_its_name(corpus: Path) -> None:
    for path in _files(corpus):
        assert kind_for_origin(str(path)) is not None, path.name


def test_events_revalidate_as_the_same_model(corpus: Path) -> None:
    """The fast constructor builds exactly what pydantic validation builds."""
    for path in _files(corpus):
        for event in events_from_file(path, year=2020):
            again = Event.model_validate(event.model_dump())
            assert again == event
            offset = again.time.utcoffset()
            assert offset is not None and offset.total_seconds() == 0


@pytest.mark.parametrize("name", sorted(set(EXPECTED) | set(NOT_PARSED)))
def test_small_files_line_by_line(corpus: Path, name: str) -> None:
    events, lines, stats = _by_line(corpus / "logs" / name)
    expected = EXPECTED.get(name, {})
    skipped = NOT_PARSED.get(name, {})
    assert not set(expected) & set(skipped)
    for n in range(1, len(lines) + 1):
        if n in skipped:
            assert n not in events, f"{name}:{n} listed as not parsed ({skipped[n]})"
            continue
        assert n in events, f"{name}:{n} yielded no event: {lines[n - 1]!r}"
        event = events[n]
        assert event.raw.splitlines()[0] == lines[n - 1]
        if n in expected:
            type_, fields = expected[n]
            assert event.type == type_, f"{name}:{n}"
            for key, value in fields.items():
                assert _field(event, key) == value, f"{name}:{n} {key}"
        else:
            _rule_for_unlisted(name, lines[n - 1], event)
    assert stats.total_unparsed <= len(skipped)


def _rule_for_unlisted(name: str, line: str, event: Event) -> None:
    if name == "dnsmasq-dhcp.log":
        verb = line.split("DHCP", 1)[1].split("(", 1)[0].lower()
        assert event.type == f"dnsmasq.dhcp.{verb}"
        assert event.mac == MAC.findall(line)[0]
        assert event.data["interface"] == line.split("(", 1)[1].split(")", 1)[0]
    elif name == "haproxy.log":
        assert event.type == "haproxy.request"
        assert event.data["client"] == line.split(" [", 1)[0].split()[-1]
        assert str(event.data["status"]) in line
    else:
        raise AssertionError(f"{name}: no expectation for {line!r}")


def test_nova_api_wsgi_every_line(corpus: Path) -> None:
    events, lines, stats = _by_line(corpus / "logs" / "nova-api-wsgi.log")
    assert stats.total_unparsed == 0
    assert len(events) == len(lines) == 1021
    for n, line in enumerate(lines, start=1):
        e = events[n]
        assert e.type == "nova.api.request" and e.service == "nova-api"
        request = line.split('"')[1].split()
        assert e.data["method"] == request[0] and e.data["path"] == request[1]
        assert e.data["status"] == int(line.split("status: ")[1].split()[0])
        length = line.split("len: ")[1].split()[0]
        assert e.data["length"] == (None if length == "None" else int(length))
        assert e.data["duration"] == float(line.rsplit("time: ", 1)[1])
        req = REQ.search(line)
        assert e.request_id == (req.group(0) if req else None)
        if "/servers/detail" in request[1]:
            assert e.data["action"] == "servers.detail"
        parts = request[1].split("?")[0].split("/")
        if len(parts) == 5 and parts[3] == "servers" and parts[4] != "detail":
            assert e.instance_id == parts[4]
        if request[1].startswith("/v2/"):
            assert e.project_id == parts[2]
        if "microversion: " in line:
            mv = line.split("microversion: ")[1].split()[0]
            assert e.data["microversion"] == (None if mv == "-" else mv)
    # the Ops Guide's 138 s EC2 RunInstances (incident slow-api-db-bloat)
    slow = events[1018]
    assert slow.data["action"] == "ec2.RunInstances" and slow.data["duration"] == 138.5970151


IMAGECACHE_WORDING = (
    ("): checking", "nova.imagecache.image_checking"),
    ("): in use: on this node", "nova.imagecache.image_in_use"),
    ("Active base files:", "nova.imagecache.base_file_active"),
    ("Unknown base file:", "nova.imagecache.base_file_unknown"),
    ("Removable base files:", "nova.imagecache.base_files_removable"),
    ("too young to remove:", "nova.imagecache.base_file_too_young"),
    ("Removing base", "nova.imagecache.base_file_removed"),
)


def test_nova_compute_imagecache_every_line(corpus: Path) -> None:
    events, lines, stats = _by_line(corpus / "logs" / "nova-compute-imagecache.log")
    assert stats.total_unparsed == 0 and len(events) == len(lines)
    seen_wordings = set()
    for n, line in enumerate(lines, start=1):
        e = events[n]
        type_ = next(t for words, t in IMAGECACHE_WORDING if words in line)
        assert e.type == type_, f"line {n}"
        assert e.image_base_hash == SHA.search(line).group(0)  # type: ignore[union-attr]
        base = line.split("/_base/", 1)[1].split()[0].rstrip("):")  # first file named
        size = base.split("_")[1] if "_" in base else None
        assert e.data["size_gb"] == (int(size) if size else None)
        if type_ == "nova.imagecache.base_file_removed":
            seen_wordings.add(line.split("Removing ", 1)[1].split(":")[0])
        if type_ in ("nova.imagecache.image_checking", "nova.imagecache.image_in_use"):
            image = line.split("image ", 1)[1].split()[0]
            assert e.image_id == image
            assert image_base_hash(image) == e.image_base_hash  # sha1(image id)
        if type_ == "nova.imagecache.image_in_use":
            local, remote = re.findall(r"(\d+) (?:local|on other)", line)
            assert (e.data["local"], e.data["remote"]) == (int(local), int(remote))
    assert seen_wordings == {"base file", "base or swap file"}
    ops_guide = events[337]  # Ops Guide "Disappearing Images": rsyslog-wrapped, resized copy
    assert ops_guide.host == "dair-ua-c03" and ops_guide.data["size_gb"] == 10
    assert ops_guide.time.year == 2012


def test_no_corpus_line_is_unaccounted(corpus: Path) -> None:
    """All 1,533 lines: an event, a listed reason, or the checked big files."""
    total = 0
    for path in _files(corpus):
        events, lines, _ = _by_line(path)
        total += len(lines)
        listed = set(NOT_PARSED.get(path.name, {}))
        assert set(range(1, len(lines) + 1)) - listed == set(events), path.name
    assert total == 1533
