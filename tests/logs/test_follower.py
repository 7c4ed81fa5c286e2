"""The file follower loses and repeats nothing through rotation, truncation and restarts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters.logs import FileFollower, OffsetStore
from engine.events import Event


@pytest.fixture()
def lines(corpus: Path) -> list[str]:
    """Real nova-api access lines, each made unique by its request id already."""
    return (corpus / "logs" / "nova-api-wsgi.log").read_text().splitlines()[:60]


def _append(path: Path, text: str) -> None:
    with path.open("a") as fh:
        fh.write(text)


def _raws(events: list[Event]) -> list[str]:
    return [e.raw for e in events]


def test_partial_lines_wait_for_their_newline(tmp_path: Path, lines: list[str]) -> None:
    log = tmp_path / "nova-api.log"
    log.write_text(lines[0] + "\n" + lines[1][:50])
    follower = FileFollower(log)
    assert _raws(follower.poll()) == [lines[0]]
    _append(log, lines[1][50:] + "\n")
    assert _raws(follower.poll()) == [lines[1]]
    assert follower.poll() == []


def test_rotation_reads_old_tail_then_new_file(tmp_path: Path, lines: list[str]) -> None:
    log = tmp_path / "nova-api.log"
    log.write_text("\n".join(lines[:10]) + "\n")
    got: list[Event] = []
    follower = FileFollower(log, got.append)
    follower.poll()
    _append(log, "\n".join(lines[10:15]) + "\n")  # written after the last poll...
    os.rename(log, tmp_path / "nova-api.log.1")  # ...then logrotate moves the file
    log.write_text("\n".join(lines[15:20]) + "\n")
    follower.poll()
    _append(log, "\n".join(lines[20:25]) + "\n")
    follower.poll()
    assert _raws(got) == lines[:25]
    assert len({e.id for e in got}) == 25  # new file's offsets do not reuse old ids


def test_truncation_starts_over(tmp_path: Path, lines: list[str]) -> None:
    log = tmp_path / "nova-api.log"
    log.write_text("\n".join(lines[:10]) + "\n")
    follower = FileFollower(log)
    assert len(follower.poll()) == 10
    with log.open("w") as fh:  # copytruncate
        fh.write("\n".join(lines[10:12]) + "\n")
    assert _raws(follower.poll()) == lines[10:12]


def test_restart_continues_at_the_committed_offset(tmp_path: Path, lines: list[str]) -> None:
    log, state = tmp_path / "nova-api.log", tmp_path / "offsets.json"
    log.write_text("\n".join(lines[:10]) + "\n")
    first = FileFollower(log, offsets=OffsetStore(state))
    assert len(first.poll()) == 10
    first.close()
    _append(log, "\n".join(lines[10:20]) + "\n")
    second = FileFollower(log, offsets=OffsetStore(state))
    assert _raws(second.poll()) == lines[10:20]


def test_restart_after_rotation_while_down(tmp_path: Path, lines: list[str]) -> None:
    log, state = tmp_path / "nova-api.log", tmp_path / "offsets.json"
    log.write_text("\n".join(lines[:10]) + "\n")
    first = FileFollower(log, offsets=OffsetStore(state))
    first.poll()
    first.close()
    _append(log, "\n".join(lines[10:15]) + "\n")
    os.rename(log, tmp_path / "nova-api.log.1")
    log.write_text("\n".join(lines[15:30]) + "\n")
    second = FileFollower(log, offsets=OffsetStore(state))
    got = second.poll() + second.poll()
    assert _raws(got) == lines[10:30]


def test_multiline_record_released_when_idle(tmp_path: Path, corpus: Path) -> None:
    src = (corpus / "logs" / "rabbitmq-memory-alarm.log").read_text().splitlines()
    log = tmp_path / "rabbit@ctl001.log"
    log.write_text("\n".join(src[2:4]) + "\n")  # one 3.6 header + its message, then quiet
    follower = FileFollower(log, kind="rabbitmq")
    got: list[Event] = []
    for _ in range(6):
        got += follower.poll()
    assert [e.type for e in got] == ["rabbitmq.alarm.memory.set"]
    assert got[0].host == "rabbit@ctl001"
