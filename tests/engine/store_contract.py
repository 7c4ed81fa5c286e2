"""The contract every StateStore must pass (memory now, Redis or others later).

A store's test module subclasses ``StoreContract`` and provides ``make_store``.
"""

from __future__ import annotations

from typing import Any

from engine.store import StateStore


class StoreContract:
    def make_store(self) -> StateStore:  # pragma: no cover - overridden
        raise NotImplementedError

    def test_add_once_is_true_once_then_false_until_ttl(self) -> None:
        s = self.make_store()
        assert s.add_once("seen:a", ttl=10, now=100) is True
        assert s.add_once("seen:a", ttl=10, now=105) is False
        assert s.add_once("seen:b", ttl=10, now=105) is True
        assert s.add_once("seen:a", ttl=10, now=110.5) is True  # the mark lapsed

    def test_marks_and_values_are_separate_namespaces(self) -> None:
        s = self.make_store()
        assert s.add_once("ev-1", ttl=10, now=100) is True
        assert s.get("ev-1") is None  # a mark is not a value
        s.put("ev-2", "v", ttl=10, now=100)
        assert s.add_once("ev-2", ttl=10, now=100) is True  # nor a value a mark
        assert s.get("ev-2") == "v"
        s.delete("ev-1")
        assert s.add_once("ev-1", ttl=10, now=101) is False  # deleting a value keeps the mark

    def test_put_get_delete_and_ttl(self) -> None:
        s = self.make_store()
        s.put("k", {"a": [1, 2]}, ttl=5, now=0)
        assert s.get("k") == {"a": [1, 2]}
        assert s.expire(now=4) == 0
        assert s.get("k") == {"a": [1, 2]}
        assert s.expire(now=5) == 1
        assert s.get("k") is None
        s.put("f", "fact", ttl=None, now=0)
        assert s.expire(now=10**9) == 0
        assert s.get("f") == "fact"
        s.delete("f")
        s.delete("never-there")
        assert s.get("f") is None

    def test_refreshing_a_key_moves_its_ttl(self) -> None:
        s = self.make_store()
        s.put("k", 1, ttl=5, now=0)
        s.put("k", 2, ttl=5, now=4)
        s.expire(now=6)
        assert s.get("k") == 2
        s.expire(now=9)
        assert s.get("k") is None

    def test_update_reads_modifies_and_returns(self) -> None:
        s = self.make_store()

        def push(old: Any, item: str) -> tuple[Any, int]:
            new = [*(old or []), item]
            return new, len(new)

        assert s.update("q", push, ttl=10, now=0, arg="x") == 1
        assert s.update("q", push, ttl=10, now=1, arg="x") == 2
        assert s.get("q") == ["x", "x"]
        assert s.update("q", lambda old, _: (None, old), ttl=10, now=2) == ["x", "x"]
        assert s.get("q") is None

    def test_update_sees_an_expired_value_as_absent(self) -> None:
        s = self.make_store()
        s.put("q", [1], ttl=5, now=0)
        seen = s.update("q", lambda old, _: (old, old), ttl=5, now=6)
        assert seen is None

    def test_sets_are_sorted_and_vanish_when_empty(self) -> None:
        s = self.make_store()
        s.set_add("idx", "b")
        s.set_add("idx", "a")
        s.set_add("idx", "a")
        assert s.set_members("idx") == ["a", "b"]
        s.set_remove("idx", "a")
        s.set_remove("idx", "b")
        s.set_remove("idx", "zzz")
        assert s.set_members("idx") == []
        assert s.size()["sets"] == 0

    def test_a_set_shrinks_to_one_member_and_grows_again(self) -> None:
        s = self.make_store()
        s.set_add("mac", "port-1")
        s.set_add("mac", "port-1")
        s.set_remove("mac", "port-9")  # not a member: nothing changes
        assert s.set_members("mac") == ["port-1"]
        s.set_add("mac", "port-0")
        s.set_remove("mac", "port-1")
        assert s.set_members("mac") == ["port-0"]
        s.set_add("mac", "port-2")
        assert s.set_members("mac") == ["port-0", "port-2"] and s.size()["sets"] == 1
        s.set_remove("mac", "port-0")
        s.set_remove("mac", "port-2")
        assert s.set_members("mac") == [] and s.size()["sets"] == 0

    def test_timers_fire_once_in_due_order(self) -> None:
        s = self.make_store()
        s.schedule("t2", due=20.5, payload="r2")
        s.schedule("t1", due=10.25, payload="r1")
        s.schedule("t3", due=30, payload="r3")
        assert s.next_due() == 10.25
        assert s.pop_due(now=10) == []
        assert s.pop_due(now=21) == [("t1", 10.25, "r1"), ("t2", 20.5, "r2")]
        assert s.pop_due(now=21) == []
        assert s.size()["timers"] == 1

    def test_rescheduling_moves_and_cancel_disarms(self) -> None:
        s = self.make_store()
        s.schedule("t", due=10, payload="a")
        s.schedule("t", due=50, payload="b")
        assert s.pop_due(now=20) == []
        assert s.pop_due(now=50) == [("t", 50, "b")]
        s.schedule("u", due=10, payload="c")
        s.cancel("u")
        s.cancel("never")
        assert s.pop_due(now=100) == []

    def test_a_timer_armed_twice_for_the_same_time_fires_once(self) -> None:
        s = self.make_store()
        s.schedule("t", due=5.0, payload="p")
        s.schedule("t", due=5.0, payload="p")
        assert s.pop_due(now=10) == [("t", 5.0, "p")]
        assert s.pop_due(now=10) == []
        assert s.size()["timers"] == 0

    def test_a_key_dropped_and_set_again_expires_once(self) -> None:
        s = self.make_store()
        s.put("k", 1, ttl=5, now=0)
        s.delete("k")
        s.put("k", 2, ttl=5, now=0)
        assert s.add_once("m", ttl=5, now=0) is True
        assert s.add_once("m", ttl=5, now=5) is True  # lapsed, marked again
        assert s.expire(now=5) == 1
        assert s.get("k") is None
        assert s.add_once("m", ttl=5, now=9) is False
        assert s.expire(now=10) == 1
        assert s.size()["keys"] == 0

    def test_size_reports_every_kind(self) -> None:
        s = self.make_store()
        for i in range(5):
            s.put(f"k{i}", i, ttl=60, now=0)
        s.set_add("set", "m")
        s.schedule("t", 1, None)
        assert s.size() == {"keys": 5, "sets": 1, "timers": 1}
        s.expire(now=61)
        assert s.size()["keys"] == 0

    def test_many_keys_expire_exactly_at_their_ttl(self) -> None:
        s = self.make_store()
        for i in range(1000):
            s.put(f"k{i}", i, ttl=1 + i % 10, now=0)
        dropped = s.expire(now=5)
        assert dropped == sum(1 for i in range(1000) if 1 + i % 10 <= 5)
        assert s.get("k4") is None and s.get("k5") == 5  # ttl 5 went, ttl 6 stays
        assert s.size()["keys"] == 1000 - dropped

    def test_a_space_is_the_keys_under_its_prefix(self) -> None:
        s = self.make_store()
        space = s.space("expect:r:", 10)
        assert space.update("k", lambda old, arg: ((old or 0) + arg, None), 0, 2) is None
        assert s.get("expect:r:k") == 2  # the same entry through the plain key
        s.update("expect:r:k", lambda old, arg: ((old, arg), None), 10, 1, "x")
        assert space.get("k") == (2, "x") or space.get("k") == [2, "x"]  # Redis: JSON lists
        s.put("expect:r:j", 5, ttl=10, now=0)
        assert space.get("j") == 5 and space.get("zz") is None
        s.delete("expect:r:j")
        assert space.get("j") is None
        assert s.space("expect:r:", 10).get("k") is not None  # asked again: the same keys
        assert s.space("expect:other:", 10).get("k") is None  # another prefix: others
        space.schedule("k", 5.0, "r")
        s.schedule("expect:r:m", 6.0, "r")
        space.cancel("m")
        assert s.pop_due(now=10) == [("expect:r:k", 5.0, "r")]
        assert s.expire(now=10.9) == 0  # last written at 1: lives to 11
        assert space.update("k", lambda old, arg: (old, old), 11) is None  # lapsed: absent
        assert s.get("expect:r:k") is None
        assert s.size() == {"keys": 0, "sets": 0, "timers": 0}

    def test_a_late_write_to_a_space_keeps_the_later_lapse(self) -> None:
        s = self.make_store()
        space = s.space("count:r:", 5)
        space.update("k", lambda old, arg: (arg, None), 10, "new")
        space.update("k", lambda old, arg: (arg, None), 8, "late")  # an older event
        assert s.expire(now=14.9) == 0 and space.get("k") == "late"
        assert s.expire(now=15) == 1
