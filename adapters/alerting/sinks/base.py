"""The sink contract: deliver one notice or say whether trying again could help."""

from __future__ import annotations

from abc import ABC, abstractmethod

import httpx

from adapters.alerting.limits import FieldLimits
from adapters.alerting.notice import Notice
from engine.firing import Firing


class DeliveryError(Exception):
    """A failed delivery; ``retryable`` is False when repeating cannot succeed (4xx)."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Sink(ABC):
    """One destination. ``send`` runs on the sink's own delivery thread."""

    name: str = "sink"
    #: the field limits this sink enforces and counts (``adapters.alerting.limits``);
    #: every sink sets its own in ``__init__``
    limits: FieldLimits

    @abstractmethod
    def send(self, notice: Notice) -> None:
        """Deliver ``notice`` or raise DeliveryError."""

    def seen(self, group_key: str, firing: Firing) -> None:  # noqa: B027 - most ignore it
        """A firing the router folded into open group ``group_key`` (no notice follows).
        Called on the router's thread, so it must be quick; a sink that keeps a group
        alive between notices (Alertmanager) notes it."""

    def stats(self) -> dict[str, int]:
        """The sink's own counters, beside the delivery thread's (``Router.stats``)."""
        return {}

    def close(self) -> None:  # noqa: B027 - most sinks hold nothing to release
        """Release connections and files."""


def check_response(response: httpx.Response) -> None:
    """Raise DeliveryError for a non-2xx answer; 408, 429 and 5xx are worth retrying."""
    if response.is_success:
        return
    retryable = response.status_code in (408, 425, 429) or response.status_code >= 500
    raise DeliveryError(
        f"HTTP {response.status_code}: {response.text[:200]}", retryable=retryable
    )


def post_json(client: httpx.Client, url: str, content: bytes, headers: dict[str, str]) -> None:
    """POST ``content``; timeouts and connection failures become retryable errors."""
    try:
        response = client.post(url, content=content, headers=headers)
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"timeout: {exc!r}") from exc
    except httpx.HTTPError as exc:
        raise DeliveryError(f"connection failed: {exc!r}") from exc
    check_response(response)
