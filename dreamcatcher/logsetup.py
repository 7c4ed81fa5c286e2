"""Structured logs: structlog for our own lines, stdlib ``logging`` routed through it.

One handler on the root logger renders both kinds (kombu's, redis's and our
``logging.getLogger`` lines as well as ``structlog.get_logger`` ones) with the
same processors, so a JSON line always has ``timestamp``, ``level``, ``logger``
and ``event`` whichever API wrote it. ``json`` is for a service whose journal
is shipped somewhere; ``console`` for a person at a terminal.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO

import structlog
from pydantic import BaseModel, ConfigDict
from structlog.typing import Processor

Level = Literal["debug", "info", "warning", "error", "critical"]


class LoggingConfig(BaseModel):
    """``logging: {format: json|console, level: info}``."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["json", "console"] = "console"
    level: Level = "info"


class _OurHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module installs, so configuring twice replaces it."""


def _shared() -> list[Processor]:
    """What every line gets, before rendering (structlog and stdlib lines alike)."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def configure_logging(config: LoggingConfig, stream: TextIO | None = None) -> None:
    """Install the one root handler on ``stream`` (stderr: the journal) at the level."""
    level = getattr(logging, config.level.upper())
    renderer: Processor
    if config.format == "json":
        renderer = structlog.processors.JSONRenderer()
        tail: list[Processor] = [structlog.processors.dict_tracebacks, renderer]
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=(stream or sys.stderr).isatty())
        tail = [renderer]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = _OurHandler(stream or sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail],
    ))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _OurHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
