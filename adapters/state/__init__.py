"""Shared state stores: the engine's StateStore contract on external servers."""

from adapters.state.config import StateConfig, StoreUnavailable, build_store
from adapters.state.redis_store import RedisStore, UpdateConflict

__all__ = ["RedisStore", "StateConfig", "StoreUnavailable", "UpdateConflict", "build_store"]
