"""The deployment's ``state`` section: where the engine keeps its state.

No ``url`` means the in-memory store (one worker, lost at exit); a
``redis://`` URL shares state between workers and survives restarts.
"""

from __future__ import annotations

from typing import Any

import redis
from pydantic import BaseModel, ConfigDict, field_validator

from adapters.alerting.durations import parse_duration
from adapters.state.redis_store import DEFAULT_PREFIX, DEFAULT_WALL_TTL_MARGIN, RedisStore
from engine.memstore import MemoryStore
from engine.store import StateStore


class StoreUnavailable(RuntimeError):
    """The configured state server cannot be used; ``url`` is for the message (the
    caller redacts it), ``reason`` is the client's own explanation."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(reason)
        self.url, self.reason = url, reason


def _seconds(value: Any) -> Any:
    return None if value is None else parse_duration(value)


class StateConfig(BaseModel):
    """``url``: redis-py URL (``redis://[:password@]host:6379/0``, ``rediss://`` for TLS);
    ``prefix``: the namespace of this deployment's keys; ``wall_ttl_margin``: the
    wall-clock safety net beyond each entry's event-time TTL (``null``: none)."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    prefix: str = DEFAULT_PREFIX
    wall_ttl_margin: float | None = DEFAULT_WALL_TTL_MARGIN

    _check_durations = field_validator("wall_ttl_margin", mode="before")(_seconds)

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("state url must be redis://, rediss:// or unix://")
        return value


def build_store(config: StateConfig) -> StateStore:
    """The configured store; Redis is contacted at once, so a bad URL fails at startup."""
    if config.url is None:
        return MemoryStore()
    try:
        store = RedisStore.from_url(config.url, config.prefix,
                                    wall_ttl_margin=config.wall_ttl_margin)
        store.client.ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        raise StoreUnavailable(config.url, str(exc) or type(exc).__name__) from exc
    return store
