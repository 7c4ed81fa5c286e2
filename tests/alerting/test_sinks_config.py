"""Alertmanager and webhook payloads as received, the config model, and the silence CLI."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest
from pydantic import ValidationError

from adapters.alerting import AlertingConfig, RetryPolicy, Router, SilenceFile, build_router
from adapters.alerting.durations import parse_duration
from adapters.alerting.sinks.alertmanager import AlertmanagerSink
from adapters.alerting.sinks.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSink
from dreamcatcher.cli import main
from tests.alerting.conftest import FiringFactory
from tests.stand_in import StandIn

FAST = RetryPolicy(attempts=2, initial=0.01, maximum=0.02)


def test_alertmanager_v2_alert_and_resolve(stand_in: StandIn, make_firing: FiringFactory) -> None:
    router = Router([AlertmanagerSink(stand_in.base)], retry=FAST)
    first = make_firing(0)
    router.submit(first)
    router.submit(make_firing(1, offset_s=1800, resolves=True))
    router.close(5)
    alerts = [r.json()[0] for r in stand_in.hits("POST", "/api/v2/alerts")]
    assert len(alerts) == 2
    fire, resolve = alerts
    assert fire["labels"]["alertname"] == "bpdu-guard-trip"
    assert fire["labels"]["switch"] == "SW-1" and fire["labels"]["severity"] == "critical"
    starts = datetime.fromisoformat(fire["startsAt"])
    assert starts == first.time
    assert "endsAt" not in fire  # firing: no end until it resolves
    assert datetime.fromisoformat(resolve["endsAt"]) == first.time + timedelta(seconds=1800)
    assert resolve["labels"] == fire["labels"]  # same labels: Alertmanager resolves that alert


def test_webhook_hmac_signature_verifies(stand_in: StandIn, make_firing: FiringFactory) -> None:
    router = Router([WebhookSink(f"{stand_in.base}/hook", secret="s3cret")], retry=FAST)
    router.submit(make_firing(0))
    router.close(5)
    [request] = stand_in.hits("POST", "/hook")
    headers = {k.lower(): v for k, v in request.headers.items()}
    stamp = headers[TIMESTAMP_HEADER.lower()]
    expected = hmac.new(b"s3cret", stamp.encode() + b"." + request.body, hashlib.sha256)
    assert headers[SIGNATURE_HEADER.lower()] == "sha256=" + expected.hexdigest()
    assert request.json()["kind"] == "firing"


def test_build_router_from_config(
    tmp_path: Path, stand_in: StandIn, make_firing: FiringFactory
) -> None:
    config = AlertingConfig.model_validate({
        "sinks": [
            {"type": "chat", "url": f"mmost://127.0.0.1:{stand_in.port}/tok", "timeout": "2s"},
            {"type": "alertmanager", "url": stand_in.base, "min_severity": "critical"},
            {"type": "jsonl", "name": "file", "url": str(tmp_path / "a.jsonl")},
        ],
        "default_repeat": "30m",
        "dead_letter_path": str(tmp_path / "dead.jsonl"),
        "retry": {"attempts": 2, "initial": "10ms", "maximum": "20ms"},
    })
    assert config.default_repeat == 1800
    router = build_router(config)
    router.submit(make_firing(0, severity="warning"))
    router.close(5)
    assert len(stand_in.hits("POST", "/hooks/tok")) == 1
    assert stand_in.hits("POST", "/api/v2/alerts") == []  # below its min_severity
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 1


def test_config_errors_are_clear() -> None:
    with pytest.raises(ValidationError, match="sink names must be unique"):
        AlertingConfig.model_validate({"sinks": [{"type": "jsonl"}, {"type": "jsonl"}]})
    with pytest.raises(ValidationError, match="not a duration"):
        AlertingConfig.model_validate({"default_repeat": "soon"})
    with pytest.raises(ValueError, match="apprise does not understand"):
        build_router(AlertingConfig.model_validate(
            {"sinks": [{"type": "chat", "url": "nosuchservice://x"}]}))
    assert parse_duration("1h30m") == 5400 and parse_duration(90) == 90
    assert parse_duration("1w") == 7 * 86400 and parse_duration("0s") == 0  # a margin of none
    with pytest.raises(ValueError, match="cannot be negative"):
        parse_duration(-5)


def test_silence_cli_add_list_expire(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make_firing: FiringFactory
) -> None:
    path = tmp_path / "silences.json"
    assert main(["silence", "--file", str(path), "add", "--rule", "bpdu-guard-trip",
                 "--label", "switch=SW-1", "--for", "2h", "--comment", "switch maintenance"]) == 0
    silence_id = capsys.readouterr().out.split()[-1]
    [silence] = SilenceFile(path).load()
    assert silence.id == silence_id and silence.labels == {"switch": "SW-1"}
    assert (silence.ends_at - silence.starts_at) == timedelta(hours=2)

    assert main(["silence", "--file", str(path), "list", "--format", "json"]) == 0
    listed = orjson.loads(capsys.readouterr().out)
    assert [s["id"] for s in listed] == [silence_id]

    assert main(["silence", "--file", str(path), "expire", silence_id]) == 0
    capsys.readouterr()
    assert main(["silence", "--file", str(path), "list", "--format", "json"]) == 0
    assert orjson.loads(capsys.readouterr().out) == []  # expired ones are hidden by default
    assert main(["silence", "--file", str(path), "expire", "nope"]) == 1
    assert main(["silence", "--file", str(path), "add", "--label", "bad", "--for", "1h"]) == 2
