"""Inhibition by topology: a cause's alert folds the firings it explains into its notices.

A firing whose rule declares ``explains:`` carries resolved ``Scope``s (the engine
did the inventory joins). For ``within`` after the cause's latest firing (by event
time, the router's clock), a new group whose first firing matches a scope pages no
one: it is recorded as *also affected* on the cause, and stays folded until it
resolves. Targets that opened up to ``before`` ahead of their cause (they paged:
nothing can unsend that) are adopted when the cause comes: listed on the cause's
notice, their repeats folded, their resolve still sent. No timer is involved, so
a replay decides exactly as the live run did.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from engine.catalogue import is_glob
from engine.explains import target_values
from engine.firing import Firing, Scope

#: the most firings one cause lists (the rest are counted in ``Inhibitor.overflow``)
MAX_AFFECTED = 1000
#: how far back a cause may adopt open groups, whatever its ``before`` says
MAX_BEFORE = timedelta(minutes=30)


@dataclass(frozen=True)
class Affected:
    """A firing folded into a cause: what the cause's notice lists."""

    rule: str
    group_key: str
    title: str
    time: datetime
    notified: bool = False  # it paged on its own before the cause came
    resolved: bool = False

    def describe(self) -> str:
        notes = ["notified before"] * self.notified + ["resolved"] * self.resolved
        return f"{self.rule}: {self.title}" + (f" ({', '.join(notes)})" if notes else "")

    def as_json(self) -> dict[str, object]:
        return {"rule": self.rule, "group_key": self.group_key, "title": self.title,
                "time": self.time.isoformat(), "notified": self.notified,
                "resolved": self.resolved}


@dataclass
class _Cause:
    firing: Firing  # the latest, whose scopes apply
    seq: int = 0  # when it was last refreshed: the most recent cause explains first
    affected: OrderedDict[str, Affected] = field(default_factory=OrderedDict)
    folded: set[str] = field(default_factory=set)  # every target group folded in

    def ended(self, at: datetime) -> bool:
        """No scope can match a firing at ``at`` any more (a cheap test before ``active``)."""
        longest = max((s.within for s in self.firing.explains), default=0.0)
        return at > self.firing.time + timedelta(seconds=longest)

    def active(self, at: datetime) -> list[Scope]:
        start = self.firing.time
        return [s for s in self.firing.explains
                if start - timedelta(seconds=s.before) <= at
                <= start + timedelta(seconds=s.within)]


def matches(scope: Scope, firing: Firing) -> bool:
    """Alertmanager's target matchers and ``equal``, plus the inventory-joined values."""
    if not any(fnmatchcase(firing.rule, pattern) for pattern in scope.rules):
        return False
    if any(firing.labels.get(k, "") != v for k, v in scope.labels.items()):
        return False
    for path, allowed in scope.among.items():
        if not set(target_values(firing.labels, firing.facts, path)) & set(allowed):
            return False
    return True


#: an index key: (target rule, selector, value); a selector is ``labels.NAME`` or a ``by`` path
_Slot = tuple[str, str, str]


def _slots(scope: Scope) -> list[_Slot] | None:
    """Where a scope is found from a target: one selector's values for each exact rule
    name; None when a glob names the rules (those are tried for every target)."""
    if any(is_glob(p) for p in scope.rules):
        return None
    if scope.labels:
        name, value = next(iter(scope.labels.items()))
        return [(rule, f"labels.{name}", value) for rule in scope.rules]
    if scope.among:
        path, values = next(iter(scope.among.items()))
        return [(rule, path, v) for rule in scope.rules for v in values]
    return None


class _CauseIndex:
    """Causes by what a target must have, so a new group is checked against the few
    causes that could explain it, not every open one."""

    def __init__(self) -> None:
        self._slots: dict[_Slot, set[str]] = {}
        self._selectors: dict[str, set[str]] = {}  # target rule -> selectors in use
        self._globbed: set[str] = set()
        self._held: dict[str, list[_Slot]] = {}

    def add(self, key: str, scopes: list[Scope]) -> None:
        self.remove(key)
        held: list[_Slot] = []
        for scope in scopes:
            slots = _slots(scope)
            if slots is None:
                self._globbed.add(key)
                continue
            for slot in slots:
                self._slots.setdefault(slot, set()).add(key)
                self._selectors.setdefault(slot[0], set()).add(slot[1])
                held.append(slot)
        self._held[key] = held

    def remove(self, key: str) -> None:
        self._globbed.discard(key)
        for slot in self._held.pop(key, []):
            keys = self._slots.get(slot)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._slots[slot]

    def candidates(self, firing: Firing) -> set[str]:
        found = set(self._globbed)
        for selector in self._selectors.get(firing.rule, ()):
            for value in target_values(firing.labels, firing.facts, selector) or [""]:
                found |= self._slots.get((firing.rule, selector, value), set())
        return found


