"""Secrets in the deployment config: a literal, ``{env: NAME}`` or ``{file: PATH}``.

A broker password on the command line is visible to every user in ``ps``; in
the config file, the environment (systemd ``EnvironmentFile=``) or a file of
its own (``/run/credentials/...``) it is not. The value is read when the config
is validated, so a variable that is not set or a file that cannot be read is
one error naming the config field (pydantic gives the field, ``load_model`` the
file and line). It is held in a ``SecretValue`` that never prints: ``repr``,
``str`` and a JSON dump give a masked form (``amqp://user:***@host:5672//``);
only ``reveal()`` gives the value, at the one place that hands it to a client.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

_USERINFO = re.compile(r"(?P<lead>//|,)(?P<user>[^:@/,]*):[^@/]*@")
#: Schemes whose host is worth showing (the secret is in the userinfo, path or query);
#: any other URL (apprise ``slack://TOKEN/...``) may carry its secret anywhere.
_HOST_SCHEMES = frozenset({"http", "https", "amqp", "amqps", "rabbit", "kombu+amqp", "redis",
                           "rediss", "kafka"})


def mask(value: str) -> str:
    """A form of ``value`` fit for logs: the scheme and host of a URL, nothing secret.

    ``amqp://u:pw@h1:5672,u:pw@h2:5672//`` -> ``amqp://u:***@h1:5672,u:***@h2:5672//``;
    ``https://hooks.example/services/T/B/X`` -> ``https://hooks.example/***``;
    ``slack://TokenA/TokenB`` -> ``slack://***``; ``s3cr3t`` -> ``***``.
    """
    scheme, sep, rest = value.partition("://")
    if not sep:
        return "***" if value else ""
    if scheme.lower() not in _HOST_SCHEMES:
        return f"{scheme}://***"
    end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
    netloc, tail = rest[:end], rest[end:]
    netloc = _USERINFO.sub(lambda m: f"{m['lead']}{m['user']}:***@", "//" + netloc)[2:]
    return f"{scheme}://{netloc}{'/***' if tail.strip('/') else tail}"


class SecretValue:
    """A secret string that masks itself everywhere but ``reveal()``."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str = "literal") -> None:
        self._value = value
        self.source = source  # "literal", "env DC_AMQP_URL" or "file /run/...": for messages

    def reveal(self) -> str:
        return self._value

    def masked(self) -> str:
        return mask(self._value)

    def __str__(self) -> str:
        return self.masked()

    def __repr__(self) -> str:
        return f"SecretValue({self.masked()!r}, source={self.source!r})"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretValue) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def host(self) -> str | None:
        """The host of a URL secret (for messages such as "cannot reach HOST")."""
        try:
            return urlsplit(self._value.split(",", 1)[0]).hostname
        except ValueError:
            return None


def resolve(value: Any) -> SecretValue:
    """A config value in one of the three forms, read now; ``ValueError`` says what failed."""
    if isinstance(value, SecretValue):
        return value
    if isinstance(value, str):
        return SecretValue(value)
    if isinstance(value, dict) and len(value) == 1:
        (form, ref), = value.items()
        if form == "env" and isinstance(ref, str) and ref:
            if ref not in os.environ:
                raise ValueError(f"environment variable {ref} is not set")
            return SecretValue(os.environ[ref], f"env {ref}")
        if form == "file" and isinstance(ref, str) and ref:
            path = Path(ref).expanduser()
            try:
                return SecretValue(path.read_text(encoding="utf-8").strip(), f"file {path}")
            except (OSError, UnicodeDecodeError) as exc:
                why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                raise ValueError(f"cannot read secret file {path}: {why}") from None
    raise ValueError("a secret is a string, {env: VARIABLE} or {file: PATH}")


def is_reference(value: Any) -> bool:
    """``{env: X}`` or ``{file: P}``: a secret reference inside a free-form mapping."""
    if not (isinstance(value, dict) and len(value) == 1):
        return False
    (form, ref), = value.items()
    return form in ("env", "file") and isinstance(ref, str)


def resolve_nested(value: Any) -> Any:
    """``value`` with every reference in it (at any depth of dicts and lists) resolved to a
    ``SecretValue``: for sink ``options`` such as ``secret`` or ``headers.Authorization``."""
    if is_reference(value):
        return resolve(value)
    if isinstance(value, dict):
        return {k: resolve_nested(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_nested(v) for v in value]
    return value


def reveal_nested(value: Any) -> Any:
    """The inverse at the point of use: every ``SecretValue`` in ``value`` revealed."""
    if isinstance(value, SecretValue):
        return value.reveal()
    if isinstance(value, dict):
        return {k: reveal_nested(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal_nested(v) for v in value]
    return value


class _SecretSchema:
    """Pydantic hooks: validate through ``resolve``, dump masked."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any,
                                     handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            resolve,
            # JSON gets the masked form; a Python dump keeps the object (itself masked
            # when printed), so model_validate(model.model_dump()) round-trips
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda v: v.masked() if isinstance(v, SecretValue) else mask(str(v)),
                when_used="json"),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"anyOf": [
            {"type": "string"},
            {"type": "object", "properties": {"env": {"type": "string"}},
             "required": ["env"], "additionalProperties": False},
            {"type": "object", "properties": {"file": {"type": "string"}},
             "required": ["file"], "additionalProperties": False},
        ]}


#: The field type: ``transport_url: Secret``, ``url: Secret = SecretValue("")``.
Secret = Annotated[SecretValue, _SecretSchema]
