"""The Alertmanager sink against a real Alertmanager: what the receiver gets is what was meant.

Events go through the real engine (a rule as an operator writes it), the router and
the sink built from an ``alerting:`` config, into Debian's ``prometheus-alertmanager``,
whose webhook posts land in a real HTTP server here. Times are scaled down: seconds
where production has minutes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.alerting.config import AlertingConfig, build_router
from adapters.alerting.router import Router
from adapters.alerting.sinks.alertmanager import AlertmanagerSink
from engine.engine import Engine
from engine.events import Event
from engine.loader import load_rules
from tests.alerting.real_alertmanager.alertmanager import Notification, Timing
from tests.alerting.real_alertmanager.conftest import Start

#: an instance in ERROR, as a rule author writes it: no labels of its own
RULE = """\
rule: instance-error
severity: critical
when: {event: instance.state, where: {state: error}}
alert:
  title: "Instance {{ event.instance_id }} in ERROR on {{ event.host }}"
  text: "project {{ event.project_id }}: {{ event.reason }}"
  group_by: [event.instance_id]
  repeat: 2s
"""
RESOLVING = RULE + "resolve: {event: instance.state, where: {state: active}}\n"
GENERATOR = "https://dreamcatcher.example/rules/{rule}?group={group}"


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


class Pipeline:
    """Engine, router and Alertmanager sink, configured as a deployment would."""

    def __init__(self, tmp_path: Path, am_url: str, rule: str = RULE, *, live: bool = True,
                 labels: dict[str, str] | None = None, resend: str = "1s") -> None:
        path = tmp_path / f"rule-{uuid.uuid4().hex[:6]}.yaml"
        path.write_text(rule, encoding="utf-8")
        self.engine = Engine(load_rules(path), lateness=0.0)
        config = AlertingConfig.model_validate({
            "sinks": [{"type": "alertmanager", "url": am_url,
                       "options": {"resend": resend, "generator_url": GENERATOR}}],
            "labels": labels or {},
        })
        self.router: Router = build_router(config, live=live)
        self.sink = self.router._workers[0][0].sink
        assert isinstance(self.sink, AlertmanagerSink)
        self.times: list[datetime] = []
        self.closed = False

    def event(self, state: str, instance: str, host: str = "compute-1",
              reason: str = "libvirtError") -> list[str]:
        """One ``instance.state`` event at the wall clock's now; the firings' ids."""
        now = datetime.now(UTC)
        self.times.append(now)
        event = Event(id=uuid.uuid4().hex, type="instance.state", time=now, host=host,
                      instance_id=instance, project_id="p-7",
                      data={"state": state, "reason": reason})
        firings = self.engine.process(event)
        for firing in firings:
            self.router.submit(firing)
        return [f.id for f in firings]

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.router.close(timeout=5.0)


@pytest.fixture
def pipelines(tmp_path: Path) -> Any:
    made: list[Pipeline] = []

    def make(am_url: str, rule: str = RULE, **kw: Any) -> Pipeline:
        made.append(Pipeline(tmp_path, am_url, rule, **kw))
        return made[-1]

    yield make
    for pipeline in made:
        pipeline.close()


def of_status(status: str) -> Callable[[list[Notification]], int]:
    return lambda got: sum(1 for n in got for a in n.alerts if a["status"] == status)


def test_firing_arrives_with_the_labels_and_text_that_were_meant(
        start_alertmanager: Start, pipelines: Any) -> None:
    am, receiver = start_alertmanager()
    p = pipelines(am.url, labels={"region": "eu-west-1", "cloud": "prod-a"})
    [fid] = p.event("error", "inst-1", reason="<!channel> see https://evil.example")
    got = receiver.wait_for(lambda n: len(n) >= 1)
    assert len(got) == 1, got
    [alert] = got[0].alerts
    assert alert["status"] == "firing"
    assert alert["labels"] == {
        "alertname": "instance-error", "rule": "instance-error", "severity": "critical",
        "dreamcatcher_group": "instance-error|inst-1",
        # derived from the rule: what it groups on and what its text names
        "instance_id": "inst-1", "host": "compute-1", "project_id": "p-7",
        # the deployment's
        "region": "eu-west-1", "cloud": "prod-a",
    }
    assert alert["annotations"] == {
        "summary": "Instance inst-1 in ERROR on compute-1",
        "description": "project p-7: <\u200b!channel> see https[:]//evil.example",
        "firing_id": fid, "folded": "0", "total": "1",
    }
    assert alert["generatorURL"] == ("https://dreamcatcher.example/rules/instance-error"
                                     "?group=instance-error%7Cinst-1")
    assert when(alert["startsAt"]) == p.times[0]
    assert when(alert["endsAt"]).year == 1  # no end: it is firing
    [held] = am.alerts()
    assert held["status"]["state"] == "active" and held["labels"] == alert["labels"]


def test_a_repeat_updates_the_one_alert_and_a_resolve_ends_it_at_its_time(
        start_alertmanager: Start, pipelines: Any) -> None:
    am, receiver = start_alertmanager(Timing(repeat_interval="1s"))
    p = pipelines(am.url, RESOLVING)
    p.event("error", "inst-1")
    receiver.wait_for(lambda n: len(n) >= 1)
    for _ in range(3):  # still in ERROR: folded into the group, within the repeat (2s)
        time.sleep(0.5)
        p.event("error", "inst-1")
    time.sleep(max(0.0, 2.1 - (datetime.now(UTC) - p.times[0]).total_seconds()))
    [second] = p.event("error", "inst-1", reason="still broken")  # a repeat notice
    got = receiver.wait_for(
        lambda n: any(a["annotations"]["firing_id"] == second for x in n for a in x.alerts))
    repeats = [a for n in got for a in n.alerts if a["annotations"]["firing_id"] == second]
    assert repeats, got
    assert repeats[0]["annotations"]["total"] == "5"
    assert repeats[0]["annotations"]["folded"] == "3"
    assert repeats[0]["annotations"]["description"] == "project p-7: still broken"
    assert when(repeats[0]["startsAt"]) == p.times[0]  # the same alert, not a new one
    assert {a["fingerprint"] for n in got for a in n.alerts} == {got[0].alerts[0]["fingerprint"]}
    assert len(am.alerts()) == 1

    p.event("active", "inst-1")
    got = receiver.wait_for(lambda n: of_status("resolved")(n) >= 1)
    [resolved] = [a for n in got for a in n.alerts if a["status"] == "resolved"]
    assert when(resolved["endsAt"]) == p.times[-1]
    assert resolved["labels"] == got[0].alerts[0]["labels"]
    assert am.alerts() == []
    assert of_status("firing")(got) == len(got) - 1  # nothing fired after the resolve


def test_no_false_resolve_between_repeats(start_alertmanager: Start, pipelines: Any) -> None:
    """issue 17: ERROR every 9 s for 63 s, repeat 20 s, gave 3 firing and 3 resolved
    notifications, 2 of the resolves false. Here a tenth of that, with Alertmanager's
    resolve_timeout (3s) shorter than the incident: one firing, one resolve at the end."""
    am, receiver = start_alertmanager(Timing(resolve_timeout="3s"))
    p = pipelines(am.url)
    active: list[int] = []
    for _ in range(8):  # 0 .. 6.3 s
        p.event("error", "inst-1")
        active.append(len(am.alerts()))
        time.sleep(0.9)
    last = p.times[-1]
    assert of_status("resolved")(receiver.notifications()) == 0
    got = receiver.wait_for(lambda n: of_status("resolved")(n) >= 1, timeout=10)
    assert [n.statuses() for n in got] == [["firing"], ["resolved"]]
    assert active[1:] == [1] * 7  # held active all along (the first may not be there yet)
    ended = when(got[1].alerts[0]["endsAt"])
    assert ended >= last  # ended after it stopped firing, by the rule's repeat of quiet
    assert p.sink.expired == 1 and p.sink.resent >= 3


def test_grouping_by_the_derived_host_label(start_alertmanager: Start, pipelines: Any) -> None:
    am, receiver = start_alertmanager(Timing(group_by=["host"], group_wait="1s"))
    p = pipelines(am.url)
    p.event("error", "inst-1", host="compute-1")
    p.event("error", "inst-2", host="compute-1")
    p.event("error", "inst-3", host="compute-2")
    got = receiver.wait_for(lambda n: sum(len(x.alerts) for x in n) >= 3)
    by_group = {n.group_labels["host"]: sorted(a["labels"]["instance_id"] for a in n.alerts)
                for n in got}
    assert by_group == {"compute-1": ["inst-1", "inst-2"], "compute-2": ["inst-3"]}
    assert len(got) == 2


def test_a_silence_added_with_amtool_holds_back_that_alert_only(
        start_alertmanager: Start, pipelines: Any) -> None:
    am, receiver = start_alertmanager()
    silence_id = am.run_amtool("silence", "add", "instance_id=inst-1", "--duration=1h",
                               "--author=test", "--comment=maintenance").strip()
    p = pipelines(am.url)
    p.event("error", "inst-1")
    p.event("error", "inst-2")
    got = receiver.wait_for(lambda n: len(n) >= 1)
    time.sleep(1.0)  # group_wait and an interval more: a silenced alert would be here
    got = receiver.notifications()
    assert [a["labels"]["instance_id"] for n in got for a in n.alerts] == ["inst-2"]
    held = {a["labels"]["instance_id"]: a["status"] for a in am.alerts()}
    assert held["inst-1"]["state"] == "suppressed"
    assert held["inst-1"]["silencedBy"] == [silence_id]
    assert held["inst-2"]["state"] == "active"


def test_a_replay_is_history_and_not_posted(start_alertmanager: Start, pipelines: Any) -> None:
    """The choice (docs/actions.md, "Alertmanager"): outside the live worker the
    Alertmanager sink posts nothing, so yesterday's incidents page no one today."""
    am, receiver = start_alertmanager()
    p = pipelines(am.url, live=False)
    p.event("error", "inst-1")
    p.event("error", "inst-2")
    p.close()
    time.sleep(1.0)
    assert receiver.notifications() == []
    assert am.alerts() == []
    assert p.sink.history_not_sent == 2
    assert p.router.stats()["sinks"]["alertmanager"]["history_not_sent"] == 2