class Inhibitor:
    """The router's memory of causes and what they explain; bounded like its groups."""

    def __init__(self, max_causes: int = 10_000, max_recent: int = 10_000,
                 max_explained: int = 100_000) -> None:
        self.max_causes = max_causes
        self.max_explained = max_explained
        self._causes: OrderedDict[str, _Cause] = OrderedDict()
        self._explained: OrderedDict[str, str] = OrderedDict()  # target group -> cause group
        self._recent: deque[tuple[str, Firing]] = deque(maxlen=max_recent)
        self._index = _CauseIndex()
        self._seq = 0
        self.overflow = 0

    def explained_by(self, key: str) -> str | None:
        """The cause group an open target group was folded into."""
        return self._explained.get(key)

    def affected(self, cause_key: str) -> tuple[Affected, ...]:
        cause = self._causes.get(cause_key)
        return tuple(cause.affected.values()) if cause is not None else ()

    def cause(self, firing: Firing, key: str,
              is_open: Callable[[str], bool] = lambda _key: True) -> list[str]:
        """Note (or refresh) a cause; the keys of open groups (``is_open``) it adopts, the
        first time only: from now on ``explained_by`` names it for them."""
        if not firing.explains:
            return []
        self._seq += 1
        known = self._causes.get(key)
        if known is not None:
            if known.firing.explains != firing.explains:
                self._index.add(key, firing.explains)
            known.firing, known.seq = firing, self._seq
            self._causes.move_to_end(key)
            return []
        cause = self._causes[key] = _Cause(firing, self._seq)
        self._index.add(key, firing.explains)
        if len(self._causes) > self.max_causes:
            self._forget(next(iter(self._causes)))
        adopted = []
        for target_key, target in self._recent:
            if (target_key in self._explained or target_key == key
                    or target.time < firing.time - MAX_BEFORE or not is_open(target_key)):
                continue
            if any(matches(s, target) for s in cause.active(target.time)):
                self._fold(cause, key, target_key, target, notified=True)
                adopted.append(target_key)
        return adopted

    def opened(self, firing: Firing, key: str) -> str | None:
        """A new group: the cause it is folded into, or None (it pages, and is kept a
        while in case its cause comes just after)."""
        found = [(self._causes[k].seq, k) for k in self._index.candidates(firing) if k != key]
        for _, cause_key in sorted(found, reverse=True):
            cause = self._causes[cause_key]
            if cause.ended(firing.time):
                continue
            if any(matches(s, firing) for s in cause.active(firing.time)):
                self._fold(cause, cause_key, key, firing, notified=False)
                return cause_key
        self._recent.append((key, firing))
        while self._recent and self._recent[0][1].time < firing.time - MAX_BEFORE:
            self._recent.popleft()
        return None

    def _fold(self, cause: _Cause, cause_key: str, key: str, firing: Firing,
              *, notified: bool) -> None:
        self._explained[key] = cause_key
        cause.folded.add(key)
        if len(self._explained) > self.max_explained:  # the oldest speaks for itself again
            self._explained.popitem(last=False)
        if len(cause.affected) >= MAX_AFFECTED:
            self.overflow += 1
            return
        cause.affected[key] = Affected(firing.rule, key, firing.title, firing.time, notified)

    def resolved(self, key: str) -> None:
        """A group closed: a target is marked resolved on its cause; a cause is forgotten
        (its open targets are released: their next firing pages)."""
        cause_key = self._explained.pop(key, None)
        if cause_key is not None and cause_key in self._causes:
            self._causes[cause_key].folded.discard(key)
            listed = self._causes[cause_key].affected
            if key in listed:
                listed[key] = replace(listed[key], resolved=True)
        if key in self._causes:
            self._forget(key)

    def _forget(self, key: str) -> None:
        """Drop a cause (resolved, or the oldest beyond ``max_causes``); release its targets."""
        cause = self._causes.pop(key)
        self._index.remove(key)
        for target in cause.folded:
            if self._explained.get(target) == key:
                del self._explained[target]

    def latest(self, cause_key: str) -> Firing | None:
        cause = self._causes.get(cause_key)
        return cause.firing if cause is not None else None

    def stats(self) -> dict[str, int]:
        return {"causes": len(self._causes), "explained_open": len(self._explained),
                "affected_overflow": self.overflow}
