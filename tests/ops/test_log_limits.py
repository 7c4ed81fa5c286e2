"""Issue 19: the log bounds are configured in ``sources`` and counted in ``/metrics``."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from adapters.deadletter import DeadLetters
from adapters.logs import UnparsedStats, parse_lines
from adapters.logs.stats import LINE_CUT
from dreamcatcher.intake import Intake
from dreamcatcher.metrics import Metrics
from dreamcatcher.sourceconfig import SourcesConfig
from dreamcatcher.sources import SyslogIntake, build_sources
from dreamcatcher.telemetry import WorkerTelemetry
from tests.ops.scrape import value


def test_cut_lines_are_exported_by_source_and_reason() -> None:
    stats, metrics = UnparsedStats(), Metrics()
    telemetry = WorkerTelemetry(metrics, Intake(), lambda: None, stats)  # type: ignore[arg-type, return-value]
    lines = ["Feb 15 01:40:18 SW-1 Stp: %X-4-Y: " + "x" * 2000] * 3
    list(parse_lines(lines, "syslog:10.0.0.1", "switch", stats=stats, max_line=1024))
    telemetry.sync()
    telemetry.sync()  # growth, not totals, is added
    text = metrics.render().decode()
    assert value(text, "dreamcatcher_log_input_limited_total", source="syslog:10.0.0.1",
                 reason=LINE_CUT) == 3


def test_the_knobs_default_and_reach_the_sources() -> None:
    assert SourcesConfig().max_line == 65536
    conf = SourcesConfig.model_validate({"max_line": 4096, "syslog": [
        {"port": 0, "protocols": ["tcp"], "max_connections": 8}]})
    intake = Intake()
    (source,) = build_sources(conf, intake, dead=DeadLetters(None), stats=UnparsedStats(),
                              idle=1.0)
    assert isinstance(source, SyslogIntake)
    try:
        assert (source.server.max_message, source.server.max_connections) == (4096, 8)
    finally:
        source.server.stop()


@pytest.mark.parametrize("bad", [{"max_line": 10}, {"syslog": [{"max_connections": 0}]}])
def test_absurd_bounds_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SourcesConfig.model_validate(bad)
