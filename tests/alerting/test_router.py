"""The router against a real local HTTP server standing in for Mattermost (through apprise)."""

from __future__ import annotations

import socket
import time
from datetime import timedelta
from pathlib import Path

import orjson

from adapters.alerting import RetryPolicy, Router, Silence, SilenceFile
from adapters.alerting.sinks.chat import ChatSink
from adapters.alerting.sinks.webhook import WebhookSink
from tests.alerting.conftest import FiringFactory
from tests.stand_in import Reply, StandIn, sequence

FAST = RetryPolicy(attempts=3, initial=0.01, factor=2.0, maximum=0.05)


def chat(server: StandIn, name: str = "chat", timeout: float = 5.0) -> ChatSink:
    return ChatSink(f"mmost://127.0.0.1:{server.port}/{name}token", name=name, timeout=timeout)


def posts(server: StandIn, name: str = "chat") -> list[str]:
    return [r.json()["text"] for r in server.hits("POST", f"/hooks/{name}token")]


def test_one_message_per_group_and_repeats_suppressed(
    stand_in: StandIn, make_firing: FiringFactory
) -> None:
    router = Router([chat(stand_in)], retry=FAST)
    for n in range(200):  # 200 firings of one incident within its 1h repeat interval
        router.submit(make_firing(n, offset_s=n * 10))
    router.close(5)
    texts = posts(stand_in)
    assert len(texts) == 1
    assert "CRITICAL" in texts[0] and "SW-1" in texts[0]
    stats = router.stats()
    assert stats["notified"] == 1 and stats["suppressed"] == 199
    assert stats["sinks"]["chat"]["sent"] == 1


def test_repeat_after_interval_counts_folded_firings(
    stand_in: StandIn, make_firing: FiringFactory
) -> None:
    router = Router([chat(stand_in)], retry=FAST)
    router.submit(make_firing(0))
    for n in range(1, 6):
        router.submit(make_firing(n, offset_s=60 * n))
    router.submit(make_firing(99, offset_s=3600))  # exactly one repeat interval later
    router.close(5)
    texts = posts(stand_in)
    assert len(texts) == 2
    assert "(repeat)" in texts[1] and "5 more firings since the last notice" in texts[1]


def test_groups_are_separate_and_redelivery_is_not_resent(
    stand_in: StandIn, make_firing: FiringFactory
) -> None:
    router = Router([chat(stand_in)], retry=FAST)
    first = make_firing(0)
    router.submit(first)
    router.submit(first)  # redelivered: same id
    other = make_firing(1, group_key="bpdu-guard-trip|switch=SW-2",
                        labels={"rule": "bpdu-guard-trip", "switch": "SW-2"})
    router.submit(other)
    router.close(5)
    assert len(posts(stand_in)) == 2
    assert router.stats()["duplicate"] == 1


def test_default_repeat_applies_when_rule_gives_none(
    stand_in: StandIn, make_firing: FiringFactory
) -> None:
    router = Router([chat(stand_in)], default_repeat=600, retry=FAST)
    router.submit(make_firing(0, repeat_seconds=None))
    router.submit(make_firing(1, offset_s=599, repeat_seconds=None))
    router.submit(make_firing(2, offset_s=600, repeat_seconds=None))
    router.close(5)
    assert len(posts(stand_in)) == 2


def test_resolve_sent_only_for_notified_group(
    stand_in: StandIn, make_firing: FiringFactory
) -> None:
    router = Router([chat(stand_in)], retry=FAST)
    router.submit(make_firing(0))
    router.submit(make_firing(1, offset_s=5))
    router.submit(make_firing(2, offset_s=900, resolves=True, title="SW-1 link back up"))
    # a resolve for a group nobody was told about says nothing
    router.submit(make_firing(3, offset_s=901, resolves=True, group_key="never-opened"))
    router.close(5)
    texts = posts(stand_in)
    assert len(texts) == 2
    assert texts[1].startswith("[RESOLVED]")
    assert router.stats()["resolve_without_group"] == 1
    assert router.stats()["open_groups"] == 0


def test_silence_by_rule_and_label_with_expiry(
    tmp_path: Path, stand_in: StandIn, make_firing: FiringFactory
) -> None:
    t0 = make_firing(0).time
    silences = SilenceFile(tmp_path / "silences.json", poll=0.0)
    silences.add(Silence(rule="bpdu-*", labels={"switch": "SW-1"}, starts_at=t0,
                         ends_at=t0 + timedelta(hours=2), comment="maintenance"))
    router = Router([chat(stand_in)], silences=silences, retry=FAST)
    router.submit(make_firing(0))  # silenced
    router.submit(make_firing(1, offset_s=3600))  # still silenced
    other = make_firing(2, offset_s=10, group_key="g2",
                        labels={"rule": "bpdu-guard-trip", "switch": "SW-2"})
    router.submit(other)  # label differs: not silenced
    router.submit(make_firing(3, offset_s=7200))  # silence has expired
    router.close(5)
    texts = posts(stand_in)
    assert len(texts) == 2
    assert "SW-2" in texts[0]
    assert router.stats()["silenced"] == 2


