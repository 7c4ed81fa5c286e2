"""Inventory fact expiry on the real Redis (db 15): the same cases as on the memory store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from adapters.state import RedisStore
from engine.store import StateStore
from tests.engine.fact_expiry import FactExpiry


class TestFactExpiryInRedis(FactExpiry):
    @pytest.fixture(autouse=True)
    def _redis(self, redis_url: str) -> Iterator[None]:
        self._url = redis_url
        self._made: list[RedisStore] = []
        yield
        for store in self._made:
            store.clear()
            store.close()

    def make_store(self) -> StateStore:
        store = RedisStore.from_url(self._url, f"dctest:{uuid.uuid4().hex}:")
        self._made.append(store)
        return store
