"""Errors of the notification path; each carries a reason fit for a dead-letter header."""

from __future__ import annotations


class NotificationError(ValueError):
    """Base: the message is rejected (dead-lettered) with ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DecodeError(NotificationError):
    """The body is not a notification at all (not JSON, bad envelope)."""


class NormalizationError(NotificationError):
    """The body decoded, but is not a usable notification (no event_type, bad time...)."""
