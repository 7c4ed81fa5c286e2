"""The engine: events and a clock in, firings out.

Per event: find, among the rules indexed under its type, those whose
condition takes it (pure: the event alone); drop redeliveries (exact id,
TTL-bounded; an event no condition takes and with no facts needs no mark);
move the event-time watermark and fire due timers; apply inventory upserts;
run those rules' operators; then apply inventory deletes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from engine.compiler import (
    CompiledRule,
    KeyFn,
    Matcher,
    compile_rule,
    join_report,
    render_firing,
)
from engine.dispatch import Dispatch
from engine.events import Event, FactUpdate
from engine.firing import Firing
from engine.inventory import EXPIRY_TIMERS, Inventory
from engine.memstore import MemoryStore
from engine.operators import Evidence, Handler
from engine.predicates import Predicate
from engine.reads import fact_fields
from engine.schema import Rule
from engine.store import StateStore, StoreUnavailable
from engine.trace import DuplicateTrace, FiringTrace, StepTrace, Tracer

Route = tuple[CompiledRule, Matcher]


class EventFailed(RuntimeError):
    """``process_many`` failed on ``event``: ``firings`` are those of the events before
    it (their state is stored), the events after it were not seen. What the failed
    event wrote before the error stays written."""

    def __init__(self, event: Event, firings: list[Firing], cause: Exception) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.event = event
        self.firings = firings
        self.cause = cause

#: a route as the hot path wants it: rule, role, predicate, key function, handler
_Step = tuple[CompiledRule, str, Predicate | None, KeyFn, Handler]
_NEVER = float("-inf")


def _seconds(value: float | datetime) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


class Engine:
    """Deterministic rule evaluation over an event-time clock.

    ``lateness`` is how far behind the newest event time an event may arrive
    and still be counted in windows; timers fire once the watermark (newest
    time minus lateness) passes them. ``dedup_ttl`` bounds how long an event
    id is remembered for redelivery. ``tracer`` (``engine.trace``) is told what the
    operators of the rules it wants do; without one nothing is traced, at no cost.
    ``fact_max_age`` is how long an inventory fact no event or pull mentions is kept
    (None: until deleted).
    """

    def __init__(
        self,
        rules: Iterable[Rule],
        store: StateStore | None = None,
        *,
        lateness: float = 5.0,
        dedup_ttl: float = 6 * 3600.0,
        tracer: Tracer | None = None,
        fact_max_age: float | None = None,
    ) -> None:
        self.tracer = tracer
        self.store = store if store is not None else MemoryStore()
        self.lateness = lateness
        self.dedup_ttl = dedup_ttl
        self.rules: dict[str, CompiledRule] = {}
        self.inventory = Inventory(self.store, max_age=fact_max_age)
        for rule in rules:
            if not rule.enabled:
                continue
            compiled = compile_rule(rule, self.store, lateness)
            self.rules[compiled.id] = compiled
            for kind, field in compiled.index_fields:
                self.inventory.index(kind, field)
        # facts hold only what the loaded rules can read of them (engine.reads)
        self.inventory.keep_only(fact_fields(c.rule for c in self.rules.values()))
        self._matchers: list[Route] = [(c, m) for c in self.rules.values() for m in c.matchers]
        self._plans: dict[str, Dispatch[_Step]] = {}
        self.newest: float = _NEVER
        #: a cap on the watermark (live mode: the event time every source with a
        #: backlog has reached, so its late events still find their expectations open)
        self.hold: float = math.inf
        self._expire_next: float = _NEVER  # watermark at which to expire state again
        self.stats: Counter[str] = Counter()
        self.events = 0  # plain ints: counted on the hot path
        self.late = 0  # events older than the watermark (still counted in windows)

    @property
    def watermark(self) -> float:
        return min(self.newest - self.lateness, self.hold)

    def set_hold(self, hold: float) -> list[Firing]:
        """Cap the watermark at ``hold`` (``inf``: none); what a raised cap makes due fires now."""
        raised = hold > self.hold
        self.hold = hold
        firings: list[Firing] = []
        if raised and self.newest > _NEVER:
            self._advance(self.newest, firings)
        return firings

    def clock_mark(self) -> tuple[float, float, float]:
        """The engine's own clock state, for ``rewind`` after an aborted store
        transaction (everything else it knows is in the store)."""
        return (self.newest, self.hold, self._expire_next)

    def rewind(self, mark: tuple[float, float, float]) -> None:
        """Back to ``clock_mark``'s state: a redone batch moves the clock again."""
        self.newest, self.hold, self._expire_next = mark

    def routes(self, event_type: str) -> list[Route]:
        """The matchers that can see this type."""
        return [(c, m) for c, m in self._matchers if m.accepts_type(event_type)]

    def _plan_for(self, event_type: str) -> Dispatch[_Step]:
        """The steps of this type's routes, indexed by their conditions (``engine.dispatch``)."""
        plan = Dispatch([((c, m.role, m.predicate, m.key, self._handler(c, m.role)), m.where)
                         for c, m in self.routes(event_type)])
        self._plans[event_type] = plan
        return plan

    def _handler(self, compiled: CompiledRule, role: str) -> Handler:
        """The operator's handler for ``role``; with a tracer that wants the rule, one
        that also reports the key's state before and after each event."""
        handler = compiled.operator.handler(role)
        tracer = self.tracer
        if tracer is None or not tracer.wants(compiled.id):
            return handler
        operator = compiled.operator

        def traced(event: Event, ts: float, key: tuple[Any, ...],
                   key_str: str) -> Sequence[Evidence]:
            before = operator.describe(key_str)
            out = handler(event, ts, key, key_str)
            tracer.record(StepTrace(compiled.id, role, event, key, before,
                                    operator.describe(key_str), len(out),
                                    late=ts < self.watermark))
            return out

        return traced

    def process(self, event: Event) -> list[Firing]:
        return self.process_many((event,))

    def process_many(self, events: Iterable[Event]) -> list[Firing]:
        """Each event in turn; one call for a consumer's batch, no call per event."""
        firings: list[Firing] = []
        store, plans = self.store, self._plans
        try:  # free unless raised: one bad event must not cost the batch
            for event in events:
                values = event.__dict__  # the fields, read as a dict: see paths.event_getter
                ts = values["time"].timestamp()
                plan = plans.get(values["type"])
                if plan is None:
                    plan = self._plan_for(values["type"])
                # the steps this event could match, each with the conditions left to test
                steps = plan.unindexed if plan.unindexed is not None else plan.select(values)
                # predicates and keys read only the event, so they run before the dedup
                # check: an event no rule's condition takes and with no facts changes
                # nothing (nor can its redelivery: the clock has passed it), so it needs
                # no mark. Most events of a busy cloud are such (API lines at 200).
                hits: list[tuple[_Step, tuple[Any, ...]]] | None = None
                for step, predicate in steps:
                    if predicate is not None and not predicate(values):
                        continue
                    key = step[3](values)
                    if key is None:
                        continue
                    if hits is None:
                        hits = [(step, key)]
                    else:
                        hits.append((step, key))
                facts = values["facts"]
                if (hits or facts) and not store.add_once(values["id"], self.dedup_ttl, ts):
                    self.stats["duplicates"] += 1
                    if self.tracer is not None:
                        self.tracer.record(DuplicateTrace(event))
                    continue
                self.events += 1
                if ts > self.newest:
                    self.newest = ts
                    watermark = min(ts - self.lateness, self.hold)
                    if watermark >= store.due_hint or watermark >= self._expire_next:
                        self._advance(ts, firings)
                elif ts < self.newest - self.lateness:
                    self.late += 1
                if hits is None and not facts:
                    continue
                deletes = self._apply_facts(facts) if facts else ()
                for (compiled, role, _predicate, _key_of, handler), key in hits or ():
                    if role == "resolve":
                        evidence = Evidence([event], (), ts)
                        firing = render_firing(compiled, evidence, self.inventory, resolves=True)
                        if self.tracer is not None:
                            self._trace(compiled, evidence, firing, timer=False, resolves=True)
                        if firing is not None:
                            firings.append(firing)
                        continue
                    if len(key) == 1:
                        key_str = key[0] if type(key[0]) is str else str(key[0])
                    else:
                        try:  # keys are text nearly always: map(str) costs 6x the join
                            key_str = "\x1f".join(key)
                        except TypeError:  # a number among them (a status code)
                            key_str = "\x1f".join(map(str, key))
                    for evidence in handler(event, ts, key, key_str):
                        self._emit(compiled, evidence, firings)
                for update in deletes:
                    self.inventory.apply(update, self.newest)
        except StoreUnavailable:
            raise
        except Exception as exc:
            raise EventFailed(event, firings, exc) from exc
        return firings

    def advance(self, now: float | datetime) -> list[Firing]:
        """Move the clock without an event (live mode's wall clock, end of replay)."""
        ts = _seconds(now)
        firings: list[Firing] = []
        if ts > self.newest:
            self._advance(ts, firings)
        return firings

    def drain(self) -> list[Firing]:
        """Fire every armed timer, as if time ran on with no more events."""
        return self._fire_due(math.inf)

    def store_sizes(self) -> dict[str, int]:
        """The store's entries by kind, and the inventory's facts by kind (``facts_<kind>``)."""
        return {**self.store.size(), **self.inventory.counts()}

    def load_facts(self, updates: Iterable[FactUpdate], now: float | datetime = 0.0) -> int:
        """Seed the inventory (a snapshot of the cloud); returns how many were applied."""
        count = 0
        ts = _seconds(now)
        for update in updates:
            self.inventory.apply(update, ts)
            count += 1
        return count

    def _apply_facts(self, updates: list[FactUpdate]) -> list[FactUpdate]:
        """Upserts now, before the rules see the event; the deletes, for after (a rule
        may join on what they delete)."""
        deletes: list[FactUpdate] = []
        for update in updates:
            if update.__dict__["delete"]:  # the field dict: an attribute costs a hook call
                deletes.append(update)
            else:
                self.inventory.apply(update, self.newest)
        return deletes

    def _advance(self, ts: float, firings: list[Firing]) -> None:
        self.newest = ts
        watermark = min(ts - self.lateness, self.hold)
        due = self.store.pop_due(watermark)
        if due:
            firings += self._fire(due, watermark)
        if watermark >= self._expire_next:
            self.stats["expired"] += self.store.expire(watermark)
            self._expire_next = watermark + 1.0  # once per second of event time is enough

    def _fire_due(self, now: float) -> list[Firing]:
        return self._fire(self.store.pop_due(now), now)

    def _fire(self, due: list[tuple[str, float, Any]], now: float) -> list[Firing]:
        firings: list[Firing] = []
        while due:
            for state_key, at, rule_id in due:
                compiled = self.rules.get(rule_id)
                if compiled is None:
                    if rule_id == EXPIRY_TIMERS:
                        self.stats["facts_expired"] += self.inventory.on_timer(state_key, at)
                    continue
                # a timer runs at its own due time, not at the (maybe much later) watermark
                for evidence in compiled.operator.on_timer(state_key, at):
                    self._emit(compiled, evidence, firings, timer=True)
            due = self.store.pop_due(now)  # timers re-armed at or before `now`
        return firings

    def _emit(self, compiled: CompiledRule, evidence: Evidence, out: list[Firing],
              timer: bool = False) -> None:
        firing = render_firing(compiled, evidence, self.inventory)
        if self.tracer is not None:
            self._trace(compiled, evidence, firing, timer=timer)
        if firing is None:
            self.stats["join_misses"] += 1
            return
        self.stats["firings"] += 1
        out.append(firing)

    def _trace(self, compiled: CompiledRule, evidence: Evidence, firing: Firing | None,
               *, timer: bool, resolves: bool = False) -> None:
        tracer = self.tracer
        if tracer is not None and tracer.wants(compiled.id):
            tracer.record(FiringTrace(compiled.id, evidence, firing,
                                      join_report(compiled, evidence, self.inventory),
                                      timer=timer, resolves=resolves))
