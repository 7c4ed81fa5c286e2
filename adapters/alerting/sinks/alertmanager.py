"""Alertmanager v2 (``POST /api/v2/alerts``), so teams keep their own routing and silences."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import orjson

from adapters.alerting.escape import escape_limited
from adapters.alerting.notice import Notice
from adapters.alerting.sinks.base import Sink, post_json

_LABEL_NAME = re.compile(r"[^a-zA-Z0-9_]")


def label_name(key: str) -> str:
    """Alertmanager label names must match ``[a-zA-Z_][a-zA-Z0-9_]*``."""
    name = _LABEL_NAME.sub("_", key) or "_"
    return name if not name[0].isdigit() else "_" + name


class AlertmanagerSink(Sink):
    """Each notice becomes one alert; a resolve sets ``endsAt`` to the resolving event's time.

    A firing alert's ``endsAt`` is its event time plus ``active_for`` (the
    group's repeat interval by default), renewed by every repeat notice, so
    Alertmanager keeps it active between repeats and times it out if the
    engine stops talking. Values are escaped as plain text (mentions broken,
    links defanged) because Alertmanager passes them on to chat receivers.
    """

    def __init__(
        self,
        url: str,
        *,
        name: str = "alertmanager",
        timeout: float = 10.0,
        headers: dict[str, str] | None = None,
        default_active_for: float = 4 * 3600,
        generator_url: str = "",
        max_value: int = 1024,
    ) -> None:
        self.name = name
        self.url = url.rstrip("/") + "/api/v2/alerts"
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self.default_active_for = default_active_for
        self.generator_url = generator_url
        self.max_value = max_value
        self._client = httpx.Client(timeout=timeout)

    def alert(self, notice: Notice) -> dict[str, object]:
        firing = notice.firing
        labels = {label_name(k): escape_limited(v, "plain", self.max_value, single_line=True)
                  for k, v in firing.labels.items()}
        labels.setdefault("alertname", firing.rule)
        labels.setdefault("rule", firing.rule)
        labels.setdefault("severity", firing.severity)
        labels["dreamcatcher_group"] = escape_limited(notice.group_key, "plain", self.max_value)
        annotations = {
            "summary": escape_limited(firing.title, "plain", self.max_value, single_line=True),
            "description": escape_limited(firing.text, "plain", 8 * self.max_value),
            "firing_id": firing.id,
            "folded": str(notice.folded),
        }
        if notice.kind == "resolved":
            starts, ends = notice.first_time, firing.time
        else:
            starts = notice.first_time
            active = firing.repeat_seconds or self.default_active_for
            ends = firing.time + timedelta(seconds=active)
        alert: dict[str, object] = {
            "labels": labels,
            "annotations": annotations,
            "startsAt": starts.isoformat(),
            "endsAt": ends.isoformat(),
        }
        if self.generator_url:
            alert["generatorURL"] = self.generator_url
        return alert

    def send(self, notice: Notice) -> None:
        post_json(self._client, self.url, orjson.dumps([self.alert(notice)]), self.headers)

    def close(self) -> None:
        self._client.close()
