"""The worker's Prometheus metrics: one registry, plain methods for the hot path.

The worker calls ``event_in``/``firing``/... once per item, so each method is a
dict lookup of a pre-bound child plus an increment; ``prometheus_client``'s own
``labels()`` validates and locks on every call. Label values are bounded: an
event type or rule name past ``max_series`` distinct values per metric is
counted as ``other`` (a flood of unknown types must not grow the scrape without
limit), and a dead letter's reason is reduced to its class (``reason_class``).
State-like figures (store size, queue depths, watermark lag) are read through
callbacks at scrape time, so they cost nothing between scrapes.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

#: Publish-to-ack is a few milliseconds on a healthy worker; the tail is what pages.
ACK_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
               2.5, 5.0, 10.0, 30.0)
OTHER = "other"
_REASON_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def reason_class(reason: str, words: int = 3) -> str:
    """A dead letter's reason as a bounded label: the text before its first ``:`` (where
    every producer puts the detail), at most ``words`` words, lower case.

    ``"not JSON: unexpected character..."`` -> ``not json``;
    ``"syslog parse failed: ValueError('x')"`` -> ``syslog parse failed``.
    """
    head = reason.split(":", 1)[0]
    found = _REASON_WORD.findall(head)[:words]
    return " ".join(found).lower()[:60] or "unknown"


class _Children:
    """The children of one labelled metric, cached by label tuple and bounded in number."""

    __slots__ = ("_cache", "_max", "_metric", "_other")

    def __init__(self, metric: Any, arity: int, max_series: int) -> None:
        self._metric = metric
        self._cache: dict[tuple[str, ...], Any] = {}
        self._max = max_series
        self._other = (OTHER,) * arity

    def get(self, key: tuple[str, ...]) -> Any:
        child = self._cache.get(key)
        if child is None:
            if len(self._cache) >= self._max:
                key = self._other
                child = self._cache.get(key)
            if child is None:
                child = self._metric.labels(*key)
                self._cache[key] = child
        return child


class _Callback(Collector):
    """A gauge (or counter) family whose samples come from a callback at scrape time."""

    def __init__(self, name: str, doc: str, label: str | None,
                 family: type[GaugeMetricFamily | CounterMetricFamily] = GaugeMetricFamily
                 ) -> None:
        self.name, self.doc, self.label, self.family = name, doc, label, family
        self.source: Callable[[], Any] | None = None

    def _empty(self) -> GaugeMetricFamily | CounterMetricFamily:
        return self.family(self.name, self.doc, labels=[self.label] if self.label else None)

    def describe(self) -> Iterator[Metric]:
        yield self._empty()

    def collect(self) -> Iterator[Metric]:
        family = self._empty()
        if self.source is not None:
            try:
                value = self.source()
            except Exception:  # a broken probe must not take the whole scrape down
                log.exception("metrics callback for %s failed", self.name)
                value = None
            if isinstance(value, Mapping):
                for key, number in sorted(value.items()):
                    family.add_metric([str(key)], float(number))
            elif value is not None:
                family.add_metric([], float(value))
        yield family


class Metrics:
    """Every figure the worker exports, in its own registry (never the global one, so
    two workers in one test process do not collide)."""

    def __init__(self, *, max_series: int = 500, namespace: str = "dreamcatcher") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reg, ns = self.registry, namespace

        def counter(name: str, doc: str, labels: tuple[str, ...]) -> _Children:
            metric = Counter(f"{ns}_{name}", doc, labels, registry=reg)
            return _Children(metric, len(labels), max_series)

        self._events = counter("events", "Events into the engine, by source and type",
                               ("source", "type"))
        self._unparsed = counter("log_lines_unparsed", "Log lines no parser could read",
                                 ("source",))
        self._ignored = counter("log_lines_ignored",
                                "Log lines read but of no interest to any rule", ("source",))
        self._dead = counter("dead_letters", "Inputs dead-lettered, by reason class",
                             ("reason",))
        self._firings = counter("firings", "Rule firings", ("rule",))
        self._notices = counter("notices", "Alert notices settled, by sink and outcome",
                                ("sink", "outcome"))
        self._failures = counter("delivery_failures",
                                 "Failed delivery attempts (retried or given up), by sink",
                                 ("sink",))
        self._store_errors = counter("store_errors",
                                     "Failed calls to the state store, each retried with "
                                     "back-off, by where (batch, commit, tick, drain)",
                                     ("where",))
        self._udp = counter("udp_dropped", "Syslog datagrams dropped before the engine",
                            ("listener",))
        self._future = counter("future_events",
                               "Events stamped too far ahead of the clock (clock.max_future), "
                               "by source and what was done: arrival, dead_lettered",
                               ("source", "action"))
        self._limited = counter("log_input_limited",
                                "Log lines cut and syslog connections refused or closed at "
                                "a bound, by source and reason", ("source", "reason"))
        self._storm_folded = Counter(f"{ns}_storm_folded", "Firings the storm throttle "
                                     "folded into a storm notice instead of sending",
                                     registry=reg)
        self._storm_notices = Counter(f"{ns}_storm_notices", "Storm notices sent (each "
                                      "stands for the firings folded into it)", registry=reg)
        self._fields_cut = counter("fields_cut", "Alert template fields cut at the sink's "
                                   "field limits, by sink", ("sink",))
        self._ack = Histogram(f"{ns}_ack_latency_seconds",
                              "From a message's arrival to its ack (effects stored)",
                              buckets=ACK_BUCKETS, registry=reg)
        self._store = _Callback(f"{ns}_store_entries", "Entries in the state store by kind",
                                "kind")
        self._queues = _Callback(f"{ns}_queue_depth",
                                 "Items waiting, by source (broker queue, file backlog, "
                                 "engine queue)", "source")
        self._lag = _Callback(f"{ns}_watermark_lag_seconds",
                              "Wall clock minus the engine's event-time watermark", None)
        self._kernel_udp = _Callback(f"{ns}_udp_kernel_dropped",
                                     "Datagrams the kernel dropped on a full receive buffer",
                                     "listener", CounterMetricFamily)
        for collector in (self._store, self._queues, self._lag, self._kernel_udp):
            reg.register(collector)

    # -- the hot path -----------------------------------------------------------------
    def event_in(self, source: str, event_type: str) -> None:
        self._events.get((source, event_type)).inc()

    def unparsed(self, source: str, n: int = 1) -> None:
        self._unparsed.get((source,)).inc(n)

    def ignored(self, source: str, n: int = 1) -> None:
        self._ignored.get((source,)).inc(n)

    def dead_letter(self, reason: str, n: int = 1) -> None:
        self._dead.get((reason_class(reason),)).inc(n)

    def firing(self, rule: str) -> None:
        self._firings.get((rule,)).inc()

    def notice(self, sink: str, outcome: str, n: int = 1) -> None:
        """``outcome``: delivered, dead_lettered, silenced, suppressed... (the router's words)."""
        self._notices.get((sink, outcome)).inc(n)

    def delivery_failure(self, sink: str, n: int = 1) -> None:
        self._failures.get((sink,)).inc(n)

    def store_error(self, where: str) -> None:
        self._store_errors.get((where,)).inc()

    def udp_dropped(self, listener: str, n: int = 1) -> None:
        self._udp.get((listener,)).inc(n)

    def future_event(self, source: str, action: str, n: int = 1) -> None:
        self._future.get((source, action)).inc(n)

    def log_limited(self, source: str, reason: str, n: int = 1) -> None:
        self._limited.get((source, reason)).inc(n)

    def storm(self, folded: int, notices: int) -> None:
        """The storm throttle's growth: firings folded, storm notices sent."""
        if folded:
            self._storm_folded.inc(folded)
        if notices:
            self._storm_notices.inc(notices)

    def fields_cut(self, sink: str, n: int = 1) -> None:
        self._fields_cut.get((sink,)).inc(n)

    def ack_latency(self, seconds: float) -> None:
        self._ack.observe(seconds)

    # -- read at scrape time -------------------------------------------------------------
    def watch_store(self, sizes: Callable[[], Mapping[str, float]]) -> None:
        """``sizes()`` -> entries by kind (facts, timers, dedup marks...)."""
        self._store.source = sizes

    def watch_queues(self, depths: Callable[[], Mapping[str, float]]) -> None:
        """``depths()`` -> waiting items by source."""
        self._queues.source = depths

    def watch_lag(self, lag: Callable[[], float | None]) -> None:
        """``lag()`` -> seconds the watermark is behind the wall clock (None: no event yet)."""
        self._lag.source = lag

    def watch_udp_sockets(self, sockets: Callable[[], Mapping[str, socket.socket]]) -> None:
        """``sockets()`` -> the UDP listeners by name; their kernel drops are exported."""
        self._kernel_udp.source = lambda: {name: kernel_udp_drops(sock)
                                           for name, sock in sockets().items()}

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


def kernel_udp_drops(sock: socket.socket) -> int:
    """Datagrams the kernel dropped for ``sock`` (its receive buffer was full), from
    ``/proc/net/udp[6]``: the drops that happen when the reader falls behind, which no
    user-space counter can see. 0 where /proc is not available."""
    inode = _inode(sock)
    for name in ("udp", "udp6"):
        try:
            lines = Path(f"/proc/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) >= 13 and cols[9] == inode:
                return int(cols[12])
    return 0


def _inode(sock: socket.socket) -> str:
    try:
        link = Path(f"/proc/self/fd/{sock.fileno()}").readlink().name  # socket:[12345]
    except OSError:
        return ""
    return link.removeprefix("socket:[").removesuffix("]")
