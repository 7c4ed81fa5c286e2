"""RedisStore on the real local Redis (db 15): the contract, atomicity across
clients and processes, event-time expiry, namespaces, and the engine's rule
tests giving the same firings as on the memory store."""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.state import RedisStore
from adapters.state.redis_store import HINT_LIFETIME
from dreamcatcher.ruletest import find_test_files, load_test_file, run_case
from engine.engine import Engine
from engine.events import Event
from engine.firing import Firing
from engine.loader import load_rules
from engine.store import StateStore
from tests.engine.store_contract import StoreContract
from tests.engine.test_engine import EXPECT, T0, ev
from tests.paths import REPO

StoreFactory = Callable[..., RedisStore]


@pytest.fixture
def make_redis(redis_url: str) -> Iterator[StoreFactory]:
    """RedisStores under a prefix unique to the test, all removed afterwards."""
    made: list[RedisStore] = []
    default_prefix = f"dctest:{uuid.uuid4().hex}:"

    def make(prefix: str = default_prefix, **kwargs: Any) -> RedisStore:
        store = RedisStore.from_url(redis_url, prefix, **kwargs)
        made.append(store)
        return store

    yield make
    for store in made:
        store.clear()
        store.close()


class TestRedisStoreContract(StoreContract):
    @pytest.fixture(autouse=True)
    def _factory(self, make_redis: StoreFactory) -> None:
        self._make = make_redis

    def make_store(self) -> StateStore:
        return self._make(f"dctest:{uuid.uuid4().hex}:")


# -- event time, not wall time -------------------------------------------------


def test_expiry_follows_event_time_not_the_wall_clock(make_redis: StoreFactory) -> None:
    s = make_redis(wall_ttl_margin=None)
    s.put("k", [1.5, "x"], ttl=0.001, now=0)  # a millisecond of event time
    raw_ttl = s.client.pttl(s.prefix + "k:k")
    assert raw_ttl == -1  # no Redis expiry: only event time removes it
    assert s.get("k") == [1.5, "x"]  # get is like memory's: live until expire()
    assert s.update("k", lambda old, _: (None, old), ttl=1, now=0.001) is None  # expired = absent
    s.put("m", "v", ttl=10, now=100)
    assert s.add_once("d", ttl=10, now=100) is True
    assert s.add_once("d", ttl=10, now=109.999) is False
    assert s.update("m", lambda old, _: (old, old), ttl=10, now=109.999) == "v"  # re-arms: 119.999
    assert s.expire(now=109.999) == 0
    assert s.expire(now=110) == 1  # the mark
    assert s.get("m") == "v"
    assert s.expire(now=119.999) == 1
    assert s.size() == {"keys": 0, "sets": 0, "timers": 0}


def test_wall_clock_safety_net_is_generous_and_optional(make_redis: StoreFactory) -> None:
    s = make_redis(wall_ttl_margin=3600.0)
    s.put("k", 1, ttl=60, now=0)
    s.put("fact", {"a": 1}, ttl=None, now=0)
    s.add_once("seen", ttl=30, now=0)
    ms = s.client.pttl(s.prefix + "k:k")
    assert 3600_000 < ms <= 3660_000
    assert 3600_000 < s.client.pttl(s.prefix + "k:once:seen") <= 3630_000
    assert s.client.pttl(s.prefix + "k:fact") == -1  # facts live until deleted
    # the update keeps the longer TTL (like memory), and its wall-clock net follows
    s.update("k", lambda old, _: (old + 1, None), ttl=10, now=20)
    assert s.get("k") == 2
    assert 3600_000 < s.client.pttl(s.prefix + "k:k") <= 3640_000
    assert s.expire(now=45) == 1  # "seen" (30) went; "k" keeps its TTL to 60
    assert s.get("k") == 2
    assert s.expire(now=60) == 1


def test_update_keeps_a_ttl_that_reaches_further_like_memory(make_redis: StoreFactory) -> None:
    s = make_redis()
    s.put("k", 1, ttl=100, now=0)
    s.update("k", lambda old, _: (old + 1, None), ttl=10, now=5)  # 15 < 100: keep 100
    assert s.expire(now=50) == 0 and s.get("k") == 2
    s.update("k", lambda old, _: (old + 1, None), ttl=80, now=60)  # 140 > 100: move
    assert s.expire(now=139) == 0 and s.get("k") == 3
    assert s.expire(now=140) == 1


