"""A StateStore in Redis, so several workers share windows, expectations and timers.

``now`` is event time, so Redis's own (wall-clock) expiry cannot carry the
contract's TTLs. Every value is stored with its event-time expiry in front
(``b"<expires_at>|<json>"``, an empty expiry meaning "until deleted"), and one
sorted set indexes every value key by that expiry: ``expire(now)`` pops the
index up to ``now`` and ``size()`` counts it, so no hot path needs SCAN.

Multi-key steps (a value and its index entry, a timer and its payload, a set
and the index of sets) run as Lua scripts, which Redis executes atomically.
``update`` runs the Python callback between a GET and a compare-and-set
script that writes only if the stored bytes are still the ones read; on a
conflict it reads again and retries. A value that comes back byte-identical
(same JSON, same expiry) is not written at all: the read is then the
linearization point, which saves a round trip on the engine's no-op updates.

Layout under ``prefix`` (the namespace; several deployments or tests can share
one server): ``k:<key>`` values, ``i:keys`` the expiry index, ``s:<key>``
sets, ``i:sets`` the names of non-empty sets, ``t:due`` timers by due time,
``t:payload`` their payloads. Timers due at the same instant pop in id order
(the memory store pops them in arming order; the contract leaves ties open).

Optionally each value with a TTL also gets a wall-clock PEXPIRE of its
remaining event-time TTL plus ``wall_ttl_margin`` seconds, a safety net
against leaks if no worker calls ``expire`` any more. It must be generous: a
worker that catches up on a backlog runs behind the wall clock, and a key the
safety net dropped early is lost state. ``None`` disables it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import orjson
import redis

from engine.store import R, StateStore, Updater

_FOREVER = math.inf
_BATCH = 1000  # index entries handled per script call, so one call never blocks Redis long
DEFAULT_PREFIX = "dreamcatcher:"
DEFAULT_WALL_TTL_MARGIN = 7 * 86400.0

# The stored expiry is the text before the first "|"; empty means no expiry.
_LUA_EXPIRY = """
local function expiry(raw)
  local bar = string.find(raw, '|', 1, true)
  if bar == nil or bar == 1 then return math.huge end
  return tonumber(string.sub(raw, 1, bar - 1))
end
local function write(key, index, member, raw, score, px)
  if px == '' then
    redis.call('SET', key, raw)
  else
    redis.call('SET', key, raw, 'PX', px)
  end
  redis.call('ZADD', index, score, member)
end
"""

# KEYS: value, index. ARGV: now, raw, score, px, member.
_ADD_ONCE = _LUA_EXPIRY + """
local cur = redis.call('GET', KEYS[1])
if cur and expiry(cur) > tonumber(ARGV[1]) then return 0 end
write(KEYS[1], KEYS[2], ARGV[5], ARGV[2], ARGV[3], ARGV[4])
return 1
"""

# KEYS: value, index. ARGV: raw, score, px, member.
_PUT = _LUA_EXPIRY + """
write(KEYS[1], KEYS[2], ARGV[4], ARGV[1], ARGV[2], ARGV[3])
return 1
"""

# KEYS: value, index. ARGV: member.
_DELETE = """
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""

# Compare-and-set. KEYS: value, index. ARGV: expected raw ('' = absent),
# new raw ('' = delete), score, px, member. Returns 1 if written, 0 on conflict.
_CAS = _LUA_EXPIRY + """
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[5])
else
  write(KEYS[1], KEYS[2], ARGV[5], ARGV[2], ARGV[3], ARGV[4])
end
return 1
"""

