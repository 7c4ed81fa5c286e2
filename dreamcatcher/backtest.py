"""Two rule packs over the same history, and what differs between their alerts.

An alert is the same in both when its firing id is: the rule, the correlation key,
the evidence events and whether it resolves (``engine.compiler._firing_id``). So a
changed threshold or window that fires on other evidence, or at another moment with
other events, is a different alert, which is what a reviewer wants to see.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from engine.firing import Firing


@dataclass(frozen=True)
class Comparison:
    only_a: list[Firing]
    only_b: list[Firing]
    both: list[Firing]  # as A gave them
    a: list[Firing]
    b: list[Firing]

    def per_rule(self) -> dict[str, dict[str, int]]:
        """Per rule: how many alerts A and B give, and how many are only in one, or in both."""
        columns = {"a": self.a, "b": self.b, "only_a": self.only_a, "only_b": self.only_b,
                   "both": self.both}
        counts = {name: Counter(f.rule for f in firings) for name, firings in columns.items()}
        rules = sorted(set(counts["a"]) | set(counts["b"]))
        return {rule: {name: counts[name][rule] for name in columns} for rule in rules}

    @property
    def same(self) -> bool:
        return not self.only_a and not self.only_b


def compare(a: list[Firing], b: list[Firing]) -> Comparison:
    """Alerts of A and B apart by firing id, each list in its run's order."""
    ids_a = {f.id for f in a}
    ids_b = {f.id for f in b}
    return Comparison(only_a=[f for f in a if f.id not in ids_b],
                      only_b=[f for f in b if f.id not in ids_a],
                      both=[f for f in a if f.id in ids_b], a=a, b=b)


def alert_json(firing: Firing) -> dict[str, Any]:
    """What one alert is, for the report: enough to find it, not its whole text."""
    return {"id": firing.id, "rule": firing.rule, "time": firing.time.isoformat(),
            "title": firing.title, "key": firing.key.get("values", []),
            "group_key": firing.group_key, "event_ids": firing.event_ids,
            "resolves": firing.resolves}
