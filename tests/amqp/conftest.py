"""Fixtures for the consumer's tests: unique names, and a throw-away vhost.

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

from tests.amqp.support import rabbitmqctl, require_rabbitmqctl


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


@pytest.fixture
def vhost_url(rabbitmq_url: str) -> Iterator[str]:
    """The URL of a fresh vhost (guest has all rights), deleted with all it holds."""
    require_rabbitmqctl()
    name = f"dctest-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        scheme, _, rest = rabbitmq_url.partition("://")
        yield f"{scheme}://{rest.partition('/')[0]}/{name}"
    finally:
        rabbitmqctl("delete_vhost", name)
