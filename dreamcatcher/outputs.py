"""Where firings go: the printer (no config) or the alert router plus remediation."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import orjson

from adapters.alerting.config import build_router
from adapters.remediation import Remediator
from dreamcatcher.config import load_config
from dreamcatcher.render import format_firing
from engine.firing import Firing

FiringHandler = Callable[[Firing], None]


def printer(fmt: str) -> FiringHandler:
    """Alerts on stdout: readable text, or one JSON object per alert."""

    def show(firing: Firing) -> None:
        if fmt == "json":
            sys.stdout.write(orjson.dumps(firing.summary_json()).decode() + "\n")
        else:
            sys.stdout.write(format_firing(firing, color=sys.stdout.isatty()) + "\n")
        sys.stdout.flush()

    return show


def build_outputs(config_path: Path | None, fmt: str) -> tuple[FiringHandler, Callable[[], None]]:
    """The firing handler and the function that drains it at exit."""
    if config_path is None:
        return printer(fmt), lambda: None
    config = load_config(config_path)
    router = build_router(config.alerting)
    remediator = Remediator(config.remediation, config.audit_log)

    def handle(firing: Firing) -> None:
        router.submit(firing)
        if firing.actions:
            remediator.handle(firing)

    return handle, lambda: router.close(timeout=10.0)
