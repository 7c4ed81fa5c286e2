"""Secrets in the config: literal, {env: NAME}, {file: PATH}; never printed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from adapters.alerting.config import build_sink
from adapters.alerting.sinks.webhook import WebhookSink
from adapters.remediation.config import RemediationConfig
from adapters.secrets import Secret, SecretValue, mask
from dreamcatcher.config import load_config
from engine.yamlsource import SourceError

PASSWORD = "s3cr3t-Pa55"
URL = f"amqp://dreamcatcher:{PASSWORD}@rabbit-1:5672,dreamcatcher:{PASSWORD}@rabbit-2:5672//"


class Transport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    transport_url: Secret


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DC_TEST_TRANSPORT_URL", URL)
    return "DC_TEST_TRANSPORT_URL"


def test_three_forms(tmp_path: Path, env: str) -> None:
    secret_file = tmp_path / "transport_url"
    secret_file.write_text(URL + "\n")  # the trailing newline an editor leaves is stripped
    literal = Transport.model_validate({"transport_url": URL}).transport_url
    from_env = Transport.model_validate({"transport_url": {"env": env}}).transport_url
    from_file = Transport.model_validate({"transport_url": {"file": str(secret_file)}}
                                         ).transport_url
    assert literal.reveal() == from_env.reveal() == from_file.reveal() == URL
    assert (literal.source, from_env.source) == ("literal", f"env {env}")
    assert from_file.source == f"file {secret_file}"


def test_never_printed(env: str) -> None:
    model = Transport.model_validate({"transport_url": {"env": env}})
    for shown in (repr(model), str(model), str(model.transport_url), f"{model.transport_url}",
                  model.model_dump_json(), str(model.model_dump())):
        assert PASSWORD not in shown, shown
    assert "rabbit-1:5672" in str(model.transport_url)  # the host stays, for messages
    assert model.transport_url.host() == "rabbit-1"
    again = Transport.model_validate(model.model_dump())  # a Python dump round-trips
    assert again.transport_url.reveal() == URL


@pytest.mark.parametrize(("value", "shown"), [
    ("amqp://u:pw@h:5672//", "amqp://u:***@h:5672//"),
    ("redis://:pw@h:6379/0", "redis://:***@h:6379/***"),
    ("https://hooks.slack.com/services/T0/B0/XXXX", "https://hooks.slack.com/***"),
    ("https://hook.example?token=abc", "https://hook.example/***"),
    ("http://alertmanager:9093", "http://alertmanager:9093"),
    ("mmosts://mattermost.example.com/hooks/abc123", "mmosts://***"),
    ("plain-token", "***"),
    ("", ""),
])
def test_mask(value: str, shown: str) -> None:
    assert mask(value) == shown


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deploy.yaml"
    path.write_text(text)
    return path


def test_missing_variable_names_the_field(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DC_TEST_NOT_SET", raising=False)
    path = _config(tmp_path, "alerting:\n  sinks:\n"
                             "    - type: webhook\n      url: {env: DC_TEST_NOT_SET}\n")
    with pytest.raises(SourceError) as err:
        load_config(path)
    text = str(err.value)
    assert f"{path}:4" in text and "alerting.sinks[0].url" in text
    assert "environment variable DC_TEST_NOT_SET is not set" in text


def test_unreadable_file_names_the_field(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    path = _config(tmp_path, "remediation:\n  chat_urls:\n"
                             f"    - {{file: {missing}}}\n")
    with pytest.raises(SourceError) as err:
        load_config(path)
    text = str(err.value)
    assert "remediation.chat_urls[0]" in text
    assert f"cannot read secret file {missing}: No such file or directory" in text


def test_a_reference_of_the_wrong_shape(tmp_path: Path) -> None:
    path = _config(tmp_path, "alerting:\n  sinks:\n"
                             "    - type: webhook\n      url: {vault: x}\n")
    with pytest.raises(SourceError, match=r"a secret is a string, \{env: VARIABLE\}"):
        load_config(path)


def test_sinks_get_the_revealed_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DC_TEST_HOOK", "https://hooks.example/T/B/XYZ")
    token = tmp_path / "token"
    token.write_text("Bearer abc.def\n")
    os.chmod(token, 0o600)
    path = _config(tmp_path, "alerting:\n  sinks:\n"
                             "    - type: webhook\n      url: {env: DC_TEST_HOOK}\n"
                             "      options:\n        secret: {env: DC_TEST_HOOK}\n"
                             f"        headers: {{Authorization: {{file: {token}}}}}\n")
    config = load_config(path)
    assert "XYZ" not in repr(config) and "abc.def" not in repr(config)
    sink = build_sink(config.alerting.sinks[0])
    assert isinstance(sink, WebhookSink)
    assert sink.url == "https://hooks.example/T/B/XYZ"
    assert sink.secret == "https://hooks.example/T/B/XYZ"
    assert sink.headers["Authorization"] == "Bearer abc.def"


def test_remediation_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DC_TEST_OS_PASSWORD", PASSWORD)
    config = RemediationConfig.model_validate({
        "openstack": {"auth": {"username": "dc", "password": {"env": "DC_TEST_OS_PASSWORD"}}},
        "chat_urls": ["mmost://chat.example/hooktoken"]})
    assert config.openstack.auth["password"].reveal() == PASSWORD
    assert config.openstack.auth["username"] == SecretValue("dc")
    assert PASSWORD not in repr(config) and "hooktoken" not in repr(config)
