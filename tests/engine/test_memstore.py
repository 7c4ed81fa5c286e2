"""The memory store: the contract, and its compact layouts against plain models."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from engine.memstore import MemoryStore, _entry, _value
from engine.store import StateStore
from tests.engine.store_contract import StoreContract


class TestMemoryStore(StoreContract):
    def make_store(self) -> StateStore:
        return MemoryStore()


def test_an_entry_gives_back_exactly_the_value_folded_in() -> None:
    values: list[Any] = [(), (1,), ((),), (1, 2), ((), 1.5, ("n", "a")), [1, 2], {"a": 1},
                         None, 3, "s", ((1, 2),)]
    for value in values:
        entry = _entry(7.0, value)
        assert entry[0] == 7.0
        assert _value(entry) == value and type(_value(entry)) is type(value)
    assert _entry(7.0, (1, 2)) == (7.0, 1, 2)  # one tuple, not a pair holding one
    assert _entry(7.0, (1,)) == (7.0, (1,))  # a two-tuple always holds a bare value


class _PlainTimers:
    """The timer contract the plain way: id -> (due, payload), popped by sorting."""

    def __init__(self) -> None:
        self.armed: dict[str, tuple[float, Any]] = {}

    def schedule(self, timer_id: str, due: float, payload: Any) -> None:
        self.armed[timer_id] = (due, payload)

    def cancel(self, timer_id: str) -> None:
        self.armed.pop(timer_id, None)

    def pop_due(self, now: float) -> list[tuple[str, float, Any]]:
        due = sorted((d, i, p) for i, (d, p) in self.armed.items() if d <= now)
        for _d, timer_id, _p in due:
            del self.armed[timer_id]
        return [(i, d, p) for d, i, p in due]


def test_timers_armed_again_moved_and_cancelled_fire_like_the_plain_model() -> None:
    rng = random.Random(11)
    store, plain = MemoryStore(), _PlainTimers()
    now = 0.0
    for step in range(20000):
        now += rng.random() * 0.1
        timer_id = f"t{rng.randrange(300)}"
        roll = rng.random()
        if roll < 0.5:
            # mostly one rule's lane in order, sometimes another payload, a late due,
            # a non-text payload, or the very same due again
            payload: Any = rng.choice(["r1", "r1", "r1", "r2", None, 7])
            due = now + (10.0 if rng.random() < 0.8 else rng.random() * 10.0)
            if rng.random() < 0.05 and timer_id in plain.armed:
                due = plain.armed[timer_id][0]  # the very same due again
            if rng.random() < 0.5:  # one length after a time held (an expectation's)
                delay = rng.choice([10.0, 0.3, 7.7])
                since = due - delay
                store.space("expect:x:", 60).schedule_after(timer_id, since, delay, payload)
                plain.schedule("expect:x:" + timer_id, since + delay, payload)
            else:
                store.schedule(timer_id, due, payload)
                plain.schedule(timer_id, due, payload)
        elif roll < 0.8:
            store.cancel(timer_id)
            plain.cancel(timer_id)
            store.cancel("expect:x:" + timer_id)
            plain.cancel("expect:x:" + timer_id)
        if step % 37 == 0:
            got = store.pop_due(now)
            want = plain.pop_due(now)
            # ties of due time may come in any fixed order: compare as sets per due
            assert sorted(got, key=repr) == sorted(want, key=repr)
            assert [d for _i, d, _p in got] == sorted(d for _i, d, _p in got)
        assert store.size()["timers"] == len(plain.armed)
    assert sorted(store.pop_due(float("inf")), key=repr) == sorted(
        plain.pop_due(float("inf")), key=repr)
    assert store.size()["timers"] == 0 and not store._keys.timers
    assert not store._spaces["expect:x:"].timers


def test_a_space_holds_the_key_string_it_was_given() -> None:
    store = MemoryStore()
    space = store.space("expect:r:", 10)
    key = "".join(["inst-", "1"])  # a string of its own, as an event's field is
    now = 1.5 + 0.25  # a float of its own, as an event's timestamp is
    space.update(key, lambda old, arg: (arg, None), now, (now, "snap"))
    [(held, entry)] = store._spaces["expect:r:"].data.items()
    assert held is key  # not a copy with the prefix in front
    assert entry[0] is now  # when written: the timestamp the state holds, no new float
    assert store.get("expect:r:inst-1") == (1.75, "snap")
    assert store.space("not-a-kind", 10) is not space  # a prefix of another shape: plain keys


def test_a_space_takes_writes_of_its_own_ttl_only_and_a_new_one_when_asked() -> None:
    store = MemoryStore()
    space = store.space("expect:r:", 10)
    with pytest.raises(ValueError, match="live 10"):
        store.put("expect:r:k", 1, ttl=None, now=0)
    with pytest.raises(ValueError, match="live 10"):
        store.update("expect:r:k", lambda old, arg: (1, None), 20, 0)
    store.put("expect:r:k", 1, ttl=10, now=0)
    assert store.space("expect:r:", 30) is space  # the rule reloaded with a longer TTL
    assert store.expire(now=29) == 0 and store.expire(now=30) == 1


def test_marks_of_two_lengths_see_each_other_and_lapse_exactly() -> None:
    store = MemoryStore()
    assert store.add_once("a", ttl=10, now=100.1)
    assert not store.add_once("a", ttl=5, now=109)  # marked for 10: lives to 110.1
    assert store.add_once("b", ttl=5, now=100.1)
    assert not store.add_once("b", ttl=10, now=105)
    assert store.add_once("b", ttl=10, now=105.1)  # its 5 lapsed at 105.1 exactly
    assert store.expire(now=105.1) == 1  # the lapsed one of "b"; "b" for 10 stays
    assert not store.add_once("b", ttl=10, now=110)
    assert store.expire(now=110.1) == 1 and store.size()["keys"] == 1  # "a" went


def test_marks_lapse_where_add_once_says_so_at_any_rounding() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        store = MemoryStore()
        made, ttl = rng.uniform(1e9, 2e9), rng.choice([0.1, 0.3, 7.7, 21600.0])
        store.add_once("k", ttl, made)
        lapses = made + ttl
        # expire at, just before and just after the lapse: dropped iff add_once sees it gone
        for now in (lapses, math.nextafter(lapses, 0), math.nextafter(lapses, math.inf)):
            fresh = MemoryStore()
            fresh.add_once("k", ttl, made)
            assert (fresh.expire(now) == 1) == (made + ttl <= now)
        assert store.expire(lapses) == 1
