"""The demo's bad day through a live worker into a real Alertmanager: one notification
per incident at the receiver, and none resolved while the worker runs, though the
day lasts many times Alertmanager's ``resolve_timeout``."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from tests.alerting.real_alertmanager.alertmanager import Timing
from tests.alerting.real_alertmanager.conftest import Start
from tests.live.test_demo_live import EXPECTED, _last_events, _run_day
from tests.paths import REPO

RESOLVE_TIMEOUT = 3.0


@pytest.mark.rabbitmq
def test_the_bad_day_gives_one_notification_per_incident_and_no_false_resolve(
        tmp_path: Path, vhost_url: str, start_alertmanager: Start) -> None:
    am, receiver = start_alertmanager(Timing(group_by=["alertname", "host"],
                                             resolve_timeout=f"{RESOLVE_TIMEOUT:g}s"))
    want = sorted(a["title"] for a in orjson.loads(EXPECTED.read_bytes()))
    seen: dict[str, object] = {}

    def while_running() -> None:
        receiver.wait_for(lambda n: sum(len(x.alerts) for x in n) >= len(want), timeout=30)
        time.sleep(RESOLVE_TIMEOUT + 1.5)  # a missed re-post would be a resolve by now
        seen["notifications"] = receiver.notifications()
        seen["active"] = am.alerts()

    _last_events.clear()
    _run_day("bad-day", tmp_path, vhost_url, before_stop=while_running, sinks=[
        {"type": "alertmanager", "url": am.url, "options": {"resend": "1s"}}])
    notifications = seen["notifications"]
    assert isinstance(notifications, list)
    alerts = [a for n in notifications for a in n.alerts]
    assert sorted(a["annotations"]["summary"] for a in alerts) == want
    assert [n.statuses() for n in notifications] == [["firing"]] * len(want)
    assert len({a["fingerprint"] for a in alerts}) == len(want)
    # issue 17: grouped by host, 5 of 7 were in the empty group; now only the one alert
    # whose text names no host (console-log-flood: "on its host")
    hostless = [a["labels"]["rule"] for n in notifications if not n.group_labels.get("host")
                for a in n.alerts]
    assert hostless == ["console-log-flood"]
    active = seen["active"]
    assert isinstance(active, list) and len(active) == len(want)


def test_demo_with_a_config_says_its_alerts_were_not_posted(
        tmp_path: Path, start_alertmanager: Start) -> None:
    """issue 17: ``demo --config`` posted 9 alerts (HTTP 200) and Alertmanager showed 0
    active. A replay is history: nothing is posted, and the summary says so."""
    am, receiver = start_alertmanager()
    config = tmp_path / "deploy.yaml"
    config.write_text(f"alerting:\n  sinks:\n    - {{type: alertmanager, url: '{am.url}'}}\n"
                      f"    - {{type: jsonl, url: '{tmp_path / 'alerts.jsonl'}'}}\n")
    done = subprocess.run([sys.executable, "-m", "dreamcatcher.cli", "demo", "--config",
                           str(config)], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "9 notices not posted to Alertmanager (a replay is history)" in done.stderr
    assert len((tmp_path / "alerts.jsonl").read_text().splitlines()) == 9
    time.sleep(0.5)
    assert am.alerts() == [] and receiver.notifications() == []
