"""Event times outside any sane range are dead letters with a reason, never a traceback.

A ``9999-12-31`` stamp parsed, and the deadline computed from it (``then`` +
``within``) is past ``datetime.max``: replay died with ``year 10000 is out of
range``. Every way a stamp becomes an event time goes through ``engine.events``
(``Event`` validation, ``trusted_event``), which refuses it (``engine.eventtime``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.notifications import NormalizationError, normalize
from dreamcatcher.cli import main
from engine.events import Event, trusted_event
from engine.eventtime import EARLIEST, LATEST, EventTimeError
from tests.paths import CREATE_NEVER_ENDED

START = "notifications/legacy/nova/designate__compute.instance.create.start.json"
RULES = Path(__file__).parent / "operator_rules"
ABSURD = ["9999-12-31 23:59:59.000000", "9999-12-31T23:30:00-05:00", "0001-01-01T00:00:00+05:00",
          "1969-12-31T23:59:59Z", "2200-01-01T00:00:00Z"]


def _start(corpus: Path, instance: str, stamp: str) -> dict[str, Any]:
    message = json.loads((corpus / START).read_text())
    message.update(message_id=f"msg-{instance}", timestamp=stamp)
    message["payload"]["instance_id"] = instance
    return message


@pytest.mark.parametrize("stamp", ABSURD)
def test_a_notification_stamped_out_of_range_is_refused_with_a_reason(corpus: Path,
                                                                      stamp: str) -> None:
    with pytest.raises(NormalizationError, match=r"event time .* is outside 1970\.\.2199"):
        normalize(_start(corpus, "inst-x", stamp))


def test_replay_dead_letters_the_absurd_stamp_and_runs_the_rest(
        corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stream = tmp_path / "notifications.jsonl"
    stream.write_text("".join(json.dumps(m) + "\n" for m in [
        _start(corpus, "inst-a", "2026-01-01 10:00:00.000000"),
        _start(corpus, "inst-far", "9999-12-31 23:59:59.000000"),
        _start(corpus, "inst-b", "2026-01-01 10:01:00.000000")]))
    dead = tmp_path / "dead.jsonl"
    code = main(["replay", str(stream), "--rules", str(CREATE_NEVER_ENDED), "--format", "json",
                 "--dead-letter", str(dead), "--allow-rejects"])
    out = capsys.readouterr().out
    assert code == 0
    fired = sorted(json.loads(line)["title"] for line in out.splitlines())
    assert fired == ["instance inst-a never finished", "instance inst-b never finished"]
    rejected = [json.loads(line) for line in dead.read_text().splitlines()]
    assert [(r["origin"], r["reason"]) for r in rejected] == [
        (f"{stream}:2", "compute.instance.create.start: event time 9999-12-31T23:59:59+00:00 "
                        "is outside 1970..2199")]


def test_replay_of_our_own_events_refuses_them_too(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in [
        {"id": "s1", "type": "volume.create.start", "time": "2026-01-01T00:00:00Z",
         "volume_id": "v1"},
        {"id": "s2", "type": "volume.create.start", "time": "9999-12-31T23:59:59Z",
         "volume_id": "v2"}]))
    dead = tmp_path / "dead.jsonl"
    code = main(["replay", str(events), "--rules", str(RULES), "--dead-letter", str(dead),
                 "--allow-rejects"])
    assert code == 0
    assert "volume v1 was never created" in capsys.readouterr().out
    [rejected] = [json.loads(line) for line in dead.read_text().splitlines()]
    assert rejected["origin"] == f"{events}:2"
    assert "time" in rejected["reason"] and "is outside 1970..2199" in rejected["reason"]


def test_replay_of_a_host_facts_recording_refuses_them_too(tmp_path: Path) -> None:
    recording = tmp_path / "facts.jsonl"
    recording.write_text(json.dumps({"host": "compute-1", "time": "9999-12-31T23:59:59Z",
                                     "ip_link": []}) + "\n")
    dead = tmp_path / "dead.jsonl"
    assert main(["replay", str(recording), "--kind", "hostfacts", "--rules", str(RULES),
                 "--dead-letter", str(dead), "--allow-rejects"]) == 0
    [rejected] = [json.loads(line) for line in dead.read_text().splitlines()]
    assert "is outside 1970..2199" in rejected["reason"]


def test_both_ways_of_building_an_event_refuse_the_same_times() -> None:
    minus5 = timezone(timedelta(hours=-5))
    for time in (datetime(9999, 12, 31, 23, 30, tzinfo=minus5), LATEST,
                 EARLIEST - timedelta(microseconds=1), datetime(1, 1, 1)):
        with pytest.raises(EventTimeError):
            trusted_event({"id": "x", "type": "t", "time": time})
        with pytest.raises(ValidationError, match="is outside"):
            Event(id="x", type="t", time=time)
    for time in (EARLIEST, LATEST - timedelta(microseconds=1), datetime(2026, 1, 1)):
        assert trusted_event({"id": "x", "type": "t", "time": time}).time == \
            Event(id="x", type="t", time=time).time
    assert Event(id="x", type="t", time=datetime(2026, 1, 1)).time.tzinfo is UTC


def test_a_log_line_stamped_out_of_range_is_a_dead_letter_too() -> None:
    """The log parsers build events with ``trusted_event``: the refusal reaches their
    per-line dead letter with the reason, and the next line is read."""
    from adapters.deadletter import DeadLetters
    from adapters.logs import parse_lines

    dead = DeadLetters(None)
    lines = ["<14>1 9999-12-31T23:59:59Z net-1 dnsmasq-dhcp 2438 - - DHCPACK(tap1) 10.0.0.5 "
             "fa:16:3e:00:00:01 host-1",
             "<14>1 2026-03-02T08:00:00Z net-1 dnsmasq-dhcp 2438 - - DHCPACK(tap1) 10.0.0.5 "
             "fa:16:3e:00:00:01 host-1"]
    events = list(parse_lines(lines, "syslog", None, dead_letters=dead))
    assert [e.time for e in events] == [datetime(2026, 3, 2, 8, 0, tzinfo=UTC)]
    [rejected] = dead.kept
    assert "event time 9999-12-31T23:59:59+00:00 is outside 1970..2199" in rejected["reason"]