def test_values_round_trip_exactly(make_redis: StoreFactory) -> None:
    s = make_redis()
    value = {"floats": [0.1, 1772323200.123456, -0.0, 1e300], "json": '{"a": "|"}',
             "nested": [[1, "two", None, True]], "unicode": "héllo|wörld"}
    s.put("v", value, ttl=5, now=0)
    assert s.get("v") == value
    s.schedule("t|odd id", due=1772323200.1, payload={"p": [1, 2]})
    assert s.next_due() == 1772323200.1
    assert s.pop_due(now=1772323200.1) == [("t|odd id", 1772323200.1, {"p": [1, 2]})]


def test_prefixes_are_separate_namespaces(make_redis: StoreFactory) -> None:
    a = make_redis(f"dctest:{uuid.uuid4().hex}:a:")
    b = make_redis(f"dctest:{uuid.uuid4().hex}:b:")
    a.put("k", "A", ttl=5, now=0)
    a.set_add("idx", "m")
    a.schedule("t", 1, "x")
    assert b.get("k") is None and b.set_members("idx") == [] and b.pop_due(now=10) == []
    assert b.size() == {"keys": 0, "sets": 0, "timers": 0}
    assert b.add_once("k", ttl=5, now=0) is True  # its own key, not a's
    assert a.get("k") == "A" and a.size() == {"keys": 1, "sets": 1, "timers": 1}
    assert b.clear() == 2  # its value key and its expiry index
    assert a.get("k") == "A"


def test_many_timers_and_expiries_cross_the_script_batch(make_redis: StoreFactory) -> None:
    s = make_redis()
    for i in range(2500):
        s.schedule(f"t{i:05d}", due=float(i % 100), payload=i)
        s.put(f"k{i}", i, ttl=1 + i % 10, now=0)
    popped = s.pop_due(now=1000)
    assert len(popped) == 2500
    assert [d for _, d, _ in popped] == sorted(d for _, d, _ in popped)
    assert s.expire(now=100) == 2500
    assert s.size() == {"keys": 0, "sets": 0, "timers": 0}


# -- atomicity across clients ------------------------------------------------------


def _increment(old: Any, _arg: Any = None) -> tuple[Any, int]:
    new = (old or 0) + 1
    return new, new


def test_update_retries_when_another_writer_slips_in(make_redis: StoreFactory) -> None:
    a = make_redis()
    b = make_redis(a.prefix)  # a second client on the same namespace
    assert a.update("n", _increment, ttl=60, now=0) == 1  # a now knows the value
    calls: list[Any] = []

    def racing(old: Any, _arg: Any = None) -> tuple[Any, int]:
        calls.append(old)
        if len(calls) == 1:
            b.update("n", _increment, ttl=60, now=0)  # lands between a's read and write
        return _increment(old, None)

    assert a.update("n", racing, ttl=60, now=0) == 3
    assert calls == [1, 2]  # the first attempt lost, the retry saw b's write
    assert a.conflicts == 1
    assert b.get("n") == 3
    # a value another client changed or removed behind a's back is found by the check
    b.update("n", lambda old, _: (None, None), ttl=60, now=0)
    assert a.update("n", _increment, ttl=60, now=0) == 1
    b.put("n", 41, ttl=60, now=0)
    assert a.update("n", _increment, ttl=60, now=0) == 42
    assert a.update("n", lambda old, _: (old, old), ttl=60, now=0) == 42  # checked, not written
    b.put("n", 7, ttl=60, now=0)
    assert a.update("n", lambda old, _: (old, old), ttl=60, now=0) == 7


def test_an_update_that_refuses_a_guessed_state_gets_the_real_one(
        make_redis: StoreFactory) -> None:
    a = make_redis()
    b = make_redis(a.prefix)
    b.put("n", 10, ttl=60, now=0)  # a has never seen "n": its first guess is "absent"
    seen: list[Any] = []

    def needs_a_value(old: Any, _arg: Any = None) -> tuple[Any, int]:
        seen.append(old)
        return old + 1, old + 1  # TypeError on None

    assert a.update("n", needs_a_value, ttl=60, now=0) == 11
    assert seen == [None, 10]
    b.delete("n")
    with pytest.raises(TypeError):  # the real state is absent: fn's error stands
        a.update("n", needs_a_value, ttl=60, now=0)


