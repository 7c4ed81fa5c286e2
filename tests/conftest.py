"""Shared fixtures: the vendored corpus, and the real local RabbitMQ and Redis.

A test that needs a service skips with the reason when the service is down,
except under ``CI=true``, where a missing service fails the test instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paths import CORPUS

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (or, in CI, fail) when a real service the test needs is down."""
    if _reachable(host, port):
        return
    unavailable(f"{name} is not reachable at {host}:{port}")


def unavailable(reason: str) -> None:
    """A service or tool the test needs is missing: skip with ``reason``, fail under CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: service tests must run, not skip)")
    pytest.skip(reason)


def require_tool(name: str) -> str:
    """The path of a program a test drives (``logger``, ``systemd-analyze``...); missing,
    the test skips with the reason, or fails under CI (scripts/test.sh installs them)."""
    found = shutil.which(name)
    if found is None:
        unavailable(f"{name} is not installed (scripts/test.sh installs it)")
        raise AssertionError("unreachable")  # unavailable() skips or fails
    return found


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The vendored corpus: part of the repository, so it is an error, never a skip."""
    if not CORPUS.is_dir():
        pytest.fail(f"corpus not found at {CORPUS} (tests/corpus is part of the repository)")
    return CORPUS


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    url = os.environ.get("DREAMCATCHER_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672//")
    require_service("RabbitMQ", "127.0.0.1", 5672)
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("DREAMCATCHER_TEST_REDIS", "redis://127.0.0.1:6379/15")
    require_service("Redis", "127.0.0.1", 6379)
    return url


@pytest.fixture
def vhost_url(rabbitmq_url: str) -> Iterator[str]:
    """The URL of a fresh RabbitMQ vhost (guest has all rights), deleted with all it
    holds: for tests that publish to the services' real exchange names."""
    from tests.amqp.support import rabbitmqctl, require_rabbitmqctl

    require_rabbitmqctl()
    name = f"dctest-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        scheme, _, rest = rabbitmq_url.partition("://")
        yield f"{scheme}://{rest.partition('/')[0]}/{name}"
    finally:
        rabbitmqctl("delete_vhost", name)
