"""A generic JSON webhook, optionally signed with HMAC-SHA256 so the receiver can trust it."""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx
import orjson

from adapters.alerting.limits import MAX_FIELD, MAX_ITEMS, FieldLimits
from adapters.alerting.notice import Notice
from adapters.alerting.sinks.base import Sink, post_json

SIGNATURE_HEADER = "X-Dreamcatcher-Signature"
TIMESTAMP_HEADER = "X-Dreamcatcher-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``<timestamp>.<body>``; the timestamp lets receivers refuse replays."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookSink(Sink):
    """POSTs ``Notice.as_json()``. JSON encoding keeps tenant text inert; every field
    over the limits (titles, labels, action arguments, id lists) is cut."""

    def __init__(
        self,
        url: str,
        *,
        name: str = "webhook",
        timeout: float = 10.0,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
        max_field: int = MAX_FIELD,
        max_items: int = MAX_ITEMS,
    ) -> None:
        self.name = name
        self.url = url
        self.secret = secret
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self.limits = FieldLimits(max_field, max_items)
        self._client = httpx.Client(timeout=timeout)

    def payload(self, notice: Notice) -> bytes:
        return orjson.dumps(self.limits.bound(notice.as_json()))

    def send(self, notice: Notice) -> None:
        body = self.payload(notice)
        headers = dict(self.headers)
        if self.secret:
            stamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = stamp
            headers[SIGNATURE_HEADER] = sign(self.secret, stamp, body)
        post_json(self._client, self.url, body, headers)

    def close(self) -> None:
        self._client.close()
