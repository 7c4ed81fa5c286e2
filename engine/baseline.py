"""The ``baseline`` operator: a value against its own per-key moving average.

"Slow" only means something against what is normal for that request: an
action that takes 60 s every day is fine, one that took 4 s and now takes
138 s is the incident. State per key is tiny (average, samples, breach flag)
and lives in the StateStore with a TTL, like every other operator's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from engine.events import Event
from engine.operators import Evidence, Operator
from engine.schema import Baseline
from engine.store import StateStore

#: the observed value, read from the event's fields (``Event.__dict__``) like a key
ValueFn = Callable[[dict[str, Any]], Any]


class BaselineOp(Operator):
    """Fires when a key's value exceeds ``factor`` x its EWMA (once per breach)."""

    kind = "baseline"

    def __init__(self, rule_id: str, store: StateStore, lateness: float, spec: Baseline,
                 value: ValueFn) -> None:
        super().__init__(rule_id, store, lateness)
        self.spec = spec
        self.value = value

    def on_event(self, role: str, event: Event, ts: float, key: tuple[Any, ...],
                 key_str: str) -> Sequence[Evidence]:
        got = self.value(event.__dict__)
        if got is None or got == "":
            return []
        try:
            value = float(got)
        except (TypeError, ValueError):
            return []
        extra = self.store.update(self._key_prefix + key_str, self._observe, self.spec.ttl, ts,
                                  value)
        if extra is None:
            return []
        return [Evidence([event], key, ts, extra)]

    def describe(self, key_str: str) -> dict[str, Any]:
        state = self.store.get(self._key_prefix + key_str)
        mean, samples, breached = state if state else (None, 0, False)
        spec = self.spec
        return {"mean": mean, "samples": samples, "breached": breached,
                "factor": spec.factor, "min": spec.min, "min_samples": spec.min_samples}

    def _observe(self, old: Any, value: float) -> tuple[Any, dict[str, Any] | None]:
        """State: (moving mean, samples, in breach); a breach fires once, on entry."""
        spec = self.spec
        mean, samples, breached = old if old else (value, 0, False)
        if samples >= spec.min_samples and value > spec.min and value > spec.factor * mean:
            if breached:
                return (mean, samples, True), None
            return (mean, samples, True), {"baseline": mean, "value": value,
                                           "ratio": value / mean if mean else None,
                                           "samples": samples}
        mean = value if samples == 0 else mean + spec.alpha * (value - mean)
        return (mean, samples + 1, False), None
