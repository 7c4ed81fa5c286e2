"""Inventory fact expiry on the memory store (tests/engine/fact_expiry.py)."""

from __future__ import annotations

from engine.memstore import MemoryStore
from engine.store import StateStore
from tests.engine.fact_expiry import FactExpiry


class TestFactExpiryInMemory(FactExpiry):
    def make_store(self) -> StateStore:
        return MemoryStore()
