"""Remediation out: named hooks (entry points), dry-run by default, rate-limited and audited."""

from adapters.remediation.audit import AuditLog, AuditRecord
from adapters.remediation.config import CommandSpec, RateLimit, RemediationConfig
from adapters.remediation.hooks.base import Hook, HookError, InvalidArgs
from adapters.remediation.registry import GROUP, SHIPPED, discover_hooks
from adapters.remediation.remediator import Remediator

__all__ = [
    "GROUP",
    "SHIPPED",
    "AuditLog",
    "AuditRecord",
    "CommandSpec",
    "Hook",
    "HookError",
    "InvalidArgs",
    "RateLimit",
    "RemediationConfig",
    "Remediator",
    "discover_hooks",
]