def test_add_once_spares_the_following_pop_due_when_nothing_is_due(
        make_redis: StoreFactory) -> None:
    a = make_redis()
    b = make_redis(a.prefix)
    a.schedule("t", due=10, payload=1)
    assert a.add_once("e1", ttl=60, now=20) is True
    assert a.pop_due(now=20) == [("t", 10.0, 1)]  # the hint says due: Redis is asked
    assert a.add_once("e2", ttl=60, now=21) is True  # nothing armed now
    a.schedule("own", due=21, payload=2)  # this client's own timer moves the hint
    assert a.pop_due(now=21) == [("own", 21.0, 2)]
    assert a.add_once("e2", ttl=60, now=22) is False  # a duplicate refreshes the hint too
    b.schedule("other", due=22, payload=3)  # another worker, in the gap
    assert a.pop_due(now=22) == []  # answered from the hint...
    assert a.pop_due(now=22) == [("other", 22.0, 3)]  # ...once: the next call asks Redis
    a.add_once("e4", ttl=60, now=23)
    b.schedule("later", due=23, payload=4)
    time.sleep(2 * HINT_LIFETIME)
    assert a.pop_due(now=23) == [("later", 23.0, 4)]  # an old hint is not used


def test_an_expired_value_read_from_the_cache_is_absent(make_redis: StoreFactory) -> None:
    s = make_redis()
    s.update("w", lambda old, _: ([1.0], None), ttl=5, now=0)
    assert s.update("w", lambda old, _: (old, old), ttl=5, now=5) is None
    s.update("w", lambda old, _: ([2.0], None), ttl=5, now=6)
    assert s.expire(now=11) == 1
    assert s.update("w", lambda old, _: (old, old), ttl=5, now=11) is None
    assert s.size()["keys"] == 0


def test_update_loses_nothing_with_threads_hammering_one_key(make_redis: StoreFactory) -> None:
    first = make_redis()
    stores = [first] + [make_redis(first.prefix) for _ in range(3)]
    per_thread = 300
    results: list[list[int]] = [[] for _ in stores]

    def hammer(i: int) -> None:
        for _ in range(per_thread):
            results[i].append(stores[i].update("counter", _increment, ttl=600, now=0))

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = per_thread * len(stores)
    assert first.get("counter") == total
    # every increment returned a distinct count: no two updates saw the same value
    assert sorted(r for rs in results for r in rs) == list(range(1, total + 1))


def _hammer_in_process(url: str, prefix: str, n: int, out: Any) -> None:
    store = RedisStore.from_url(url, prefix)
    seen = [store.update("counter", _increment, ttl=600, now=0) for _ in range(n)]
    out.put((seen, store.conflicts))
    store.close()


def test_update_loses_nothing_across_processes(make_redis: StoreFactory, redis_url: str) -> None:
    store = make_redis()
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    n = 400
    procs = [ctx.Process(target=_hammer_in_process, args=(redis_url, store.prefix, n, out))
             for _ in range(2)]
    for p in procs:
        p.start()
    got = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert store.get("counter") == 2 * n
    assert sorted(v for seen, _ in got for v in seen) == list(range(1, 2 * n + 1))


