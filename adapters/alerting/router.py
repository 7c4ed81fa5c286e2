"""The alert router: one message per incident group, repeats on schedule, resolves, silences,
acks, and inhibition by topology (``adapters.alerting.inhibit``).

Decisions use the firing's event time, so a replay makes the same ones as the
live run did; only delivery (retries, back-off) looks at the wall clock, and
that happens on the sinks' own threads, never in ``submit``.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, get_args

from adapters.alerting.delivery import RetryPolicy, SinkWorker
from adapters.alerting.inhibit import Inhibitor
from adapters.alerting.notice import Notice
from adapters.alerting.silences import SilenceFile
from adapters.alerting.sinks.base import Sink
from adapters.alerting.storm import StormThrottle
from adapters.deadletter import DeadLetters
from engine.firing import Firing, Severity

#: the engine's severities (``engine.firing.Severity``), lowest first
SEVERITY_LEVEL = {name: level for level, name in enumerate(get_args(Severity))}


@dataclass
class _Group:
    first_time: datetime
    last_notice: datetime
    folded: int = 0
    total: int = 1
    notified: bool = True  # had a notice of its own (not folded into a cause from the start)


def group_key_of(firing: Firing) -> str:
    """The engine's group key, or rule plus labels when a firing comes without one."""
    if firing.group_key:
        return firing.group_key
    labels = ",".join(f"{k}={v}" for k, v in sorted(firing.labels.items()))
    return f"{firing.rule}|{labels}"


def _fields_cut(sink: Sink) -> int:
    limits = getattr(sink, "limits", None)  # a sink of a site's own may have none
    return int(getattr(limits, "cut", 0))


