"""Alertmanager v2 (``POST /api/v2/alerts``), so teams keep their own routing and silences.

Alertmanager ends an alert at its ``endsAt``, or ``resolve_timeout`` (5m by default)
after the last post when it has none. So an open group is posted without ``endsAt``
and re-posted every ``resend`` (wall clock, well under ``resolve_timeout``) while it
lives; ``endsAt`` is set only when it ends: the router's resolve, or ``quiet`` (the
rule's repeat interval) of wall-clock time without a firing, folded ones included.
One alert per group, its labels fixed when the group opens, so every post of it is
the same Alertmanager alert.

Outside the live worker (``replay``, ``demo``, ``backtest``) nothing is posted: a
replay's incidents are history, and Alertmanager pages for the present only; the
notices still reach the other sinks. See docs/actions.md, "Alertmanager".
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import orjson
import structlog

from adapters.alerting.durations import parse_duration
from adapters.alerting.limits import FieldLimits
from adapters.alerting.notice import Notice
from adapters.alerting.sinks.base import DeliveryError, Sink, post_json
from engine.firing import Firing

log = structlog.get_logger(__name__)

_LABEL_NAME = re.compile(r"[^a-zA-Z0-9_]")
#: labels the sink sets itself: a rule or the deployment cannot override them
RESERVED_LABELS = ("alertname", "rule", "severity", "dreamcatcher_group")


def label_name(key: str) -> str:
    """Alertmanager label names must match ``[a-zA-Z_][a-zA-Z0-9_]*``."""
    name = _LABEL_NAME.sub("_", key) or "_"
    return name if not name[0].isdigit() else "_" + name


def generator_url(base: str, rule: str, group: str) -> str:
    """``base`` with ``{rule}`` and ``{group}`` filled in (URL-quoted), or, without
    placeholders, with ``rule`` and ``group`` as query parameters; "" without a base."""
    if not base:
        return ""
    if "{rule}" in base or "{group}" in base:
        return base.replace("{rule}", quote(rule, safe="")).replace(
            "{group}", quote(group, safe=""))
    return base + ("&" if "?" in base else "?") + urlencode({"rule": rule, "group": group})


@dataclass
class _Open:
    """One group Alertmanager holds as firing: its alert (without ``endsAt``), when it
    last fired (monotonic), how long it may stay quiet, and when it is due again."""

    alert: dict[str, Any]
    heard: float
    quiet: float
    due: float


class AlertmanagerSink(Sink):
    """Each group becomes one Alertmanager alert, kept firing while the group lives.

    Values are escaped as plain text (mentions broken, links defanged) because
    Alertmanager passes them on to chat receivers. ``labels`` are the
    deployment's (``alerting.labels``: region, cloud), on every alert.
    """

    def __init__(
        self,
        url: str,
        *,
        name: str = "alertmanager",
        timeout: float = 10.0,
        headers: dict[str, str] | None = None,
        resend: float | str = 60.0,
        quiet: float | str | None = None,
        default_active_for: float | str = 4 * 3600,
        generator_url: str = "",
        labels: dict[str, str] | None = None,
        live: bool = True,
        max_value: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.url = url.rstrip("/") + "/api/v2/alerts"
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self.resend = parse_duration(resend)
        if self.resend <= 0:
            raise ValueError("resend must be more than 0s")
        #: quiet time that ends a group; None: the rule's repeat, else default_active_for
        self.quiet = None if quiet is None else parse_duration(quiet)
        self.default_active_for = parse_duration(default_active_for)
        self.generator_url = generator_url
        self.max_value = max_value
        #: a label or the summary at most max_value characters, the description 8x that
        self.limits = FieldLimits(8 * max_value)
        self.live = live
        self.deployment_labels = {label_name(k): str(v) for k, v in (labels or {}).items()}
        clash = sorted(set(self.deployment_labels) & set(RESERVED_LABELS))
        if clash:
            raise ValueError(f"deployment labels may not set {clash}: the sink sets them")
        #: notices of a replay, not posted (history); posts made by the ticker and failed
        self.history_not_sent = 0
        self.resent = 0
        self.resend_failures = 0
        self.expired = 0
        self._clock = clock
        self._client = httpx.Client(timeout=timeout)
        self._open: dict[str, _Open] = {}
        self._state = threading.Lock()  # the open groups
        self._io = threading.Lock()  # one post at a time, so a resolve is never overtaken
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if live:
            self._ticker = threading.Thread(target=self._tick_loop, name=f"ticker-{name}",
                                            daemon=True)
            self._ticker.start()

    # -- what an alert says

    def _labels(self, firing: Firing, group_key: str) -> dict[str, str]:
        labels = {label_name(k): self._value(v) for k, v in firing.labels.items()}
        labels.update(self.deployment_labels)
        labels["alertname"] = firing.rule
        labels["rule"] = firing.rule
        labels["severity"] = firing.severity  # one vocabulary: engine.firing.Severity
        labels["dreamcatcher_group"] = self._value(group_key)
        return labels

    def _value(self, text: str) -> str:
        return self.limits.text(text, "plain", self.max_value, single_line=True)

    def _annotations(self, notice: Notice) -> dict[str, str]:
        firing = notice.firing
        return {
            "summary": self._value(firing.title),
            "description": self.limits.text(firing.text, "plain"),
            "firing_id": firing.id,
            "folded": str(notice.folded),
            "total": str(notice.total),
        }

    def alert(self, notice: Notice) -> dict[str, Any]:
        """The alert a notice opens or updates (no ``endsAt``: it is firing)."""
        firing = notice.firing
        alert: dict[str, Any] = {
            "labels": self._labels(firing, notice.group_key),
            "annotations": self._annotations(notice),
            "startsAt": notice.first_time.isoformat(),
        }
        url = generator_url(self.generator_url, firing.rule, notice.group_key)
        if url:
            alert["generatorURL"] = url
        return alert

    def _quiet_for(self, firing: Firing) -> float:
        if self.quiet is not None:
            return self.quiet
        return firing.repeat_seconds or self.default_active_for

    # -- the notices

    def send(self, notice: Notice) -> None:
        if not self.live:
            if self.history_not_sent == 0:
                log.warning("alertmanager sink: not posting a replay's alerts (history)",
                            sink=self.name)
            self.history_not_sent += 1
            return
        with self._io:
            if notice.kind == "resolved":
                self._resolve(notice)
                return
            now = self._clock()
            with self._state:
                known = self._open.get(notice.group_key)
            alert = self.alert(notice)
            if known is not None:  # a repeat: same labels and start, the news of now
                alert = {**known.alert, "annotations": alert["annotations"]}
            elif notice.kind == "repeat":  # ended here when quiet, firing again: from now
                alert["startsAt"] = notice.firing.time.isoformat()
            self._post([alert])
            with self._state:
                self._open[notice.group_key] = _Open(
                    alert, now, self._quiet_for(notice.firing), now + self.resend)

    def _resolve(self, notice: Notice) -> None:
        with self._state:
            known = self._open.pop(notice.group_key, None)
        base = known.alert if known is not None else self.alert(notice)
        alert = {**base, "annotations": {**base["annotations"],
                                         **self._annotations(notice)},
                 "endsAt": notice.firing.time.isoformat()}
        self._post([alert])

    def seen(self, group_key: str, firing: Firing) -> None:
        """A firing folded into an open group: the group is alive, whatever the notices."""
        with self._state:
            known = self._open.get(group_key)
            if known is not None:
                known.heard = max(known.heard, self._clock())

    def _post(self, alerts: list[dict[str, Any]]) -> None:
        post_json(self._client, self.url, orjson.dumps(alerts), self.headers)

    # -- the ticker

    def tick(self) -> None:
        """Re-post the open groups that are due, end those quiet for too long."""
        with self._io:
            now = self._clock()
            wall = datetime.now(UTC).isoformat()
            due: dict[str, dict[str, Any]] = {}
            ended: list[dict[str, Any]] = []
            with self._state:
                for key, group in list(self._open.items()):
                    if now - group.heard >= group.quiet:
                        del self._open[key]
                        ended.append({**group.alert, "endsAt": wall})
                    elif now >= group.due:
                        due[key] = group.alert
            if not due and not ended:
                return
            try:
                self._post(ended + list(due.values()))
            except DeliveryError as exc:  # the next tick tries again; AM waits resolve_timeout
                self.resend_failures += 1
                log.warning("alertmanager re-send failed", sink=self.name, error=str(exc))
                return
            self.expired += len(ended)
            self.resent += len(due)
            with self._state:
                for key in due:
                    still = self._open.get(key)
                    if still is not None:
                        still.due = now + self.resend

    def _tick_loop(self) -> None:
        period = min(1.0, self.resend / 4)
        while not self._stop.wait(period):
            try:
                self.tick()
            except Exception:  # never the end of the ticker: the next one tries again
                log.exception("alertmanager ticker failed", sink=self.name)

    def stats(self) -> dict[str, int]:
        with self._state:
            open_groups = len(self._open)
        return {"open_groups": open_groups, "resent": self.resent, "expired": self.expired,
                "resend_failures": self.resend_failures,
                "history_not_sent": self.history_not_sent}

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
        self._client.close()
