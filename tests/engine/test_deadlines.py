"""The deadline queue against a plain sorted list, with in-order and late items mixed."""

from __future__ import annotations

import math
import random

from engine.deadlines import DeadlineQueue


def test_pops_exactly_the_due_items_in_due_order() -> None:
    rng = random.Random(3)
    queue: DeadlineQueue[int] = DeadlineQueue()
    reference: list[tuple[float, int]] = []
    now = 0.0
    for i in range(5000):
        now += rng.random() * 0.05
        # mostly in order (lane), sometimes earlier than the last (buckets)
        due = now + 10.0 if rng.random() < 0.8 else now + rng.random() * 10.0
        queue.add(due, i)
        reference.append((due, i))
        if i % 97 == 0:
            cut = now - 1.0 + rng.random() * 12.0
            popped = queue.pop_due(cut)
            expected = sorted((d, n) for d, n in reference if d <= cut)
            assert popped == expected  # random dues: no ties
            reference = [(d, n) for d, n in reference if d > cut]
            assert queue.next_due == (min(d for d, _ in reference) if reference else math.inf)
            assert len(queue) == len(reference)
    assert sorted(queue.pop_due(math.inf)) == sorted(reference)
    assert queue.peek() is None


def test_late_items_come_back_with_their_due_times_in_due_order() -> None:
    queue: DeadlineQueue[str] = DeadlineQueue()
    queue.add(5.0, "keep")
    queue.add(6.0, "later")
    queue.add(1.0, "late")  # earlier than the lane's last: goes to a bucket
    assert queue.next_due == 1.0
    assert queue.pop_due(5.5) == [(1.0, "late"), (5.0, "keep")]
    assert queue.next_due == 6.0 and len(queue) == 1


def test_pop_lapsed_takes_exactly_what_made_plus_ttl_has_passed() -> None:
    rng = random.Random(8)
    for _ in range(300):
        queue: DeadlineQueue[int] = DeadlineQueue()
        ttl = rng.choice([0.1, 0.3, 7.7, 600.0, 21600.0])
        made = [rng.uniform(1e9, 1e9 + 50) for _ in range(40)]
        for i, m in enumerate(sorted(made)):
            queue.add(m, i)
        left = dict(enumerate(sorted(made)))
        for m in sorted(rng.sample(made, 10)):
            # at a lapse exactly, and an ulp either side of it
            for now in (math.nextafter(m + ttl, 0), m + ttl, math.nextafter(m + ttl, math.inf)):
                got = queue.pop_lapsed(now, ttl)
                assert got == sorted((t, i) for i, t in left.items() if t + ttl <= now)
                for _t, i in got:
                    del left[i]
        assert len(queue) == len(left)
