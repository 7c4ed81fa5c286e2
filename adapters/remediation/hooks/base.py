"""The hook contract: validate the rule's arguments, name the target, describe, and run."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from adapters.remediation.config import RemediationConfig


class HookError(Exception):
    """The hook ran and failed (the cloud said no, the command exited non-zero)."""


class InvalidArgs(ValueError):
    """The rule's arguments are missing or not acceptable; nothing was attempted."""


_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")


def require_id(args: dict[str, Any], key: str) -> str:
    """An OpenStack resource id from ``args[key]`` (UUID-like; nothing else gets through)."""
    value = args.get(key)
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidArgs(f"{key} must be a resource id, got {value!r}")
    return value


class Hook(ABC):
    """A named remediation. The entry point in group ``dreamcatcher.hooks`` is the class.

    It is built once with the deployment's RemediationConfig. ``run`` is only
    called when both the rule and the deployment asked to enforce; it must
    finish within ``timeout`` seconds (the caller also stops waiting then).
    """

    name: ClassVar[str]

    def __init__(self, config: RemediationConfig) -> None:
        self.config = config

    @abstractmethod
    def validate(self, args: dict[str, Any]) -> dict[str, Any]:
        """The cleaned arguments; raise InvalidArgs."""

    @abstractmethod
    def target(self, args: dict[str, Any]) -> str:
        """What is acted on (``port:<id>``): the per-target rate-limit key."""

    @abstractmethod
    def describe(self, args: dict[str, Any]) -> str:
        """What ``run`` would do, in words: the dry-run result."""

    @abstractmethod
    def run(self, args: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Do it; return what happened; raise HookError on failure."""
