"""The deployment's remediation section: which hooks may enforce, limits, timeouts, credentials."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from adapters.alerting.durations import parse_duration
from adapters.remediation.shapes import DEFAULT_VALUE_PATTERN, PLACEHOLDER, Shape
from adapters.secrets import Secret


class RateLimit(BaseModel):
    """At most ``count`` actions per ``per`` seconds; written ``"3/1h"`` in config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int = Field(ge=0)
    per: float = Field(gt=0)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            count, sep, per = value.partition("/")
            if not sep:
                raise ValueError(f"rate limit {value!r}: write it as COUNT/DURATION, e.g. 3/1h")
            return {"count": int(count), "per": parse_duration(per)}
        return value


class HookSettings(BaseModel):
    """Per-hook overrides of the defaults."""

    model_config = ConfigDict(extra="forbid")

    timeout: float | None = None
    per_hook: RateLimit | None = None
    per_target: RateLimit | None = None

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)


class OpenStackSettings(BaseModel):
    """How hooks reach the cloud: a clouds.yaml entry, or explicit auth."""

    model_config = ConfigDict(extra="forbid")

    cloud: str | None = None
    auth_type: str = "password"
    auth: dict[str, Secret] = Field(default_factory=dict)  # password: {env: OS_PASSWORD}
    region_name: str | None = None
    interface: str | None = None
    verify: bool = True


class CommandSpec(BaseModel):
    """An allowed external command: a fixed argument list with ``{name}`` placeholders.

    Values for placeholders come from the rule and must have the shape declared
    in ``placeholders`` (``{host: hostname, port: uuid}``; ``shapes.SHAPES``) or,
    undeclared, match ``value_pattern`` in full; none may start with '-' (no
    smuggled options). No shell is used.
    """

    model_config = ConfigDict(extra="forbid")

    argv: list[str] = Field(min_length=1)
    value_pattern: str = DEFAULT_VALUE_PATTERN
    placeholders: dict[str, Shape] = Field(default_factory=dict)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None

    @field_validator("value_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"value_pattern is not a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _declared_are_used(self) -> CommandSpec:
        used = {m.group(1) for part in self.argv for m in PLACEHOLDER.finditer(part)}
        unknown = sorted(set(self.placeholders) - used)
        if unknown:
            raise ValueError(f"placeholders {unknown} do not appear in argv "
                             f"(its placeholders: {sorted(used)})")
        return self


class RemediationConfig(BaseModel):
    """Dry-run everything unless the hook is listed in ``enforce`` (and the rule says enforce)."""

    model_config = ConfigDict(extra="forbid")

    enforce: list[str] = Field(default_factory=list)
    default_timeout: float = 30.0
    per_hook: RateLimit = RateLimit(count=10, per=3600)
    per_target: RateLimit = RateLimit(count=1, per=3600)
    hooks: dict[str, HookSettings] = Field(default_factory=dict)
    openstack: OpenStackSettings = Field(default_factory=lambda: OpenStackSettings())
    chat_urls: list[Secret] = Field(default_factory=list)
    commands: dict[str, CommandSpec] = Field(default_factory=dict)
    options: dict[str, dict[str, Any]] = Field(default_factory=dict)  # for site hooks

    @field_validator("default_timeout", mode="before")
    @classmethod
    def _timeout(cls, value: Any) -> Any:
        return parse_duration(value)

    def timeout_for(self, hook: str) -> float:
        settings = self.hooks.get(hook)
        return settings.timeout if settings and settings.timeout else self.default_timeout

    def limits_for(self, hook: str) -> tuple[RateLimit, RateLimit]:
        settings = self.hooks.get(hook) or HookSettings()
        return settings.per_hook or self.per_hook, settings.per_target or self.per_target
