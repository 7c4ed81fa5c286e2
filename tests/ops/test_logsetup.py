"""Structured logs: structlog and stdlib lines rendered alike, JSON or console, by level."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import structlog
from pydantic import ValidationError

from dreamcatcher.logsetup import LoggingConfig, configure_logging


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def _json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines()]


def test_json_from_both_apis() -> None:
    out = io.StringIO()
    configure_logging(LoggingConfig(format="json", level="info"), out)
    structlog.get_logger("dreamcatcher.worker").info("batch acked", messages=200, queue="dc")
    logging.getLogger("kombu.connection").warning("reconnecting in %d s", 2)
    logging.getLogger("x").debug("below the level")
    structlog.get_logger("x").debug("below the level too")
    first, second = _json_lines(out)
    assert first["event"] == "batch acked" and first["messages"] == 200
    assert first["level"] == "info" and first["logger"] == "dreamcatcher.worker"
    assert first["timestamp"].endswith("Z")
    assert second["event"] == "reconnecting in 2 s"
    assert second["level"] == "warning" and second["logger"] == "kombu.connection"


def test_exceptions_are_kept_as_data() -> None:
    out = io.StringIO()
    configure_logging(LoggingConfig(format="json"), out)
    try:
        raise ValueError("bad payload")
    except ValueError:
        logging.getLogger("adapters.amqp").exception("handler failed on %s", "msg-1")
    [line] = _json_lines(out)
    assert line["event"] == "handler failed on msg-1"
    assert line["exception"][0]["exc_type"] == "ValueError"
    assert line["exception"][0]["exc_value"] == "bad payload"


def test_console_and_level() -> None:
    out = io.StringIO()
    configure_logging(LoggingConfig(format="console", level="debug"), out)
    structlog.get_logger("w").debug("clock advanced", watermark="10:15:00")
    logging.getLogger("w").info("stdlib line")
    text = out.getvalue()
    assert "clock advanced" in text and "watermark=10:15:00" in text
    assert "stdlib line" in text and not text.lstrip().startswith("{")


def test_configuring_twice_keeps_one_handler() -> None:
    out = io.StringIO()
    configure_logging(LoggingConfig(format="json"), io.StringIO())
    configure_logging(LoggingConfig(format="json", level="error"), out)
    logging.getLogger("w").warning("not shown")
    logging.getLogger("w").error("shown")
    assert [line["event"] for line in _json_lines(out)] == ["shown"]


def test_config_is_strict() -> None:
    with pytest.raises(ValidationError):
        LoggingConfig.model_validate({"format": "xml"})
    with pytest.raises(ValidationError):
        LoggingConfig.model_validate({"level": "verbose"})