def test_silence_added_later_is_picked_up(
    tmp_path: Path, stand_in: StandIn, make_firing: FiringFactory
) -> None:
    path = tmp_path / "silences.json"
    router = Router([chat(stand_in)], silences=SilenceFile(path, poll=0.0), retry=FAST)
    router.submit(make_firing(0))
    t0 = make_firing(0).time
    SilenceFile(path).add(Silence(rule="bpdu-guard-trip", starts_at=t0,
                                  ends_at=t0 + timedelta(days=1)))
    time.sleep(0.01)  # distinct mtime
    router.submit(make_firing(1, offset_s=7200, group_key="g-late"))
    router.close(5)
    assert len(posts(stand_in)) == 1


def test_retries_on_5xx_then_delivers(stand_in: StandIn, make_firing: FiringFactory) -> None:
    stand_in.route("POST", "/hooks/", sequence(Reply(500), Reply(502), Reply(200, b"ok")))
    router = Router([chat(stand_in)], retry=FAST)
    router.submit(make_firing(0))
    router.close(5)
    assert len(stand_in.hits("POST", "/hooks/")) == 3
    sink = router.stats()["sinks"]["chat"]
    assert sink["sent"] == 1 and sink["retries"] == 2 and router.stats()["dead_lettered"] == 0


def test_retries_on_timeout(stand_in: StandIn, make_firing: FiringFactory) -> None:
    stand_in.route("POST", "/hook", sequence(Reply(200, b"{}", delay=1.5), Reply(200, b"{}")))
    router = Router([WebhookSink(f"{stand_in.base}/hook", timeout=0.3)], retry=FAST)
    router.submit(make_firing(0))
    router.close(10)
    assert len(stand_in.hits("POST", "/hook")) == 2
    assert router.stats()["sinks"]["webhook"] == {**router.stats()["sinks"]["webhook"],
                                                  "sent": 1, "retries": 1}


def test_dead_letter_after_giving_up(
    tmp_path: Path, stand_in: StandIn, make_firing: FiringFactory
) -> None:
    stand_in.route("POST", "/hooks/", lambda _r: Reply(503, b"maintenance"))
    dead = tmp_path / "dead.jsonl"
    router = Router([chat(stand_in)], retry=FAST, dead_letter_path=dead)
    router.submit(make_firing(0))
    router.close(5)
    assert len(stand_in.hits("POST", "/hooks/")) == FAST.attempts
    records = [orjson.loads(line) for line in dead.read_text().splitlines()]
    assert len(records) == 1
    assert records[0]["origin"] == "alert-sink:chat"
    assert "gave up after 3 attempts" in records[0]["reason"]
    assert records[0]["raw"]["firing"]["id"] == make_firing(0).id
    assert router.stats()["dead_lettered"] == 1


def test_client_error_is_not_retried(
    tmp_path: Path, stand_in: StandIn, make_firing: FiringFactory
) -> None:
    stand_in.route("POST", "/hook", lambda _r: Reply(400, b"bad payload"))
    router = Router([WebhookSink(f"{stand_in.base}/hook")], retry=FAST,
                    dead_letter_path=tmp_path / "dead.jsonl")
    router.submit(make_firing(0))
    router.close(5)
    assert len(stand_in.hits("POST", "/hook")) == 1
    assert "permanent error: HTTP 400" in (tmp_path / "dead.jsonl").read_text()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sink_down_does_not_stop_the_others(
    tmp_path: Path, stand_in: StandIn, make_firing: FiringFactory
) -> None:
    down = ChatSink(f"mmost://127.0.0.1:{_closed_port()}/x", name="down", timeout=0.5)
    slow = StandIn()
    slow.route("POST", "/", lambda _r: Reply(200, b"ok", delay=2.0))
    stalled = WebhookSink(f"{slow.base}/hook", name="stalled", timeout=5)
    router = Router([down, stalled, chat(stand_in)], retry=FAST,
                    dead_letter_path=tmp_path / "dead.jsonl")
    start = time.perf_counter()
    for g in range(5):
        router.submit(make_firing(g, group_key=f"g{g}"))
    submit_seconds = time.perf_counter() - start
    assert len(stand_in.wait_for("POST", "/hooks/chattoken", 5, timeout=5)) == 5
    router.close(0.5)
    slow.close()
    stats = router.stats()
    assert submit_seconds < 1.0  # submit never waited for the dead or stalled sink
    assert stats["sinks"]["chat"]["sent"] == 5
    assert stats["sinks"]["down"].get("sent", 0) == 0
    # nothing vanished: every notice the down/stalled sinks did not deliver is a dead letter
    assert stats["sinks"]["down"]["dead_lettered"] == 5
    stalled_counts = stats["sinks"]["stalled"]
    assert stalled_counts.get("sent", 0) + stalled_counts["dead_lettered"] == 5


def test_full_queue_dead_letters_instead_of_blocking(
    tmp_path: Path, make_firing: FiringFactory
) -> None:
    slow = StandIn()
    slow.route("POST", "/", lambda _r: Reply(200, b"ok", delay=0.5))
    router = Router([WebhookSink(f"{slow.base}/hook")], queue_size=2, retry=FAST,
                    dead_letter_path=tmp_path / "dead.jsonl")
    for g in range(10):
        router.submit(make_firing(g, group_key=f"g{g}"))
    router.close(0.2)
    slow.close()
    counts = router.stats()["sinks"]["webhook"]
    assert counts["queue_full"] >= 6
    assert counts.get("sent", 0) + counts["dead_lettered"] == 10
    lines = (tmp_path / "dead.jsonl").read_text().splitlines()
    assert len(lines) == counts["dead_lettered"]
