"""Find hooks: the shipped ones plus whatever a site installed under ``dreamcatcher.hooks``.

Shipped hooks are also declared as entry points in setup.cfg; they are known
here too so they work before the package metadata is (re)installed. A site
package registering the same name replaces the shipped hook.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

import structlog

from adapters.remediation.config import RemediationConfig
from adapters.remediation.hooks.base import Hook
from adapters.remediation.hooks.chat import ChatComment
from adapters.remediation.hooks.command import CommandRun
from adapters.remediation.hooks.openstack import InstanceLockStop, PortDisable

GROUP = "dreamcatcher.hooks"
HookFactory = Callable[[RemediationConfig], Hook]
SHIPPED: dict[str, HookFactory] = {
    "port.disable": PortDisable,
    "instance.lock_stop": InstanceLockStop,
    "chat.comment": ChatComment,
    "command.run": CommandRun,
}

log = structlog.get_logger(__name__)


def discover_hooks() -> tuple[dict[str, HookFactory], dict[str, str]]:
    """(hooks by name, load errors by name): a broken plugin is reported, not fatal."""
    hooks: dict[str, HookFactory] = dict(SHIPPED)
    errors: dict[str, str] = {}
    for ep in entry_points(group=GROUP):
        try:
            factory = ep.load()
        except Exception as exc:  # a site plugin's import error must not stop the engine
            errors[ep.name] = f"{ep.value}: {type(exc).__name__}: {exc}"
            log.error("hook failed to load", hook=ep.name, error=errors[ep.name])
            continue
        if not callable(factory):
            errors[ep.name] = f"{ep.value} is not callable"
            continue
        hooks[ep.name] = factory
    return hooks, errors
