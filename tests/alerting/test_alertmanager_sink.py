"""The Alertmanager sink's own mechanics on a controlled clock: re-posts while a group
lives, its end after ``quiet`` without firings (folded ones keep it alive), a failed
re-post retried, the deployment's labels checked, ``generatorURL`` from a base.
What a real Alertmanager makes of it: tests/alerting/real_alertmanager/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.alerting.config import AlertingConfig
from adapters.alerting.notice import Notice
from adapters.alerting.sinks.alertmanager import AlertmanagerSink, generator_url
from tests.alerting.conftest import FiringFactory
from tests.live.proc import free_port
from tests.stand_in import Reply, StandIn


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _posts(stand_in: StandIn) -> list[list[dict[str, Any]]]:
    return [r.json() for r in stand_in.hits("POST", "/api/v2/alerts")]


def _sink(url: str, clock: Clock, **kw: Any) -> AlertmanagerSink:
    # the test drives ``tick`` by hand: the sink's own ticker is stopped at once
    sink = AlertmanagerSink(url, resend=10, quiet=30, clock=clock, **kw)
    sink._stop.set()
    return sink


def test_an_open_group_is_reposted_every_resend_and_ends_after_quiet(
        stand_in: StandIn, make_firing: FiringFactory) -> None:
    clock = Clock()
    sink = _sink(stand_in.base, clock)
    first = make_firing(0)
    sink.send(Notice("firing", first, first.group_key, first.time, 0, 1))
    clock.now += 5
    sink.tick()  # not due yet
    assert len(_posts(stand_in)) == 1
    clock.now += 5
    sink.tick()  # due: the same alert again, without an end
    posts = _posts(stand_in)
    assert len(posts) == 2 and posts[1] == posts[0] and "endsAt" not in posts[1][0]
    sink.seen(first.group_key, make_firing(1, offset_s=12))  # folded: still alive
    clock.now += 25  # 35 s after the notice, 25 after the folded firing
    sink.tick()
    assert "endsAt" not in _posts(stand_in)[-1][0]
    clock.now += 5  # 30 s after the last firing: over
    sink.tick()
    ended = _posts(stand_in)[-1]
    assert ended[0]["labels"] == posts[0][0]["labels"] and "endsAt" in ended[0]
    assert sink.stats() == {"open_groups": 0, "resent": 2, "expired": 1,
                            "resend_failures": 0, "history_not_sent": 0}
    clock.now += 100
    sink.tick()
    assert len(_posts(stand_in)) == 4  # nothing more for a group that ended
    sink.close()


def test_a_repeat_keeps_labels_and_start_and_a_resolve_ends_at_its_time(
        stand_in: StandIn, make_firing: FiringFactory) -> None:
    clock = Clock()
    sink = _sink(stand_in.base, clock)
    first = make_firing(0)
    key = first.group_key
    sink.send(Notice("firing", first, key, first.time, 0, 1))
    later = make_firing(1, offset_s=20, labels={**first.labels, "switch": "SW-9"})
    sink.send(Notice("repeat", later, key, first.time, 3, 5))
    end = make_firing(2, offset_s=40, resolves=True)
    sink.send(Notice("resolved", end, key, first.time, 0, 6))
    fire, repeat, resolve = (p[0] for p in _posts(stand_in))
    assert repeat["labels"] == fire["labels"] == resolve["labels"]  # one alert throughout
    assert repeat["startsAt"] == fire["startsAt"] == first.time.isoformat()
    assert repeat["annotations"]["folded"] == "3" and repeat["annotations"]["total"] == "5"
    assert resolve["endsAt"] == (first.time + timedelta(seconds=40)).isoformat()
    assert sink.stats()["open_groups"] == 0
    sink.close()


def test_a_failed_repost_is_counted_and_tried_at_the_next_tick(
        make_firing: FiringFactory) -> None:
    clock = Clock()
    stand_in = StandIn()
    stand_in.route("POST", "/", lambda _r: Reply(200, b""))
    sink = _sink(stand_in.base, clock, timeout=1.0)
    first = make_firing(0)
    sink.send(Notice("firing", first, first.group_key, first.time, 0, 1))
    stand_in.route("POST", "/", lambda _r: Reply(503, b"unavailable"))
    clock.now += 10
    sink.tick()
    assert sink.stats()["resend_failures"] == 1 and sink.stats()["open_groups"] == 1
    stand_in.route("POST", "/", lambda _r: Reply(200, b""))
    sink.tick()  # still due: tried again
    assert sink.stats()["resent"] == 1 and len(_posts(stand_in)) == 3
    sink.close()
    stand_in.close()


def test_outside_the_live_worker_nothing_is_posted(make_firing: FiringFactory) -> None:
    sink = AlertmanagerSink(f"http://127.0.0.1:{free_port()}", live=False)  # nothing listens
    first = make_firing(0)
    sink.send(Notice("firing", first, first.group_key, first.time, 0, 1))
    assert sink.stats()["history_not_sent"] == 1
    sink.close()


def test_deployment_labels_may_not_replace_the_sinks_own() -> None:
    with pytest.raises(ValidationError, match="severity"):
        AlertingConfig.model_validate({"labels": {"region": "eu", "severity": "low"}})
    with pytest.raises(ValueError, match="alertname"):
        AlertmanagerSink("http://127.0.0.1:1", labels={"alertname": "x"}, live=False)
    with pytest.raises(ValueError, match="resend"):
        AlertmanagerSink("http://127.0.0.1:1", resend="0s", live=False)


@pytest.mark.parametrize(("base", "url"), [
    ("", ""),
    ("https://dc.example/r/{rule}?g={group}", "https://dc.example/r/bpdu-guard-trip?g=bpdu%7Cfa%3A16"),
    ("https://dc.example/alerts", "https://dc.example/alerts?rule=bpdu-guard-trip&group=bpdu%7Cfa%3A16"),
    ("https://dc.example/a?x=1", "https://dc.example/a?x=1&rule=bpdu-guard-trip&group=bpdu%7Cfa%3A16"),
])
def test_generator_url_names_the_rule_and_group(base: str, url: str) -> None:
    assert generator_url(base, "bpdu-guard-trip", "bpdu|fa:16") == url
