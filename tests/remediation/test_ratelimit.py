"""The rate limiter: the same decisions as the plain sliding window it replaced, with only
the windows that can still refuse something held (so its cost per firing stays flat)."""

from __future__ import annotations

import random

from adapters.remediation.config import RateLimit
from adapters.remediation.ratelimit import RateLimiter


class PlainWindows:
    """The reference: every key's slots kept forever, checked as the docs say (slots
    older than the longest window dropped, as the clock never goes back)."""

    def __init__(self) -> None:
        self.slots: dict[str, list[float]] = {}
        self.now = float("-inf")

    def admit(self, limits: list[tuple[str, RateLimit]], now: float) -> str | None:
        self.now = now = max(now, self.now)
        for key, limit in limits:
            slots = self.slots.get(key, [])
            slots[:] = [t for t in slots if t > now - 3600]
            if sum(t > now - limit.per for t in slots) >= limit.count:
                return key
        for key, _limit in limits:
            self.slots.setdefault(key, []).append(now)
        return None


def _limits(rng: random.Random, targets: int) -> list[tuple[str, RateLimit]]:
    hook = rng.choice(["port.disable", "server.stop", "command.run"])
    per_hook = {"port.disable": RateLimit(count=20, per=600),
                "server.stop": RateLimit(count=40, per=3600),
                "command.run": RateLimit(count=8, per=60)}[hook]
    target = f"{hook}:{rng.randrange(targets)}"
    return [(f"hook:{hook}", per_hook), (f"target:{target}", RateLimit(count=2, per=300))]


def test_same_decisions_as_the_plain_sliding_window_on_a_random_sequence() -> None:
    rng = random.Random(1917)
    fast, plain = RateLimiter(), PlainWindows()
    now = 1_700_000_000.0
    decisions = []
    for _ in range(20_000):
        now += rng.expovariate(1 / 20.0) - (30.0 if rng.random() < 0.05 else 0.0)  # some late
        limits = _limits(rng, 40)
        got, want = fast.admit(limits, now), plain.admit(limits, now)
        assert got == want
        decisions.append(got)
    refused = [d for d in decisions if d is not None]
    assert len(refused) > 1000 and len(decisions) - len(refused) > 1000
    assert len({d for d in refused if d.startswith("target:")}) > 50  # refused by many windows
    assert {d for d in refused if d.startswith("hook:")}


def test_windows_held_are_only_those_that_can_still_refuse() -> None:
    limiter = RateLimiter()
    limit = RateLimit(count=1, per=3600)
    for i in range(200_000):  # a new target every second: an hour's worth can refuse
        assert limiter.admit([(f"target:{i}", limit)], 1_700_000_000.0 + i) is None
    assert len(limiter) <= 3601


def test_a_zero_limit_refuses_even_the_first() -> None:
    limiter = RateLimiter()
    assert limiter.admit([("hook:x", RateLimit(count=0, per=60))], 0.0) == "hook:x"
