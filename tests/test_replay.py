"""``dreamcatcher replay`` over JSON-lines events: alerts, JSON output, dead letters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dreamcatcher.cli import main

RULES = Path(__file__).parent / "operator_rules"


def write_events(path: Path, events: list[dict[str, object] | str]) -> Path:
    path.write_text("\n".join(e if isinstance(e, str) else json.dumps(e) for e in events) + "\n")
    return path


def test_replay_merges_files_by_time_and_prints_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    starts = write_events(tmp_path / "a.jsonl", [
        {"id": "s1", "type": "volume.create.start", "time": "2026-01-01T00:00:00Z",
         "volume_id": "v1"},
        {"id": "s2", "type": "volume.create.start", "time": "2026-01-01T00:02:00Z",
         "volume_id": "v2"},
    ])
    ends = write_events(tmp_path / "b.jsonl", [
        {"id": "e1", "type": "volume.create.end", "time": "2026-01-01T00:01:00Z",
         "volume_id": "v1"},
    ])
    code = main(["replay", str(starts), str(ends), "--rules", str(RULES), "--format", "json",
                 "--dead-letter", str(tmp_path / "dead.jsonl")])
    assert code == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(a["rule"], a["time"], a["event_ids"]) for a in out] == [
        ("expect-volume", "2026-01-01T00:07:00+00:00", ["s2"])
    ]
    assert out[0]["title"] == "volume v2 was never created"
    assert set(out[0]) >= {"severity", "text", "labels", "fact_ids"}


def test_malformed_lines_go_to_dead_letters_and_the_rest_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = write_events(tmp_path / "e.jsonl", [
        {"id": "s1", "type": "volume.create.start", "time": "2026-01-01T00:00:00Z",
         "volume_id": "v1"},
        "{not json",
        {"id": "bad", "type": "volume.create.start", "time": "yesterday"},
        {"id": "odd", "type": "x", "time": "2026-01-01T00:00:01Z", "colour": "red"},
    ])
    dead = tmp_path / "dead.jsonl"
    # rejected input makes the run a failure (1) unless --allow-rejects; the rest still runs
    assert main(["replay", str(events), "--rules", str(RULES), "--dead-letter", str(dead)]) == 1
    captured = capsys.readouterr()
    assert "expect-volume" in captured.out and "volume v1 was never created" in captured.out
    rejected = [json.loads(line) for line in dead.read_text().splitlines()]
    assert [r["origin"].rsplit(":", 1)[1] for r in rejected] == ["2", "3", "4"]
    assert rejected[0]["reason"].startswith("not JSON")
    assert rejected[1]["reason"].startswith("time:")
    assert rejected[2]["reason"].startswith("colour: unknown key")
    assert rejected[2]["raw"].startswith('{"id": "odd"')
    assert "3 inputs rejected, kept with the reason in" in captured.err


def test_bad_rules_refuse_to_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text("rule: r\nseverity: info\nwhen: {event: x}\nalert: {titel: t}\n")
    events = write_events(tmp_path / "e.jsonl", [])
    assert main(["replay", str(events), "--rules", str(rules)]) == 1
    err = capsys.readouterr().err
    assert "r.yaml:4: alert.titel: unknown key" in err
    assert "r.yaml:4: alert.title: required key is missing" in err


def test_config_routes_alerts_to_sinks_and_audits_dry_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With a deployment config the demo's alerts go through the router, hooks run dry."""
    alerts, audit = tmp_path / "alerts.jsonl", tmp_path / "audit.jsonl"
    config = tmp_path / "dreamcatcher.yaml"
    config.write_text(
        f"alerting:\n  sinks:\n    - {{type: jsonl, url: '{alerts}'}}\n"
        f"audit_log: '{audit}'\n"
    )
    assert main(["demo", "--config", str(config)]) == 0
    sent = [json.loads(line) for line in alerts.read_text().splitlines()]
    assert len(sent) == 9
    assert len({a["firing"]["rule"] for a in sent}) == 9
    assert {a["kind"] for a in sent} == {"firing"}
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(r["hook"], r["enforced"]) for r in records] == [("port.disable", False)]


def test_bad_config_is_refused_with_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "dreamcatcher.yaml"
    config.write_text("alerting:\n  sinks:\n    - {type: pager}\n")
    assert main(["demo", "--config", str(config)]) == 1
    assert "dreamcatcher.yaml:3: alerting.sinks[0].type" in capsys.readouterr().err


def test_text_output_strips_terminal_control_sequences_from_tenant_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text("rule: r\nseverity: info\nwhen: {event: x}\n"
                     "alert: {title: 'instance {{ event.data.name }}'}\n")
    events = write_events(tmp_path / "e.jsonl", [
        {"id": "a", "type": "x", "time": "2026-01-01T00:00:00Z",
         "data": {"name": "web\x1b[2J\x1b]0;owned\x07-1"}},
    ])
    assert main(["replay", str(events), "--rules", str(rules)]) == 0
    out = capsys.readouterr().out
    assert "instance web" in out and "-1" in out
    assert "\x1b[2J" not in out and "\x07" not in out


def test_a_bus_recording_replays_the_same_from_a_file_and_from_a_pipe(
        corpus: Path, tmp_path: Path) -> None:
    """The real 2025.1 capture: every record is a message, whether read as a file
    or streamed on standard input (where nothing can be sniffed twice)."""
    import subprocess
    import sys

    recording = corpus / "openstack-2025.1/notifications.jsonl"
    runs = []
    for args, stdin in (([str(recording)], None), (["-"], recording.read_bytes())):
        proc = subprocess.run(
            [sys.executable, "-m", "dreamcatcher.cli", "replay", *args, "--format", "json",
             "--dead-letter", str(tmp_path / "dead.jsonl")],
            input=stdin, capture_output=True, timeout=120, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        runs.append(proc.stderr.decode().splitlines()[0])
    assert not (tmp_path / "dead.jsonl").exists()
    assert runs[0] == runs[1]
    assert runs[0].startswith("448 events, ")
