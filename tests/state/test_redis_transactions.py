"""RedisStore transactions (begin/commit/abort) on the real local Redis (db 15).

The live worker stages each batch and commits it after the batch's firings
are journalled, so a claimed timer or a dedup mark is final only with its
outcome. Here: the contract holds inside a transaction (reads see staged
writes), an engine committing per batch fires what one memory engine fires,
an aborted batch leaves the store as it was (a claimed timer is due again), a
commit retried after a lost reply applies once, and a writer that slipped in
makes the commit a conflict that writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from adapters.state import RedisStore
from engine.engine import Engine
from engine.firing import Firing
from engine.loader import load_rules
from engine.memstore import MemoryStore
from engine.store import StateStore, StoreConflict
from tests.engine.store_contract import StoreContract
from tests.engine.test_engine import EXPECT, ev
from tests.paths import REPO
from tests.state.test_redis_store import (  # noqa: F401  (make_redis is a fixture)
    StoreFactory,
    _busy_stream,
    _firings_view,
    make_redis,
)


class _StagedUntilExpire(RedisStore):
    """Always inside a transaction; ``expire`` and ``size`` (which read what is
    committed) commit first, as the worker's commit runs expiry after it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.begin()

    def expire(self, now: float) -> int:
        self.commit()
        dropped = super().expire(now)
        self.begin()
        return dropped

    def size(self) -> dict[str, int]:
        self.commit()
        counts = super().size()
        self.begin()
        return counts


class TestContractInsideTransactions(StoreContract):
    """Every operation of the contract on staged state, committed only when
    expiry or the counts need it."""

    @pytest.fixture(autouse=True)
    def _factory(self, redis_url: str) -> Iterator[None]:
        self._made: list[RedisStore] = []
        self._url = redis_url
        yield
        for store in self._made:
            store.abort()
            store.clear()
            store.close()

    def make_store(self) -> StateStore:
        store = _StagedUntilExpire(redis.Redis.from_url(self._url), f"dctest:{uuid.uuid4().hex}:")
        self._made.append(store)
        return store


def _dump(store: RedisStore) -> dict[bytes, object]:
    """Every key under the store's prefix with its content (type-aware)."""
    out: dict[bytes, object] = {}
    client = store.client
    for name in client.scan_iter(match=store.prefix + "*"):
        kind = client.type(name)
        if kind == b"string":
            out[name] = client.get(name)
        elif kind == b"zset":
            out[name] = client.zrange(name, 0, -1, withscores=True)
        elif kind == b"hash":
            out[name] = client.hgetall(name)
        elif kind == b"set":
            out[name] = client.smembers(name)
    return out


RULES = [REPO / "tests" / "operator_rules" / "expect-volume.yaml",
         REPO / "tests" / "operator_rules" / "count-console.yaml"]


@pytest.mark.parametrize("batch", [1, 7, 200])
def test_committing_per_batch_fires_what_one_memory_engine_fires(
        make_redis: StoreFactory, batch: int) -> None:  # noqa: F811
    rules = load_rules(RULES)
    events = _busy_stream(400)
    memory = Engine(rules, MemoryStore(), lateness=5.0)
    expected = [f for e in events for f in memory.process(e)] + memory.drain()
    store = make_redis()
    engine = Engine(rules, store, lateness=5.0)
    fired: list[Firing] = []
    for i in range(0, len(events), batch):
        store.begin()
        fired += engine.process_many(events[i:i + batch])
        store.commit()
    store.begin()
    fired += engine.drain()
    store.commit()
    assert len(expected) > 50
    assert _firings_view(fired) == _firings_view(expected)
    assert store.size()["timers"] == 0


def test_an_aborted_batch_leaves_the_store_as_it_was(make_redis: StoreFactory) -> None:  # noqa: F811
    rules = load_rules(RULES)
    events = _busy_stream(120)
    store = make_redis()
    engine = Engine(rules, store, lateness=5.0)
    store.begin()
    engine.process_many(events[:100])
    store.commit()
    before = _dump(store)
    assert store.size()["timers"] > 0
    mark = engine.clock_mark()
    store.begin()
    fired = engine.process_many(events[100:]) + engine.drain()  # claims every timer
    assert fired
    store.abort()
    engine.rewind(mark)
    assert _dump(store) == before
    again = engine.process_many(events[100:]) + engine.drain()  # no transaction: at once
    assert _firings_view(again) == _firings_view(fired)


def test_a_commit_retried_after_a_lost_reply_applies_once(make_redis: StoreFactory) -> None:  # noqa: F811
    store = make_redis()
    engine = Engine([EXPECT], store, lateness=0.0)
    store.begin()
    engine.process(ev(1, "start", "r1", 0))
    txn = store._txn
    store.commit()
    after = _dump(store)
    store._txn = txn  # as if the first reply had been lost: the worker commits again
    store.commit()
    assert _dump(store) == after


def test_a_writer_that_slipped_in_makes_the_commit_a_conflict(
        make_redis: StoreFactory) -> None:  # noqa: F811
    a = make_redis()
    b = make_redis(a.prefix)
    first, second = Engine([EXPECT], a, lateness=0.0), Engine([EXPECT], b, lateness=0.0)
    a.begin()
    first.process(ev(1, "start", "r1", 0))
    b.begin()
    second.process(ev(1, "start", "r1", 0))  # the same event, redelivered to b
    b.commit()
    before = _dump(a)
    with pytest.raises(StoreConflict):
        a.commit()
    a.abort()
    assert _dump(a) == before
    a.begin()  # redone: now a duplicate
    first.process(ev(1, "start", "r1", 0))
    a.commit()
    assert first.stats["duplicates"] == 1


def test_a_due_timer_is_claimed_by_one_of_two_committing_workers(
        make_redis: StoreFactory) -> None:  # noqa: F811
    a = make_redis()
    b = make_redis(a.prefix)
    a.schedule("t1", 10.0, "rule")
    a.begin()
    b.begin()
    assert [t[0] for t in a.pop_due(20.0)] == ["t1"]
    assert [t[0] for t in b.pop_due(20.0)] == ["t1"]
    a.commit()
    with pytest.raises(StoreConflict):
        b.commit()
    b.abort()
    assert b.pop_due(20.0) == []




def test_timers_due_at_one_instant_are_all_claimed_across_pages(
        make_redis: StoreFactory) -> None:  # noqa: F811
    """More timers due at one instant than one script call reads (1,000)."""
    store = make_redis()
    for i in range(2500):
        store.schedule(f"t{i:04d}", 10.0 + (i >= 1200), "rule")
    store.begin()
    claimed = store.pop_due(11.0)
    store.commit()
    assert sorted(t[0] for t in claimed) == [f"t{i:04d}" for i in range(2500)]
    assert store.size()["timers"] == 0
