"""``dreamcatcher explain``: the engine's own verdicts, per event naming the key.

On the demo's bad day it answers the two questions of issue 17: why
``bdm-wait-exhausted`` fired (two instances' VolumeNotCreated in one 15-minute window)
and why ``volume-post-lost`` did not fire for the slow volume dea46d7f (nova's
VolumeNotCreated for it arrived and closed the expectation). Small built inputs
cover a failed condition, an empty join, a redelivery and the router's decisions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dreamcatcher.cli import main
from tests.explain.conftest import Run, jsonl
from tests.paths import REPO

#: the first instance of the bad day's bulk boot whose volume cinder was still downloading
SLOW_INSTANCE = "1207dccf-51b4-4511-be2f-763f9d570383"
SLOW_VOLUME = "dea46d7f-92ea-49ef-a173-cdbee5014231"
OTHER_INSTANCE = "128b5159-f394-425b-949d-c44aafb4b322"
OPERATOR_RULES = REPO / "tests" / "operator_rules"


def verdicts(explanation: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["event_type"], e["verdict"]) for e in explanation["entries"]]


def not_created(n: int, instance: str, status: str, host: str = "compute-9") -> dict[str, Any]:
    return {"id": f"vnc-{n}", "type": "nova.compute.volume_not_created",
            "time": f"2026-03-02T10:00:{n:02d}Z", "instance_id": instance, "host": host,
            "data": {"volume_status": status, "seconds": 187, "attempts": 61}}


def test_why_bdm_wait_exhausted_fired(run_json: Run) -> None:
    out = run_json("explain", "bdm-wait-exhausted", SLOW_INSTANCE, "--demo")
    assert out["fired"] == 1
    assert verdicts(out) == [("nova.compute.volume_not_created", "counted"),
                             ("nova.compute.volume_not_created", "fired")]
    counted, fired = out["entries"]
    # the window against the threshold, as the operator held it
    assert counted["state_after"]["distinct"] == [SLOW_INSTANCE]
    assert counted["state_after"]["at_least"] == 2
    assert "holds 1 distinct instance_id" in counted["reason"]
    # the firing: both instances' events, at the second one, notified as a new group
    assert fired["time"] == "2026-03-02T09:33:11+00:00"
    assert [e.rsplit("/", 1)[-1] for e in fired["evidence"]] == [
        "nova-compute.log#17687", "nova-compute.log#23867"]
    assert f"{SLOW_INSTANCE}, {OTHER_INSTANCE}" in fired["reason"]
    assert "reached at_least 2" in fired["reason"]
    assert fired["router"]["decision"] == "notified"


def test_why_volume_post_lost_did_not_fire_for_the_slow_volume(run_json: Run) -> None:
    out = run_json("explain", "volume-post-lost", SLOW_VOLUME, "--demo")
    assert out["fired"] == 0
    # only nova's VolumeNotCreated names the volume in a field; it is the `then` that came
    [closed] = out["entries"]
    assert (closed["event_type"], closed["verdict"], closed["role"]) == (
        "nova.compute.volume_not_created", "closed", "then")
    assert closed["key"] == [SLOW_INSTANCE]
    assert f"instance_id={SLOW_INSTANCE}" in closed["reason"]
    assert closed["state_before"]["open"] and not closed["state_after"]["open"]
    assert "did not fire" in out["conclusion"]


def test_the_instance_shows_the_expectation_opened_then_closed(run_json: Run) -> None:
    out = run_json("explain", "volume-post-lost", SLOW_INSTANCE, "--demo")
    assert verdicts(out) == [("nova.compute.block_device_setup_failed", "opened"),
                             ("nova.compute.volume_not_created", "closed")]
    assert "fires at 09:35:10 without one" in out["entries"][0]["reason"]
    # the instance's other events are of types the rule does not read
    assert out["unread_event_types"]["compute.instance.create.start"] == 1


def test_text_is_one_line_per_event_with_time_type_verdict_and_reason(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "volume-post-lost", SLOW_INSTANCE, "--demo",
                 "--dead-letter", str(tmp_path / "dead.jsonl")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("2026-03-02 09:33:10  nova.compute.block_device_setup_failed  "
                               "opened: expects nova.compute.volume_not_created")
    assert lines[2].startswith("2026-03-02 09:33:10  nova.compute.volume_not_created  closed: ")
    assert lines[-1].startswith(f"volume-post-lost did not fire for {SLOW_INSTANCE}")


def test_a_failed_condition_is_named_with_the_actual_value(tmp_path: Path, run_json: Run) -> None:
    events = jsonl(tmp_path / "in.jsonl", not_created(1, "i-1", "error"),
                   not_created(2, "i-2", "downloading"))
    out = run_json("explain", "bdm-wait-exhausted", "i-1", str(events))
    [skipped] = out["entries"]
    assert skipped["verdict"] == "skipped"
    assert skipped["condition"] == "data.volume_status ne 'error'"
    assert skipped["actual"] == "error"
    assert "failed: the event has 'error'" in skipped["reason"]
    assert out["fired"] == 0


def test_a_second_firing_in_the_group_is_folded_by_the_router(tmp_path: Path,
                                                              run_json: Run) -> None:
    events = jsonl(tmp_path / "in.jsonl",
                   *(not_created(n, f"i-{n}", "downloading") for n in range(1, 5)))
    out = run_json("explain", "bdm-wait-exhausted", "compute-9", str(events))
    fired = [e for e in out["entries"] if e["verdict"] == "fired"]
    assert [f["router"]["decision"] for f in fired] == ["notified", "suppressed"]
    assert fired[1]["router"]["reason"].startswith("folded into open group bdm-wait-exhausted")


def test_a_silence_in_the_config_is_named(tmp_path: Path, run_json: Run) -> None:
    silences = tmp_path / "silences.json"
    silences.write_text(json.dumps([{
        "id": "s-42", "rule": "bdm-wait-*", "starts_at": "2026-03-02T00:00:00Z",
        "ends_at": "2026-03-03T00:00:00Z", "comment": "cinder upgrade"}]))
    config = tmp_path / "config.yaml"
    config.write_text(f"alerting:\n  silences_path: {silences}\n")
    out = run_json("explain", "bdm-wait-exhausted", SLOW_INSTANCE, "--demo",
                   "--config", str(config))
    [fired] = [e for e in out["entries"] if e["verdict"] == "fired"]
    assert fired["router"]["decision"] == "silenced"
    assert "silenced by s-42" in fired["router"]["reason"]
    assert "cinder upgrade" in fired["router"]["reason"]
    assert out["router"] == str(config)


BPDU = {"id": "b", "type": "switch.stp.bpdu_guard", "time": "2000-01-01T00:00:01Z",
        "mac": "fa:16:3e:24:e7:22", "data": {"switch": "SW-2"}}


def test_an_empty_join_is_named_with_its_criteria(tmp_path: Path, run_json: Run) -> None:
    events = jsonl(tmp_path / "in.jsonl", BPDU)
    out = run_json("explain", "single-bpdu", "fa:16:3e:24:e7:22", str(events),
                   "--rules", str(OPERATOR_RULES))
    assert verdicts(out) == [("switch.stp.bpdu_guard", "matched"),
                             ("switch.stp.bpdu_guard", "join-empty")]
    empty = out["entries"][1]
    assert "join `port` found no port with mac='fa:16:3e:24:e7:22'" in empty["reason"]
    assert empty["joins"][0] == {"join": "port", "kind": "port",
                                 "by": {"mac": "fa:16:3e:24:e7:22"}, "found": 0,
                                 "optional": False}


def test_a_redelivered_event_is_named(tmp_path: Path, run_json: Run) -> None:
    events = jsonl(tmp_path / "in.jsonl", BPDU, {**BPDU, "time": "2000-01-01T00:00:02Z"})
    out = run_json("explain", "single-bpdu", "FA:16:3E:24:E7:22", str(events),
                   "--rules", str(OPERATOR_RULES))
    assert [v for _, v in verdicts(out)] == ["matched", "join-empty", "duplicate"]


def test_a_correlation_key_missing_from_the_event_is_named(tmp_path: Path,
                                                          run_json: Run) -> None:
    setup_failed = {"id": "x", "type": "nova.compute.block_device_setup_failed",
                    "time": "2026-03-02T10:00:00Z", "request_id": "req-1"}
    out = run_json("explain", "volume-post-lost", "req-1",
                   str(jsonl(tmp_path / "in.jsonl", setup_failed)))
    [skipped] = out["entries"]
    assert skipped["verdict"] == "skipped"
    assert "correlation key (instance_id) is empty" in skipped["reason"]


def test_a_deadline_firing_comes_from_the_clock_with_its_joins(run_json: Run) -> None:
    out = run_json("explain", "dhcp-lease-lost", "fa:16:3e:01:0d:8a", "--demo")
    last = out["entries"][-1]
    assert (last["event_type"], last["verdict"], last["event_id"]) == ("(deadline)", "fired",
                                                                      None)
    assert last["time"] == "2026-03-02T11:07:00+00:00"
    assert {j["join"]: j["found"] for j in last["joins"]} == {"port": 1, "instance": 1}
    assert [v for _, v in verdicts(out)][-4:-1] == ["opened", "folded", "folded"]


def test_events_sharing_the_keys_window_are_shown_with_the_firing(tmp_path: Path,
                                                                 run_json: Run) -> None:
    def fetch(n: int, length: int) -> dict[str, Any]:
        return {"id": f"r{n}", "type": "nova.api.request", "time": f"2026-03-02T10:0{n}:00Z",
                "request_id": f"req-{n}", "instance_id": "i-7",
                "data": {"action": "os-getConsoleOutput", "length": length}}

    events = jsonl(tmp_path / "in.jsonl", fetch(1, 2_000_000), fetch(2, 10),
                   fetch(3, 2_000_000), fetch(4, 2_000_000))
    out = run_json("explain", "count-console", "req-1", str(events),
                   "--rules", str(OPERATOR_RULES))
    # req-2 is neither about the key nor in its window (its length fails the condition)
    assert [(e["event_id"], e["verdict"]) for e in out["entries"]] == [
        ("r1", "counted"), ("r3", "counted"), ("r4", "counted"), ("r4", "fired")]
    assert "window holds 1 event of at_least 3 within 10 min for instance_id=i-7" in (
        out["entries"][0]["reason"])
    assert out["entries"][1]["reason"].endswith("(same correlation key as an event naming req-1)")
    assert out["entries"][3]["evidence"] == ["r1", "r3", "r4"]


def test_a_sequence_out_of_order_says_so(run_json: Run) -> None:
    # on the bad day nova logs the instance's create.error before its VolumeNotCreated
    out = run_json("explain", "sequence-bdm", SLOW_INSTANCE, "--demo",
                   "--rules", str(OPERATOR_RULES))
    assert [(e["event_type"], e["verdict"]) for e in out["entries"]] == [
        ("compute.instance.create.start", "step"), ("compute.instance.create.error", "step"),
        ("nova.compute.volume_not_created", "step")]
    assert "the chain holds steps [1, 3]" in out["entries"][1]["reason"]
    assert "every step is held, but no chain" in out["entries"][2]["reason"]
    assert out["fired"] == 0


def test_a_baseline_learns_then_breaches(run_json: Run) -> None:
    out = run_json("explain", "slow-api-db-bloat", "ec2.RunInstances", "--demo")
    kinds = [e["verdict"] for e in out["entries"]]
    assert kinds[-2:] == ["breach", "fired"] and set(kinds[:-2]) == {"observed"}
    assert "learning the baseline (0 of 5 samples)" in out["entries"][0]["reason"]
    assert "data.method=GET, data.action=ec2.RunInstances: fires" in out["entries"][-2]["reason"]


def test_a_resolve_closes_the_group_the_firing_opened(tmp_path: Path, run_json: Run) -> None:
    facts = {"id": "f", "type": "port.create.end", "time": "2000-01-01T00:00:00Z",
             "facts": [{"kind": "port", "id": "p9",
                        "fields": {"mac": "fa:16:3e:24:e7:22", "device_id": "i9"}},
                       {"kind": "instance", "id": "i9",
                        "fields": {"name": "fresh", "host": "compute-1"}}]}
    up = {"id": "u", "type": "switch.link.up", "time": "2000-01-01T00:01:00Z",
          "data": {"switch": "SW-2"}}
    events = jsonl(tmp_path / "in.jsonl", facts, BPDU, up)
    out = run_json("explain", "single-bpdu", "SW-2", str(events),
                   "--rules", str(OPERATOR_RULES))
    assert [v for _, v in verdicts(out)] == ["matched", "fired", "resolved"]
    fired, resolved = out["entries"][1:]
    assert "join `port` found 1 port; join `instance` found 1 instance" in fired["reason"]
    assert fired["router"]["decision"] == "notified"
    assert resolved["router"] == {"decision": "resolved",
                                  "reason": "resolved group single-bpdu|SW-2"}
