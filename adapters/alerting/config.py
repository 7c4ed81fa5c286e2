"""The deployment's alerting section: sinks by type and URL, repeat, silences, dead letters."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from adapters.alerting.delivery import RetryPolicy
from adapters.alerting.durations import parse_duration
from adapters.alerting.router import Router
from adapters.alerting.silences import SilenceFile
from adapters.alerting.sinks.alertmanager import RESERVED_LABELS, AlertmanagerSink, label_name
from adapters.alerting.sinks.base import Sink
from adapters.alerting.sinks.chat import ChatSink
from adapters.alerting.sinks.jsonl import JsonLinesSink
from adapters.alerting.sinks.terminal import TerminalSink
from adapters.alerting.sinks.webhook import WebhookSink
from adapters.alerting.storm import StormConfig, StormThrottle
from adapters.secrets import Secret, SecretValue, resolve_nested, reveal_nested
from engine.firing import Severity

SinkType = Literal["chat", "alertmanager", "webhook", "jsonl", "terminal"]
URL_REQUIRED = ("chat", "alertmanager", "webhook")


def _seconds(value: Any) -> float:
    return parse_duration(value)


class SinkConfig(BaseModel):
    """One sink. ``url``: apprise URL (chat), Alertmanager base URL, webhook URL, or a
    file path / ``-`` (jsonl). ``options`` are passed to the sink (see docs/actions.md).
    The url and any option value may be a secret reference, ``{env: NAME}`` or
    ``{file: PATH}`` (``adapters.secrets``), revealed only when the sink is built."""

    model_config = ConfigDict(extra="forbid")

    type: SinkType
    name: str = ""
    url: Secret = Field(default=SecretValue(""), validate_default=True)
    min_severity: Severity = "info"
    timeout: float = 10.0
    options: dict[str, Any] = Field(default_factory=dict)

    _check_timeout = field_validator("timeout", mode="before")(_seconds)
    _resolve_options = field_validator("options", mode="before")(resolve_nested)

    @field_validator("url")
    @classmethod
    def _url_where_needed(cls, url: SecretValue, info: ValidationInfo) -> SecretValue:
        """Refused when the file is read (with its line), not when the first alert goes."""
        kind = info.data.get("type")
        if kind in URL_REQUIRED and not url:
            raise ValueError(f"a {kind} sink needs a url")
        return url

    def label(self) -> str:
        return self.name or self.type


class RetryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attempts: int = Field(default=5, ge=1)
    initial: float = 0.5
    factor: float = Field(default=2.0, ge=1.0)
    maximum: float = 30.0

    _check = field_validator("initial", "maximum", mode="before")(_seconds)


class AlertingConfig(BaseModel):
    """Defaults give the embedded setup: alerts on the terminal, nothing else."""

    model_config = ConfigDict(extra="forbid")

    sinks: list[SinkConfig] = Field(default_factory=lambda: [SinkConfig(type="terminal")])
    default_repeat: float = 4 * 3600
    silences_path: Path | None = None
    dead_letter_path: Path | None = None
    queue_size: int = Field(default=1000, ge=1)
    #: how long a burst may wait for room in a full sink queue before the notice is
    #: dead-lettered; default: not at all in replay, 10s in the live worker
    queue_wait: float | None = None
    retry: RetryConfig = Field(default_factory=lambda: RetryConfig())
    #: deployment-wide labels on every Alertmanager alert (``region``, ``cloud``)
    labels: dict[str, str] = Field(default_factory=dict)
    #: notices per rule and in all per period across groups; the rest folded
    storm: StormConfig = Field(default_factory=lambda: StormConfig())

    _check_repeat = field_validator("default_repeat", mode="before")(_seconds)

    @field_validator("labels")
    @classmethod
    def _own_labels(cls, labels: dict[str, str]) -> dict[str, str]:
        """Refused when the file is read: the sink's own labels cannot be overridden."""
        clash = sorted({label_name(k) for k in labels} & set(RESERVED_LABELS))
        if clash:
            raise ValueError(f"labels may not set {clash}: dreamcatcher sets them")
        return labels

    @field_validator("queue_wait", mode="before")
    @classmethod
    def _wait(cls, value: Any) -> Any:
        return None if value is None else _seconds(value)

    @field_validator("sinks")
    @classmethod
    def _unique_names(cls, sinks: list[SinkConfig]) -> list[SinkConfig]:
        names = [s.label() for s in sinks]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"sink names must be unique; give each a name: {sorted(dupes)}")
        return sinks


def build_sink(cfg: SinkConfig, *, live: bool = True,
               labels: dict[str, str] | None = None) -> Sink:
    """Instantiate one configured sink; raises ValueError on a bad URL or option.
    ``live``: the live worker's (an Alertmanager sink posts only then); ``labels``:
    the deployment's, for Alertmanager."""
    opts = reveal_nested(dict(cfg.options))
    url = cfg.url.reveal()
    name = cfg.label()
    if cfg.type in URL_REQUIRED and not cfg.url:
        raise ValueError(f"sink {name}: url is required for type {cfg.type}")
    try:
        if cfg.type == "chat":
            return ChatSink(url, name=name, timeout=cfg.timeout, **opts)
        if cfg.type == "alertmanager":
            return AlertmanagerSink(url, name=name, timeout=cfg.timeout, live=live,
                                    labels=labels, **opts)
        if cfg.type == "webhook":
            return WebhookSink(url, name=name, timeout=cfg.timeout, **opts)
        if cfg.type == "jsonl":
            return JsonLinesSink(url or "-", name=name, **opts)
        return TerminalSink(name=name, **opts)
    except TypeError as exc:  # unknown option keyword
        raise ValueError(f"sink {name}: bad option: {exc}") from exc


def build_router(config: AlertingConfig, *, live: bool = False) -> Router:
    """The router with every configured sink started."""
    sinks = [build_sink(s, live=live, labels=config.labels) for s in config.sinks]
    retry = RetryPolicy(config.retry.attempts, config.retry.initial, config.retry.factor,
                        config.retry.maximum)
    return Router(
        sinks,
        silences=SilenceFile(config.silences_path),
        default_repeat=config.default_repeat,
        dead_letter_path=config.dead_letter_path,
        queue_size=config.queue_size,
        retry=retry,
        min_severity={s.label(): s.min_severity for s in config.sinks},
        offer_wait=config.queue_wait if config.queue_wait is not None else (
            10.0 if live else 0.0),
        storm=StormThrottle(config.storm),
    )