def test_each_due_timer_is_claimed_once_by_competing_clients(make_redis: StoreFactory) -> None:
    first = make_redis()
    workers = [first, make_redis(first.prefix), make_redis(first.prefix)]
    n = 600
    for i in range(n):
        first.schedule(f"t{i}", due=float(i), payload=i)
    claimed: list[list[tuple[str, float, Any]]] = [[] for _ in workers]

    def claim(w: int) -> None:
        for now in range(0, n + 10, 3):
            batch = workers[w].pop_due(now=float(now))
            assert [d for _, d, _ in batch] == sorted(d for _, d, _ in batch)
            assert all(d <= now for _, d, _ in batch)
            claimed[w].extend(batch)

    threads = [threading.Thread(target=claim, args=(w,)) for w in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [tid for batch in claimed for tid, _, _ in batch]
    assert len(ids) == n and set(ids) == {f"t{i}" for i in range(n)}
    assert all(payload == int(tid[1:]) for batch in claimed for tid, _, payload in batch)
    assert first.size()["timers"] == 0


def test_sets_shared_between_clients_vanish_when_emptied(make_redis: StoreFactory) -> None:
    a = make_redis()
    b = make_redis(a.prefix)
    a.set_add("idx:host=c1", "i1")
    b.set_add("idx:host=c1", "i0")
    assert a.set_members("idx:host=c1") == ["i0", "i1"]
    a.set_remove("idx:host=c1", "i0")
    b.set_remove("idx:host=c1", "i1")
    assert a.size()["sets"] == 0
    assert a.client.exists(a.prefix + "s:idx:host=c1") == 0


# -- the engine on Redis ---------------------------------------------------------------


def _firings_view(firings: list[Firing]) -> list[dict[str, Any]]:
    dumped = [f.model_dump(mode="json") for f in firings]
    return sorted(dumped, key=lambda f: (f["time"], f["rule"], f["id"]))


RULE_TEST_FILES = find_test_files([REPO / "tests" / "operator_rules",
                                   REPO / "rules"])


@pytest.mark.parametrize("path", RULE_TEST_FILES, ids=lambda p: p.name)
def test_rule_tests_fire_the_same_on_redis_as_in_memory(
        path: Path, make_redis: StoreFactory) -> None:
    spec = load_test_file(path)
    assert spec.cases
    for i, case in enumerate(spec.cases):
        store = make_redis(f"dctest:{uuid.uuid4().hex}:{i}:")
        on_redis = run_case(path, spec, case, store)
        in_memory = run_case(path, spec, case)
        assert on_redis.ok, on_redis.report()
        assert _firings_view(on_redis.firings) == _firings_view(in_memory.firings), case.name


def test_two_workers_share_dedup_expectations_and_timers(make_redis: StoreFactory) -> None:
    """Two engines on one namespace behave like one: an event redelivered to
    the other worker is a duplicate, an end seen by one answers a start seen
    by the other, and an unanswered start fires once though both tick."""
    a_store = make_redis()
    a = Engine([EXPECT], a_store, lateness=0.0)
    b = Engine([EXPECT], make_redis(a_store.prefix), lateness=0.0)
    assert a.process(ev(1, "start", "r1", 0)) == []
    assert b.process(ev(1, "start", "r1", 0)) == []  # redelivered to the other worker
    assert b.stats["duplicates"] == 1
    assert b.process(ev(2, "start", "r2", 1)) == []
    assert a.process(ev(3, "end", "r2", 2)) == []  # answers b's start
    fired = a.advance(T0 + timedelta(minutes=5)) + b.advance(T0 + timedelta(minutes=5))
    assert [f.title for f in fired] == ["r1"]
    assert a.drain() == [] and b.drain() == []


def _busy_stream(n: int) -> list[Event]:
    """Volume creations (one in seven never finishes) and console fetches
    that sometimes burst, in time order."""
    rng = random.Random(11)
    out: list[Event] = []
    for i in range(n):
        t = T0 + timedelta(seconds=7 * i)
        vol = f"v{i}"
        out.append(Event(id=f"s{i}", type="volume.create.start", time=t, volume_id=vol))
        if i % 7:
            out.append(Event(id=f"e{i}", type="volume.create.end", volume_id=vol,
                             time=t + timedelta(seconds=rng.randrange(1, 290))))
        out.append(Event(id=f"c{i}", type="nova.api.request", time=t,
                         instance_id=f"i{rng.randrange(6)}",
                         data={"action": "os-getConsoleOutput",
                               "length": 2_000_000 if rng.random() < 0.3 else 10}))
    out.sort(key=lambda e: e.time)
    return out


def test_two_workers_taking_turns_fire_what_one_memory_engine_fires(
        make_redis: StoreFactory) -> None:
    """Like two consumers on one queue: events alternate between the workers."""
    rules = load_rules([REPO / "tests" / "operator_rules" / "expect-volume.yaml",
                        REPO / "tests" / "operator_rules" / "count-console.yaml"])
    events = _busy_stream(600)
    memory = Engine(rules, lateness=5.0)
    expected = [f for e in events for f in memory.process(e)] + memory.drain()
    first = make_redis()
    workers = [Engine(rules, first, lateness=5.0),
               Engine(rules, make_redis(first.prefix), lateness=5.0)]
    fired: list[Firing] = []
    for i, event in enumerate(events):
        fired += workers[i % 2].process(event)
        fired += workers[i % 2].process(event)  # each event is also redelivered once
    fired += workers[0].drain() + workers[1].drain()
    assert len({f.rule for f in expected}) == 2 and len(expected) > 100
    assert _firings_view(fired) == _firings_view(expected)
    # every copy of an event a rule's condition takes is refused; the others
    # (console fetches too short to count) change nothing and need no mark
    twice = Engine(rules, lateness=5.0)
    for event in events:
        twice.process(event)
        twice.process(event)
    assert 0 < twice.stats["duplicates"] < len(events)
    assert sum(w.stats["duplicates"] for w in workers) == twice.stats["duplicates"]