# KEYS: index. ARGV: now, limit, value-key prefix. Returns how many were dropped.
_EXPIRE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #due == 0 then return 0 end
local names = {}
for i, member in ipairs(due) do names[i] = ARGV[3] .. member end
redis.call('UNLINK', unpack(names))
redis.call('ZREM', KEYS[1], unpack(due))
return #due
"""

# KEYS: set, index of sets. ARGV: member, set name.
_SET_ADD = """
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 1
"""

_SET_REMOVE = """
redis.call('SREM', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
return 1
"""

# KEYS: due zset, payload hash. ARGV: id, due, payload.
_SCHEDULE = """
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1
"""

_CANCEL = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
"""

# Claim: whoever runs this removes the timers, so each is handed out once.
# KEYS: due zset, payload hash. ARGV: now, limit. Returns {id, due, payload, ...}.
_POP_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[2])
if #due == 0 then return due end
local ids = {}
for i = 1, #due, 2 do ids[#ids + 1] = due[i] end
redis.call('ZREM', KEYS[1], unpack(ids))
local payloads = redis.call('HMGET', KEYS[2], unpack(ids))
redis.call('HDEL', KEYS[2], unpack(ids))
local out = {}
for i = 1, #ids do
  out[#out + 1] = ids[i]
  out[#out + 1] = due[2 * i]
  out[#out + 1] = payloads[i] or 'null'
end
return out
"""


class UpdateConflict(RuntimeError):
    """``update`` lost the compare-and-set race too many times in a row."""


def _num(value: float) -> bytes:
    """A float as text that Redis and Lua parse back to the same double."""
    return repr(float(value)).encode()


def _split(raw: bytes) -> tuple[float, bytes]:
    expiry, _, body = raw.partition(b"|")
    return (float(expiry) if expiry else _FOREVER), body


class RedisStore(StateStore):
    """The StateStore contract on a Redis server, under a key prefix.

    Safe to share between threads (redis-py's connection pool) and between
    processes and hosts (every operation is one atomic script or a
    compare-and-set loop).
    """

    def __init__(self, client: redis.Redis, prefix: str = DEFAULT_PREFIX, *,
                 wall_ttl_margin: float | None = DEFAULT_WALL_TTL_MARGIN,
                 max_retries: int = 1000) -> None:
        self.client = client
        self.prefix = prefix
        self.wall_ttl_margin = wall_ttl_margin
        self.max_retries = max_retries
        self.conflicts = 0  # update retries, for stats and tests
        p = prefix.encode()
        self._kp = p + b"k:"
        self._sp = p + b"s:"
        self._keys = p + b"i:keys"
        self._sets = p + b"i:sets"
        self._due = p + b"t:due"
        self._payload = p + b"t:payload"
        reg = client.register_script
        self._add_once = reg(_ADD_ONCE)
        self._put = reg(_PUT)
        self._delete = reg(_DELETE)
        self._cas = reg(_CAS)
        self._expire = reg(_EXPIRE)
        self._set_add = reg(_SET_ADD)
        self._set_remove = reg(_SET_REMOVE)
        self._schedule = reg(_SCHEDULE)
        self._cancel = reg(_CANCEL)
        self._pop_due = reg(_POP_DUE)

    @classmethod
    def from_url(cls, url: str, prefix: str = DEFAULT_PREFIX, *,
                 wall_ttl_margin: float | None = DEFAULT_WALL_TTL_MARGIN) -> RedisStore:
        """``redis://host:port/db`` (redis-py's URL syntax, options as query parameters)."""
        return cls(redis.Redis.from_url(url), prefix, wall_ttl_margin=wall_ttl_margin)

    # -- values ---------------------------------------------------------------

    def _px(self, expires: float, now: float) -> bytes:
        if expires == _FOREVER or self.wall_ttl_margin is None:
            return b""
        return b"%d" % max(1, math.ceil((expires - now + self.wall_ttl_margin) * 1000))

    @staticmethod
    def _encode(value: Any, expires: float) -> bytes:
        head = b"" if expires == _FOREVER else _num(expires)
        return head + b"|" + orjson.dumps(value)

    @staticmethod
    def _score(expires: float) -> bytes:
        return b"+inf" if expires == _FOREVER else _num(expires)

    def add_once(self, key: str, ttl: float, now: float) -> bool:
        member = key.encode()
        expires = now + ttl
        return bool(self._add_once(
            keys=[self._kp + member, self._keys],
            args=[_num(now), self._encode(True, expires), self._score(expires),
                  self._px(expires, now), member]))

    def get(self, key: str) -> Any:
        raw = cast("bytes | None", self.client.get(self._kp + key.encode()))
        return None if raw is None else orjson.loads(_split(raw)[1])

    def put(self, key: str, value: Any, ttl: float | None, now: float) -> None:
        member = key.encode()
        expires = _FOREVER if ttl is None else now + ttl
        self._put(keys=[self._kp + member, self._keys],
                  args=[self._encode(value, expires), self._score(expires),
                        self._px(expires, now), member])

    def delete(self, key: str) -> None:
        member = key.encode()
        self._delete(keys=[self._kp + member, self._keys], args=[member])

    def update(self, key: str, fn: Updater[R], ttl: float | None, now: float) -> R:
        member = key.encode()
        name = self._kp + member
        get = cast("Callable[[bytes], bytes | None]", self.client.get)
        for _ in range(self.max_retries):
            raw: bytes | None = get(name)
            old = None
            old_expires = -_FOREVER
            if raw is not None:
                old_expires, body = _split(raw)
                if old_expires > now:
                    old = orjson.loads(body)
            new, result = fn(old)
            if new is None:
                if raw is None:
                    return result  # absent and stays absent: nothing to write
                new_raw = b""
                expires = _FOREVER
            else:
                if raw is not None and ttl is not None and old_expires >= now + ttl:
                    expires = old_expires  # the TTL already reaches as far
                else:
                    expires = _FOREVER if ttl is None else now + ttl
                new_raw = self._encode(new, expires)
                if new_raw == raw:
                    return result  # unchanged value and expiry: the read stands
            if self._cas(keys=[name, self._keys],
                         args=[raw or b"", new_raw, self._score(expires),
                               self._px(expires, now), member]):
                return result
            self.conflicts += 1
        raise UpdateConflict(f"update of {key!r} lost {self.max_retries} races in a row")

    def expire(self, now: float) -> int:
        dropped = 0
        limit = b"%d" % _BATCH
        while True:
            n = int(self._expire(keys=[self._keys], args=[_num(now), limit, self._kp]))
            dropped += n
            if n < _BATCH:
                return dropped

    # -- sets -----------------------------------------------------------------

    def set_add(self, key: str, member: str) -> None:
        name = key.encode()
        self._set_add(keys=[self._sp + name, self._sets], args=[member.encode(), name])

    def set_remove(self, key: str, member: str) -> None:
        name = key.encode()
        self._set_remove(keys=[self._sp + name, self._sets], args=[member.encode(), name])

    def set_members(self, key: str) -> list[str]:
        members: set[bytes] = self.client.smembers(self._sp + key.encode())  # type: ignore[assignment]
        return sorted(m.decode() for m in members)

    # -- timers ---------------------------------------------------------------

    def schedule(self, timer_id: str, due: float, payload: Any) -> None:
        self._schedule(keys=[self._due, self._payload],
                       args=[timer_id.encode(), _num(due), orjson.dumps(payload)])

    def cancel(self, timer_id: str) -> None:
        self._cancel(keys=[self._due, self._payload], args=[timer_id.encode()])

    def pop_due(self, now: float) -> list[tuple[str, float, Any]]:
        out: list[tuple[str, float, Any]] = []
        limit = b"%d" % _BATCH
        while True:
            flat: list[bytes] = self._pop_due(keys=[self._due, self._payload],
                                              args=[_num(now), limit])
            for i in range(0, len(flat), 3):
                out.append((flat[i].decode(), float(flat[i + 1]), orjson.loads(flat[i + 2])))
            if len(flat) < 3 * _BATCH:
                return out

    def next_due(self) -> float | None:
        first: list[tuple[bytes, float]] = self.client.zrange(  # type: ignore[assignment]
            self._due, 0, 0, withscores=True)
        return first[0][1] if first else None

    # -- bookkeeping ----------------------------------------------------------

    def size(self) -> dict[str, int]:
        """Counts from the indexes (keys dropped early by the wall-clock safety
        net still count until ``expire`` passes their event-time TTL)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.zcard(self._keys)
        pipe.scard(self._sets)
        pipe.zcard(self._due)
        keys, sets, timers = pipe.execute()
        return {"keys": int(keys), "sets": int(sets), "timers": int(timers)}

    def clear(self) -> int:
        """Delete everything under this prefix (SCAN: for tests and admin, not hot paths)."""
        pattern = _glob_escape(self.prefix) + "*"
        deleted = 0
        batch: list[bytes] = []
        for name in self.client.scan_iter(match=pattern, count=1000):
            batch.append(name)
            if len(batch) >= 1000:
                deleted += int(self.client.unlink(*batch))
                batch.clear()
        if batch:
            deleted += int(self.client.unlink(*batch))
        return deleted

    def close(self) -> None:
        self.client.close()


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
