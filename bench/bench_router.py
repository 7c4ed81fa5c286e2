"""Alert router figures: overhead per firing, a 10,000-firing burst, and a sink that is down.

Run: python bench/bench_router.py   (about 20 s; prints its figures)

Chat goes through apprise to a local HTTP server answering like Mattermost,
so the message counts are what a chat room would really receive.
"""

from __future__ import annotations

import logging
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.alerting import RetryPolicy, Router
from adapters.alerting.notice import Notice
from adapters.alerting.sinks.base import Sink
from adapters.alerting.sinks.chat import ChatSink
from adapters.alerting.sinks.webhook import WebhookSink
from engine.firing import Firing
from tests.stand_in import Reply, StandIn

T0 = datetime(2024, 2, 15, 1, 40, 18, tzinfo=UTC)
RETRY = RetryPolicy(attempts=3, initial=0.05, maximum=0.2)


class NullSink(Sink):
    name = "null"

    def send(self, notice: Notice) -> None:
        pass


def firing(n: int, group: int, offset_s: float) -> Firing:
    return Firing(id=f"f{n}", rule="bpdu-guard-trip", severity="critical",
                  time=T0 + timedelta(seconds=offset_s),
                  title=f"BPDU guard on SW-{group} Port-Channel35: instance some-server",
                  text="Feb 15 01:40:18 SW-1 Stp: %SPANTREE-4-BLOCK_BPDUGUARD ...",
                  labels={"rule": "bpdu-guard-trip", "switch": f"SW-{group}"},
                  group_key=f"bpdu-guard-trip|switch=SW-{group}", repeat_seconds=3600)


def per_firing_us(router: Router, firings: list[Firing]) -> float:
    start = time.perf_counter()
    for f in firings:
        router.submit(f)
    return (time.perf_counter() - start) / len(firings) * 1e6


def overhead() -> None:
    n = 100_000
    same = [firing(i, 1, i * 0.01) for i in range(n)]  # one incident: all but one folded
    runs = []
    for _ in range(3):
        router = Router([NullSink()], retry=RETRY)
        runs.append(per_firing_us(router, same))
        router.close(1)
    print(f"overhead, one group (folded): {statistics.median(runs):.2f} us/firing "
          f"(median of 3 x {n:,})")
    distinct = [firing(i, i, 0) for i in range(n)]  # every firing is a new group: a notice each
    runs = []
    for _ in range(3):
        router = Router([NullSink()], retry=RETRY, queue_size=n + 1)
        runs.append(per_firing_us(router, distinct))
        router.close(5)
    print(f"overhead, new group each (notice queued): {statistics.median(runs):.2f} us/firing "
          f"(median of 3 x {n:,})")


def burst() -> None:
    chat = StandIn()
    chat.route("POST", "/", lambda _r: Reply(200, b"ok"))
    router = Router([ChatSink(f"mmost://127.0.0.1:{chat.port}/tok")], retry=RETRY)
    n = 10_000
    span = 3 * 3600 + 1  # event times spread over 3 h at a 1 h repeat interval
    for i in range(n):
        router.submit(firing(i, 1, i * span / n))
    router.close(10)
    chat.close()
    stats = router.stats()
    print(f"burst of {n:,} firings of one incident over 3 h (repeat 1 h): "
          f"{len(chat.hits('POST', '/hooks/tok'))} chat messages "
          f"(notified {stats['notified']}, repeats {stats['repeated']}, "
          f"folded {stats['suppressed']})")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sink_down() -> None:
    n, groups = 20_000, 200  # 200 incidents, each repeating over ~3 h of event time
    firings = [firing(i, i % groups, i * 0.5) for i in range(n)]
    healthy = StandIn()
    healthy.route("POST", "/", lambda _r: Reply(200, b"{}"))
    stalled = StandIn()
    stalled.route("POST", "/", lambda _r: Reply(200, b"{}", delay=5.0))
    cases: list[tuple[str, Sink]] = [
        ("healthy webhook", WebhookSink(f"{healthy.base}/hook", timeout=2)),
        ("webhook down (connection refused)",
         WebhookSink(f"http://127.0.0.1:{_closed_port()}/hook", timeout=2)),
        ("webhook stalled (answers after 5 s, timeout 2 s)",
         WebhookSink(f"{stalled.base}/hook", timeout=2)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for label, sink in cases:
            router = Router([NullSink(), sink], retry=RETRY, queue_size=1000,
                            dead_letter_path=Path(tmp) / "dead.jsonl")
            start = time.perf_counter()
            for f in firings:
                router.submit(f)
            took = time.perf_counter() - start
            router.close(3)
            st = router.stats()
            s = st["sinks"][sink.name]
            notices = st["notified"] + st["repeated"]
            print(f"{label}: submit {n / took:,.0f} firings/s ({took * 1e6 / n:.1f} us each, "
                  f"{notices:,} notices); sink sent {s.get('sent', 0):,}, "
                  f"dead-lettered {s.get('dead_lettered', 0):,}; "
                  f"null sink got {router.stats()['sinks']['null'].get('sent', 0):,}")
    healthy.close()
    stalled.close()


if __name__ == "__main__":
    import structlog

    # every undelivered notice logs a warning; the figures below count them instead
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    logging.getLogger("apprise").setLevel(logging.ERROR)
    overhead()
    burst()
    sink_down()