class Router:
    """Fans firings out to sinks as notices; ``submit`` never blocks on and never raises for sinks.

    ``min_severity`` maps a sink name to the lowest severity it receives.
    Memory is bounded: at most ``max_ids`` firing ids are remembered for
    de-duplication and ``max_groups`` open groups (least recently seen go first).
    """

    def __init__(
        self,
        sinks: list[Sink],
        *,
        silences: SilenceFile | None = None,
        default_repeat: float = 4 * 3600,
        dead_letter_path: Path | None = None,
        queue_size: int = 1000,
        retry: RetryPolicy | None = None,
        min_severity: dict[str, str] | None = None,
        max_ids: int = 200_000,
        max_groups: int = 100_000,
        offer_wait: float = 0.0,
        storm: StormThrottle | None = None,
    ) -> None:
        self.dead = DeadLetters(dead_letter_path)
        self.silences = silences or SilenceFile(None)
        self.default_repeat = default_repeat
        self.max_ids = max_ids
        self.max_groups = max_groups
        #: how long ``submit`` may wait for room in a full sink queue (the live worker:
        #: a burst waits for a slow sink; its input is held back meanwhile)
        self.offer_wait = offer_wait
        #: notices per rule and in all per period across groups (``alerting.storm``)
        self.storm = storm
        levels = min_severity or {}
        self._workers = [
            (SinkWorker(sink, self.dead, queue_size=queue_size, retry=retry,
                        on_settled=self._settled),
             SEVERITY_LEVEL[levels.get(sink.name, "info")])
            for sink in sinks
        ]
        self.counts: Counter[str] = Counter()
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._groups: OrderedDict[str, _Group] = OrderedDict()
        self.inhibit = Inhibitor()
        self._lock = threading.Lock()
        #: notice id -> [sinks still to settle it, who to tell then]
        self._unsettled: dict[str, list[Any]] = {}
        #: per rule, the settle callbacks of firings folded into its next storm notice
        self._storm_settles: dict[str, list[Callable[[], None]]] = {}

    def submit(self, firing: Firing, settled: Callable[[], None] | None = None) -> None:
        """Decide what, if anything, this firing tells the sinks, and queue it.

        ``settled`` is called once every sink has sent or dead-lettered the notice
        (at once when there is nothing to send): the live worker's outbox.
        """
        with self._lock:
            notice = self._decide(firing)
            decided = notice
            notice, storms = self._throttle(notice)
            if decided is not None and notice is None and settled is not None:
                # folded into a storm: settled once the storm notice is (a crash before
                # that delivers the firing again, to be folded again)
                self._storm_settles.setdefault(decided.firing.rule, []).append(settled)
                settled = None
        self._offer_storms(storms)
        if notice is None:
            if settled is not None:
                settled()
            return
        targets = self._targets(notice)
        if settled is not None:
            if not targets:
                settled()
                return
            with self._lock:
                self._unsettled[notice.id] = [len(targets), settled]
        for worker in targets:
            worker.offer(notice, self.offer_wait)

    def _targets(self, notice: Notice) -> list[SinkWorker]:
        level = SEVERITY_LEVEL[notice.firing.severity]
        return [worker for worker, min_level in self._workers
                if notice.kind == "resolved" or level >= min_level]

    def _throttle(self, notice: Notice | None) -> tuple[Notice | None, list[Notice]]:
        """The storm throttle's verdict (``adapters.alerting.storm``); under the lock."""
        if notice is None or self.storm is None:
            return notice, []
        passed, storms = self.storm.admit(notice)
        if passed is None:
            self.counts["storm_folded"] += 1
        return passed, storms

    def _offer_storms(self, storms: list[Notice]) -> None:
        """Queue storm notices; what was folded into one is settled with it. The
        counts and the settle bookkeeping change under the lock, as /metrics reads them
        from another thread."""
        for notice in storms:
            targets = self._targets(notice)
            with self._lock:
                self.counts["storm_notices"] += 1
                settles = self._storm_settles.pop(notice.firing.rule, [])
                if settles and targets:
                    self._unsettled[notice.id] = [len(targets), _calling_all(settles)]
            if settles and not targets:
                _calling_all(settles)()
            for worker in targets:
                worker.offer(notice, self.offer_wait)

    def tick(self, now: datetime) -> None:
        """Let the clock close a storm period with no firing to do it (live mode)."""
        if self.storm is not None:
            with self._lock:
                storms = self.storm.tick(now)
            self._offer_storms(storms)

    def _settled(self, notice: Notice) -> None:
        with self._lock:
            entry = self._unsettled.get(notice.id)
            if entry is None:
                return
            entry[0] -= 1
            if entry[0] > 0:
                return
            del self._unsettled[notice.id]
        entry[1]()

    def _decide(self, firing: Firing) -> Notice | None:
        self.counts["submitted"] += 1
        if firing.id in self._ids:
            self.counts["duplicate"] += 1
            return None
        self._ids[firing.id] = None
        if len(self._ids) > self.max_ids:
            self._ids.popitem(last=False)
        key = group_key_of(firing)
        if firing.resolves:
            group = self._groups.pop(key, None)
            if group is None:
                self.counts["resolve_without_group"] += 1
                return None
            also = self.inhibit.affected(key)
            self.inhibit.resolved(key)
            if not group.notified:  # its cause's notices carried it
                self.counts["inhibited"] += 1
                return None
            self.counts["resolved"] += 1
            return Notice("resolved", firing, key, group.first_time, group.folded, group.total,
                          also)
        self.inhibit.cause(firing, key, self._groups.__contains__)  # even if silenced
        if self.silences.matching(firing) is not None:
            self.counts["silenced"] += 1
            return None
        group = self._groups.get(key)
        if group is None:
            cause = self.inhibit.opened(firing, key)
            self._groups[key] = _Group(first_time=firing.time, last_notice=firing.time,
                                       notified=cause is None)
            if len(self._groups) > self.max_groups:
                self._groups.popitem(last=False)
                self.counts["groups_evicted"] += 1
            if cause is not None:
                self.counts["inhibited"] += 1
                return self._update(cause, firing.time)
            self.counts["notified"] += 1
            return Notice("firing", firing, key, firing.time, 0, 1, self.inhibit.affected(key))
        self._groups.move_to_end(key)
        group.total += 1
        if self.inhibit.explained_by(key) is not None:
            group.folded += 1
            self.counts["inhibited"] += 1
            return None
        if not group.notified:  # its cause resolved: it speaks for itself now
            group.notified, group.folded, group.last_notice = True, 0, firing.time
            self.counts["notified"] += 1
            return Notice("firing", firing, key, group.first_time, 0, group.total)
        repeat = firing.repeat_seconds if firing.repeat_seconds is not None else (
            self.default_repeat)
        if (firing.time - group.last_notice).total_seconds() < repeat:
            group.folded += 1
            self.counts["suppressed"] += 1
            for worker, _ in self._workers:
                worker.sink.seen(key, firing)
            return None
        if self.silences.acked(key, firing.time, group.first_time) is not None:
            group.folded += 1
            self.counts["acked"] += 1
            return None
        notice = Notice("repeat", firing, key, group.first_time, group.folded, group.total,
                        self.inhibit.affected(key))
        group.folded = 0
        group.last_notice = firing.time
        self.counts["repeated"] += 1
        return notice

    def _update(self, cause_key: str, at: datetime) -> Notice | None:
        """The cause's group, told what it now also explains (unless silenced or acked)."""
        group = self._groups.get(cause_key)
        latest = self.inhibit.latest(cause_key)
        if group is None or latest is None or not group.notified:
            return None
        if self.silences.acked(cause_key, at, group.first_time) is not None:
            return None
        self.counts["updated"] += 1
        return Notice("update", latest, cause_key, group.first_time, group.folded, group.total,
                      self.inhibit.affected(cause_key), decided=at)

    def stats(self) -> dict[str, Any]:
        """Router decisions, per-sink delivery counts and queue depths, dead letters."""
        with self._lock:
            out: dict[str, Any] = dict(self.counts)
            out["open_groups"] = len(self._groups)
            out["inhibition"] = self.inhibit.stats()
        out["sinks"] = {
            worker.sink.name: {**worker.counts, **worker.sink.stats(),
                               "pending": worker.pending(),
                               "fields_cut": _fields_cut(worker.sink)}
            for worker, _ in self._workers
        }
        out["dead_lettered"] = self.dead.total
        out["silence_file_errors"] = self.silences.errors
        return out

    def close(self, timeout: float = 10.0) -> None:
        """Drain every sink's queue for up to ``timeout`` seconds (in parallel), then stop."""
        if self.storm is not None:
            with self._lock:
                storms = self.storm.flush()
            self._offer_storms(storms)
        threads = [threading.Thread(target=worker.close, args=(timeout,))
                   for worker, _ in self._workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def _calling_all(callbacks: list[Callable[[], None]]) -> Callable[[], None]:
    """One callback that calls each of ``callbacks`` in turn."""
    def call_all() -> None:
        for callback in callbacks:
            callback()
    return call_all
