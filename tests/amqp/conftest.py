"""Fixtures for the consumer's tests: unique names (the throw-away vhost is in tests/conftest.py).

Tests that publish to real service exchange names (``nova``, ``openstack``)
or to shared queue names (``notifications.info``) get a vhost of their own,
created and deleted with ``rabbitmqctl``, so they neither steal from nor leave
anything on the shared broker.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from kombu import Connection


@pytest.fixture
def names(rabbitmq_url: str) -> Iterator[dict[str, str]]:
    tag = uuid.uuid4().hex[:8]
    result = {"exchange": f"dctest-{tag}-nova", "prefix": f"dctest-{tag}"}
    yield result
    with Connection(rabbitmq_url) as conn:
        channel = conn.channel()
        for queue in (f"{result['prefix']}.notifications", f"{result['prefix']}.dead"):
            channel.queue_delete(queue)
        channel.exchange_delete(result["exchange"])
