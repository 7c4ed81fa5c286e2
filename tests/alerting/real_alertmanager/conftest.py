"""Fixtures: ``start_alertmanager(timing)`` gives a running real Alertmanager and its
receiver, both stopped after the test; ``amtool`` is Alertmanager's own client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.alerting.real_alertmanager.alertmanager import RealAlertmanager, Receiver, Timing
from tests.conftest import require_tool

Start = Callable[..., tuple[RealAlertmanager, Receiver]]


@pytest.fixture
def start_alertmanager(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Start]:
    binary = require_tool("prometheus-alertmanager")
    amtool = require_tool("amtool")
    started: list[tuple[RealAlertmanager, Receiver]] = []

    def start(timing: Timing | None = None) -> tuple[RealAlertmanager, Receiver]:
        receiver = Receiver()
        try:
            am = RealAlertmanager(binary, amtool, tmp_path / f"am{len(started)}", receiver,
                                  timing or Timing())
        except BaseException:
            receiver.close()
            raise
        started.append((am, receiver))
        return am, receiver

    yield start
    failed = getattr(request.node, "rep_call", None)
    for am, receiver in started:
        am.stop()
        receiver.close()
        if failed is not None and failed.failed:
            print(f"alertmanager log ({am.log}):\n{am.log_tail()}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """The call's report on the item, so a failed test's teardown can print the log tail."""
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
