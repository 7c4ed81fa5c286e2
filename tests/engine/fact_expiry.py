"""Inventory fact expiry, run on any store (the memory store here, Redis in tests/state):
a fact expires with its index entries when deleted or when not seen for ``max_age``
of event time; a fact seen again lives on; a seed with no time is kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from engine.engine import Engine
from engine.events import Event, FactUpdate
from engine.schema import Rule
from engine.store import StateStore

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY = 86400.0
#: a rule that joins instances by host, so facts have index entries to clean up
BY_HOST = Rule.model_validate({
    "rule": "host-down", "severity": "warning",
    "when": {"event": "host.down"},
    "join": {"guests": {"kind": "instance", "by": {"host": "event.host"}, "many": True,
                        "optional": True}},
    "alert": {"title": "{{ event.host }} [{{ guests | map(attribute='id') | join(',') }}]"},
})


def _fact(i: int, at: float, fact_id: str, host: str = "cmp-1", delete: bool = False) -> Event:
    update = FactUpdate(kind="instance", id=fact_id, delete=delete,
                        fields={} if delete else {"host": host, "state": "active"})
    return Event(id=f"f{i}", type="compute.instance.update", time=T0 + timedelta(seconds=at),
                 facts=[update])


def _down(i: int, at: float, host: str = "cmp-1") -> Event:
    return Event(id=f"d{i}", type="host.down", time=T0 + timedelta(seconds=at), host=host)


def _guests(engine: Engine, i: int, at: float) -> str:
    [firing] = engine.process(_down(i, at))
    return firing.title.split(" [", 1)[1].rstrip("]")


class FactExpiry:
    """Mixed into a test class whose ``make_store`` gives an empty store."""

    make_store: Callable[[], StateStore]

    def _engine(self, max_age: float | None = 7 * DAY) -> Engine:
        return Engine([BY_HOST], self.make_store(), lateness=0.0, fact_max_age=max_age)

    def test_a_fact_not_seen_for_max_age_expires_with_its_index(self) -> None:
        engine = self._engine()
        engine.process(_fact(1, 0, "i-old"))
        engine.process(_fact(2, 3 * DAY, "i-new"))
        assert _guests(engine, 1, 3 * DAY + 1) == "i-new,i-old"
        assert engine.inventory.counts()["facts_instance"] == 2
        engine.advance(T0 + timedelta(days=7, seconds=1))  # i-old: 7 days unseen
        assert _guests(engine, 2, 7 * DAY + 2) == "i-new"
        assert engine.inventory.get("instance", "i-old") is None
        assert engine.store.set_members("idx:instance:host:cmp-1") == ["i-new"]
        assert engine.inventory.counts()["facts_instance"] == 1
        assert engine.stats["facts_expired"] == 1
        engine.advance(T0 + timedelta(days=11))  # i-new too
        assert _guests(engine, 3, 11 * DAY + 1) == ""
        assert engine.store.size()["sets"] == 0
        assert engine.store_sizes()["facts_instance"] == 0  # what /metrics exports

    def test_a_fact_seen_again_lives_on_and_its_timer_is_rearmed_not_duplicated(self) -> None:
        engine = self._engine()
        for day in range(20):  # mentioned every day (many times): never expires
            for n in range(5):
                engine.process(_fact(100 * day + n, day * DAY + n, "i-1"))
        assert _guests(engine, 1, 20 * DAY) == "i-1"
        assert engine.store.size()["timers"] == 1
        engine.advance(T0 + timedelta(days=19 + 7, seconds=10))
        assert _guests(engine, 2, 26 * DAY + 11) == ""

    def test_a_delete_drops_the_fact_and_its_timer_at_once(self) -> None:
        engine = self._engine()
        engine.process(_fact(1, 0, "i-1"))
        engine.process(_fact(2, 60, "i-1", delete=True))
        assert _guests(engine, 1, 61) == ""
        assert engine.store.size()["timers"] == 0
        assert engine.inventory.counts()["facts_instance"] == 0

    def test_facts_are_bounded_by_what_was_seen_within_max_age(self) -> None:
        engine = self._engine(max_age=3600.0)
        for i in range(500):  # a new instance every minute, each mentioned once
            engine.process(_fact(i, 60.0 * i, f"i-{i}", host=f"cmp-{i % 7}"))
        held = engine.inventory.counts()["facts_instance"]
        assert 59 <= held <= 61  # the last hour's, not all 500
        assert engine.store.size()["timers"] == held
        assert engine.store.size()["sets"] <= 7

    def test_readers_never_see_the_stamp(self) -> None:
        engine = self._engine()
        engine.process(_fact(1, 0, "i-1"))
        stored = engine.store.get("fact:instance:i-1")
        assert stored is not None and len(stored) == 3  # host, id and the stamp
        assert engine.inventory.get("instance", "i-1") == {"host": "cmp-1", "id": "i-1"}
        [firing] = engine.process(_down(1, 1))
        assert firing.facts["guests"] == [{"host": "cmp-1", "id": "i-1"}]

    def test_a_seed_without_time_is_kept_until_seen(self) -> None:
        engine = self._engine(max_age=3600.0)
        engine.load_facts([FactUpdate(kind="instance", id="i-seed", fields={"host": "cmp-1"})])
        engine.process(_fact(1, 10 * DAY, "i-other"))
        assert _guests(engine, 1, 10 * DAY + 1) == "i-other,i-seed"
        engine.process(_fact(2, 10 * DAY + 2, "i-seed"))  # now seen: stamped, expires
        engine.advance(T0 + timedelta(days=11))
        assert _guests(engine, 2, 11 * DAY + 1) == ""

    def test_no_max_age_keeps_facts_until_deleted(self) -> None:
        engine = self._engine(max_age=None)
        engine.process(_fact(1, 0, "i-1"))
        engine.advance(T0 + timedelta(days=400))
        assert _guests(engine, 1, 400 * DAY + 1) == "i-1"
        assert engine.store.size()["timers"] == 0

    def test_replay_is_reproducible(self) -> None:
        def run() -> list[str]:
            engine = self._engine(max_age=2 * 3600.0)
            out = []
            for i in range(200):
                engine.process(_fact(i, 600.0 * i, f"i-{i % 37}", host="cmp-1"))
                if i % 10 == 9:
                    out.append(_guests(engine, i, 600.0 * i + 1))
            return out
        assert run() == run()
