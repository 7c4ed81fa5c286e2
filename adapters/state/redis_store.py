"""A StateStore in Redis, so several workers share windows, expectations and timers.

``now`` is event time, so Redis's own (wall-clock) expiry cannot carry the
contract's TTLs. Every value is stored with its event-time expiry in front
(``b"<expires_at>|<json>"``, an empty expiry meaning "until deleted"), and one
sorted set indexes every value key by that expiry: ``expire(now)`` pops the
index up to ``now`` and ``size()`` counts it, so no hot path needs SCAN.

Multi-key steps (a value and its index entry, a timer and its payload, a set
and the index of sets) run as Lua scripts, which Redis executes atomically.
``update`` runs the Python callback on the stored bytes it believes current,
then a compare-and-set script writes only if they still are; on a conflict
the script hands back the current bytes and the callback runs again on
them. A result that is byte-identical (same JSON, same expiry) is only
checked, not written.

Layout under ``prefix`` (the namespace; several deployments or tests can share
one server): ``k:<key>`` values, ``k:once:<key>`` ``add_once`` marks,
``i:keys`` the expiry index, ``s:<key>`` sets, ``i:sets`` the names of
non-empty sets, ``t:due`` timers by due time, ``t:payload`` their payloads.
Timers due at the same instant pop in id order (the memory store pops them
in arming order; the contract leaves ties open).

Optionally each value with a TTL also gets a wall-clock PEXPIRE of its
remaining event-time TTL plus ``wall_ttl_margin`` seconds, a safety net
against leaks if no worker calls ``expire`` any more. It must be generous: a
worker that catches up on a backlog runs behind the wall clock, and a key the
safety net dropped early is lost state. ``None`` disables it.

Server requirements: a single Redis (or a primary with replicas), not Redis
Cluster (``expire`` deletes keys it finds in the index, which a cluster
script may not name); ``maxmemory-policy noeviction``, since an evicted key
is lost state; a client without ``decode_responses`` (values are bytes).
"""

from __future__ import annotations

import hashlib
import heapq
import math
import os
import threading
from time import monotonic
from typing import Any, cast

import orjson
import redis

from engine.store import R, StateStore, StoreConflict, StoreUnavailable, Updater

_FOREVER = math.inf
_BATCH = 1000  # index entries handled per script call, so one call never blocks Redis long
DEFAULT_PREFIX = "dreamcatcher:"
DEFAULT_WALL_TTL_MARGIN = 7 * 86400.0
HINT_LIFETIME = 0.05  # seconds (wall clock) add_once's view of the timers stays usable

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

# KEYS: value, index, timers' due zset. ARGV: now, raw, score, px, member.
# Returns {1 if marked now else 0, the earliest timer's due or ''}: the
# engine asks for due timers right after marking an event, and this saves
# that round trip whenever nothing is due.
_ADD_ONCE = _LUA_EXPIRY + """
local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
local due = first[2] or ''
local cur = redis.call('GET', KEYS[1])
if cur and expiry(cur) > tonumber(ARGV[1]) then return {0, due} end
write(KEYS[1], KEYS[2], ARGV[5], ARGV[2], ARGV[3], ARGV[4])
return {1, due}
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
# new raw ('' = delete), score, px, member, verify ('1': only check that the
# value is still the expected one). Returns {1} when done, {0, current raw}
# on a conflict, so the caller's retry needs no extra read.
_CAS = _LUA_EXPIRY + """
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return {0, cur} end
if ARGV[6] == '1' then return {1} end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[5])
else
  write(KEYS[1], KEYS[2], ARGV[5], ARGV[2], ARGV[3], ARGV[4])
end
return {1}
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


# -- transactions (begin/commit): reads that claim nothing, one script that applies --

# KEYS: mark, timers' due zset. Returns {current raw or '', earliest due or ''}.
_PEEK_ONCE = """
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
return {redis.call('GET', KEYS[1]) or '', first[2] or ''}
"""

# KEYS: due zset, payload hash. ARGV: after (exclusive, or '-inf'), now, offset,
# limit. The due timers without claiming them: the commit claims them.
_PEEK_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[2], 'WITHSCORES',
                      'LIMIT', ARGV[3], ARGV[4])
if #due == 0 then return due end
local ids = {}
for i = 1, #due, 2 do ids[#ids + 1] = due[i] end
local payloads = redis.call('HMGET', KEYS[2], unpack(ids))
local out = {}
for i = 1, #ids do
  out[#out + 1] = ids[i]
  out[#out + 1] = due[2 * i]
  out[#out + 1] = payloads[i] or 'null'
end
return out
"""

# KEYS: value index, due zset, payload hash, index of sets, the transaction's
# applied-mark. ARGV: the mark's lifetime (ms), then the checks and the writes
# as JSON: {"e": [[name, raw]], "m": [[name, now]], "c": [[timer, due]],
# "o": [[op, ...]]}. Returns {1} applied, {2} already applied (a retried
# commit whose first reply was lost), {0, what} a conflict: nothing written.
_COMMIT = _LUA_EXPIRY + """
if redis.call('EXISTS', KEYS[5]) == 1 then return {2} end
local t = cjson.decode(ARGV[2])
for _, e in ipairs(t.e) do
  if (redis.call('GET', e[1]) or '') ~= e[2] then return {0, e[1]} end
end
for _, m in ipairs(t.m) do
  local cur = redis.call('GET', m[1])
  if cur and expiry(cur) > tonumber(m[2]) then return {0, m[1]} end
end
for _, c in ipairs(t.c) do
  local score = redis.call('ZSCORE', KEYS[2], c[1])
  if (not score) or tonumber(score) ~= tonumber(c[2]) then return {0, 'timer ' .. c[1]} end
end
for _, o in ipairs(t.o) do
  local op = o[1]
  if op == 'w' then
    write(o[2], KEYS[1], o[3], o[4], o[5], o[6])
  elseif op == 'd' then
    redis.call('DEL', o[2])
    redis.call('ZREM', KEYS[1], o[3])
  elseif op == 's' then
    redis.call('ZADD', KEYS[2], o[3], o[2])
    redis.call('HSET', KEYS[3], o[2], o[4])
  elseif op == 'x' then
    redis.call('ZREM', KEYS[2], o[2])
    redis.call('HDEL', KEYS[3], o[2])
  elseif op == 'sa' then
    redis.call('SADD', o[2], o[3])
    redis.call('SADD', KEYS[4], o[4])
  elseif op == 'sr' then
    redis.call('SREM', o[2], o[3])
    if redis.call('EXISTS', o[2]) == 0 then redis.call('SREM', KEYS[4], o[4]) end
  end
end
redis.call('SET', KEYS[5], '1', 'PX', ARGV[1])
return {1}
"""

#: how long a commit's applied-mark lives: longer than any retry of that commit
_APPLIED_MARK_MS = b"%d" % (3600 * 1000)


class _Txn:
    """What a transaction staged: the writes in order, and what the commit checks."""

    __slots__ = ("claims", "expect", "expire_at", "heap", "id", "marks", "ops", "scanned_to",
                 "sets", "timers", "values")

    def __init__(self) -> None:
        self.id = os.urandom(12).hex()
        self.ops: list[list[str]] = []
        self.values: dict[bytes, bytes] = {}  # value name -> raw as staged (b"" deleted)
        self.expect: dict[bytes, bytes] = {}  # value name -> raw the batch started from
        self.marks: list[tuple[bytes, float]] = []  # marks that must still be absent
        self.claims: list[tuple[str, bytes]] = []  # timers claimed: (id, due as stored)
        self.timers: dict[str, tuple[float, bytes] | None] = {}  # staged (None: gone)
        self.heap: list[tuple[float, str]] = []  # staged timers by due
        self.sets: dict[bytes, tuple[set[str], set[str]]] = {}  # name -> (added, removed)
        self.scanned_to = -_FOREVER  # the stored timers due up to here were seen already
        self.expire_at = -_FOREVER  # expire() asked for in the batch: run after commit

    def op(self, *parts: bytes | str) -> None:
        self.ops.append([p.decode() if isinstance(p, bytes) else p for p in parts])


class UpdateConflict(RuntimeError):
    """``update`` lost the compare-and-set race too many times in a row."""


def _num(value: float) -> bytes:
    """A float as text that Redis and Lua parse back to the same double."""
    return repr(float(value)).encode()


def _split(raw: bytes) -> tuple[float, bytes]:
    expiry, _, body = raw.partition(b"|")
    return (float(expiry) if expiry else _FOREVER), body


def _pack(args: tuple[bytes | int, ...]) -> bytes:
    """One RESP request (an array of bulk strings), built in one piece."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else b"%d" % arg
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class _Script:
    """A Lua script run by EVALSHA, loaded again if the server forgot it."""

    __slots__ = ("sha", "source", "wire")

    def __init__(self, wire: _Wire, source: str) -> None:
        self.wire = wire
        self.source = source.encode()
        self.sha = hashlib.sha1(self.source).hexdigest().encode()

    def __call__(self, keys: list[bytes], args: list[bytes]) -> Any:
        try:
            return self.wire.call(b"EVALSHA", self.sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:  # a restarted or flushed server
            self.wire.call(b"SCRIPT", b"LOAD", self.source)
            return self.wire.call(b"EVALSHA", self.sha, len(keys), *keys, *args)


class _Wire:
    """One pinned connection for the hot path: a request and its reply, nothing more.

    redis-py's per-command machinery (pool checkout, retry wrapper, event
    hooks, reply callbacks) costs about as much as the loopback round trip
    itself, and the engine makes a few calls per event. Connecting, AUTH,
    SELECT and TLS still come from redis-py's own connection. Nothing is
    retried here: a lost reply to a compare-and-set must not be replayed.
    """

    def __init__(self, client: redis.Redis) -> None:
        self._pool = client.connection_pool
        self._conn: Any = self._pool.get_connection()
        self._lock = threading.Lock()

    def call(self, *args: bytes | int) -> Any:
        conn = self._conn
        request = _pack(args)
        with self._lock:
            try:
                conn.send_packed_command((request,), check_health=False)
                return conn.read_response()
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                conn.disconnect()  # the next call connects again
                raise StoreUnavailable(f"redis: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._pool.release(self._conn)


class RedisStore(StateStore):
    """The StateStore contract on a Redis server, under a key prefix.

    Safe between processes and hosts: every operation is one atomic script
    or a compare-and-set loop. One instance may be shared by threads only
    under the caller's lock (the engine is single-threaded anyway): the
    update cache and the timer hint are plain attributes.

    Two client-side shortcuts save round trips without weakening atomicity:

    * ``update`` starts from the bytes this client last read or wrote for the
      key (absent if unknown) and sends them straight to the compare-and-set:
      one round trip when nobody else wrote the key since, two otherwise. At
      most ``cache_size`` values are remembered.
    * ``add_once`` also brings back when the earliest timer is due, and a
      ``pop_due`` that follows within ``HINT_LIFETIME`` (the engine's very
      next call) answers "nothing due" from it without asking Redis; this
      client's own ``schedule`` calls move the hint too. A timer that
      *another* worker arms in that sub-millisecond gap is claimed by the
      next ``pop_due`` instead, still once and with its own due time, as if
      its ``schedule`` had come a moment later.
    """

    def __init__(self, client: redis.Redis, prefix: str = DEFAULT_PREFIX, *,
                 wall_ttl_margin: float | None = DEFAULT_WALL_TTL_MARGIN,
                 cache_size: int = 10_000,
                 max_retries: int = 1000) -> None:
        self.client = client
        self.prefix = prefix
        self.wall_ttl_margin = wall_ttl_margin
        self.cache_size = cache_size
        self.max_retries = max_retries
        self.conflicts = 0  # compare-and-set retries: another writer, or a stale guess
        self._known: dict[bytes, bytes] = {}  # value key -> raw last seen (b"" = absent)
        self._due_hint = -_FOREVER  # earliest due timer as add_once saw it
        self._hint_until = 0.0  # monotonic deadline of that hint; one pop_due uses it
        p = prefix.encode()
        self._kp = p + b"k:"
        self._sp = p + b"s:"
        self._keys = p + b"i:keys"
        self._sets = p + b"i:sets"
        self._due = p + b"t:due"
        self._payload = p + b"t:payload"
        self._wire = wire = _Wire(client)
        self._call = wire.call

        def reg(source: str) -> _Script:
            return _Script(wire, source)

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
        self._peek_once = reg(_PEEK_ONCE)
        self._peek_due = reg(_PEEK_DUE)
        self._commit = reg(_COMMIT)
        self._txn: _Txn | None = None
        self._expire_owed = -_FOREVER  # an expire a commit could not run (Redis went away)
        self._expired_upto = -_FOREVER  # every value that lapsed by then is gone

    @classmethod
    def from_url(cls, url: str, prefix: str = DEFAULT_PREFIX, **options: Any) -> RedisStore:
        """``redis://host:port/db`` (redis-py's URL syntax, connection options as
        query parameters); ``options`` are the constructor's keywords."""
        return cls(redis.Redis.from_url(url), prefix, **options)

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

    def _remember(self, name: bytes, raw: bytes) -> None:
        known = self._known
        if name not in known and len(known) >= self.cache_size:
            del known[next(iter(known))]  # the oldest remembered goes first
        known[name] = raw

    def add_once(self, key: str, ttl: float, now: float) -> bool:
        if self._txn is not None:
            return self._t_add_once(self._txn, key, ttl, now)
        member = b"once:" + key.encode()  # marks are a namespace of their own
        expires = now + ttl
        added, due = self._add_once(
            keys=[self._kp + member, self._keys, self._due],
            args=[_num(now), self._encode(True, expires), self._score(expires),
                  self._px(expires, now), member])
        self._due_hint = float(due) if due else _FOREVER
        self._hint_until = monotonic() + HINT_LIFETIME
        return bool(added)

    def get(self, key: str) -> Any:
        if self._txn is not None and (self._kp + key.encode()) in self._txn.values:
            return self._t_get(self._txn, key)
        name = self._kp + key.encode()
        raw: bytes | None = self._call(b"GET", name)
        if raw is None:
            self._known.pop(name, None)
            return None
        if name in self._known:
            self._known[name] = raw
        return orjson.loads(_split(raw)[1])

    def put(self, key: str, value: Any, ttl: float | None, now: float) -> None:
        if self._txn is not None:
            return self._t_write(self._txn, key, value, _FOREVER if ttl is None else now + ttl, now)
        member = key.encode()
        name = self._kp + member
        expires = _FOREVER if ttl is None else now + ttl
        raw = self._encode(value, expires)
        self._put(keys=[name, self._keys],
                  args=[raw, self._score(expires), self._px(expires, now), member])
        self._known.pop(name, None)  # facts are written once and read by get()

    def delete(self, key: str) -> None:
        if self._txn is not None:
            return self._t_write(self._txn, key, None, _FOREVER, 0.0)
        member = key.encode()
        name = self._kp + member
        self._delete(keys=[name, self._keys], args=[member])
        self._known.pop(name, None)

    def update(self, key: str, fn: Updater[R], ttl: float | None, now: float,
               arg: Any = None) -> R:
        if self._txn is not None:
            return self._t_update(self._txn, key, fn, ttl, now, arg)
        member = key.encode()
        name = self._kp + member
        raw = self._known.get(name, b"")  # a guess; the compare-and-set checks it
        guessed = True
        for _ in range(self.max_retries):
            old = None
            old_expires = -_FOREVER
            if raw:
                old_expires, body = _split(raw)
                if old_expires > now:
                    old = orjson.loads(body)
            try:
                new, result = fn(old, arg)
            except Exception:
                if not guessed:
                    raise
                # fn may rightly refuse a state that was only guessed: read the real one
                raw = self._call(b"GET", name) or b""
                guessed = False
                continue
            if new is None:
                new_raw = b""
                expires = _FOREVER
            else:
                if raw and ttl is not None and old_expires >= now + ttl:
                    expires = old_expires  # the TTL already reaches as far
                else:
                    expires = _FOREVER if ttl is None else now + ttl
                new_raw = self._encode(new, expires)
            if new_raw == raw:  # nothing to write: only check it is still so
                reply = self._cas(keys=[name, self._keys],
                                  args=[raw, b"", b"", b"", member, b"1"])
            else:
                reply = self._cas(keys=[name, self._keys],
                                  args=[raw, new_raw, self._score(expires),
                                        self._px(expires, now), member, b""])
            if reply[0]:
                if new_raw:
                    self._remember(name, new_raw)
                else:
                    self._known.pop(name, None)
                return result
            raw = reply[1]
            guessed = False
            self.conflicts += 1
        self._known.pop(name, None)
        raise UpdateConflict(f"update of {key!r} lost {self.max_retries} races in a row")

    def expire(self, now: float) -> int:
        if self._txn is not None:  # after the commit: what it drops must not look like a conflict
            self._txn.expire_at = max(self._txn.expire_at, now)
            return 0
        dropped = 0
        limit = b"%d" % _BATCH
        while True:
            n = int(self._expire(keys=[self._keys], args=[_num(now), limit, self._kp]))
            dropped += n
            if n < _BATCH:
                self._expired_upto = max(self._expired_upto, now)
                return dropped

    # -- sets -----------------------------------------------------------------

    def set_add(self, key: str, member: str) -> None:
        if self._txn is not None:
            return self._t_set(self._txn, key, member, add=True)
        name = key.encode()
        self._set_add(keys=[self._sp + name, self._sets], args=[member.encode(), name])

    def set_remove(self, key: str, member: str) -> None:
        if self._txn is not None:
            return self._t_set(self._txn, key, member, add=False)
        name = key.encode()
        self._set_remove(keys=[self._sp + name, self._sets], args=[member.encode(), name])

    def set_members(self, key: str) -> list[str]:
        staged = self._txn.sets.get(key.encode()) if self._txn is not None else None
        members = {m.decode() for m in cast("set[bytes]", self._call(b"SMEMBERS",
                                                                       self._sp + key.encode()))}
        if staged is not None:
            members = (members | staged[0]) - staged[1]
        return sorted(members)

    # -- timers ---------------------------------------------------------------

    def schedule(self, timer_id: str, due: float, payload: Any) -> None:
        if self._txn is not None:
            return self._t_schedule(self._txn, timer_id, due, payload)
        self._schedule(keys=[self._due, self._payload],
                       args=[timer_id.encode(), _num(due), orjson.dumps(payload)])
        if due < self._due_hint:
            self._due_hint = due

    def cancel(self, timer_id: str) -> None:
        if self._txn is not None:
            return self._t_schedule(self._txn, timer_id, None, None)
        self._cancel(keys=[self._due, self._payload], args=[timer_id.encode()])

    def pop_due(self, now: float) -> list[tuple[str, float, Any]]:
        if self._txn is not None:
            return self._t_pop_due(self._txn, now)
        if now < self._due_hint and self._hint_until:
            fresh = monotonic() < self._hint_until
            self._hint_until = 0.0
            if fresh:
                return []  # add_once just saw that nothing is due
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
        first = cast("list[tuple[bytes, float]]",
                     self.client.zrange(self._due, 0, 0, withscores=True))
        due = first[0][1] if first else None
        if self._txn is not None and self._txn.heap:
            staged = self._txn.heap[0][0]
            due = staged if due is None else min(due, staged)
        return due


    # -- transactions -----------------------------------------------------------
    # Between begin() and commit() nothing is written: reads see the staged
    # writes, update() starts from the bytes it knows (checked at commit, like
    # its compare-and-set), add_once() and pop_due() read without marking or
    # claiming, and commit() applies it all in one script that first checks
    # nobody else changed, marked or claimed the same things meanwhile.

    def begin(self) -> None:
        if self._txn is not None:
            raise RuntimeError("a transaction is already open")
        self._txn = _Txn()

    def commit(self) -> None:
        txn = self._txn
        if txn is None:
            return
        if txn.ops or txn.expect or txn.marks or txn.claims:
            body = orjson.dumps({
                "e": [[n.decode(), r.decode()] for n, r in txn.expect.items()],
                "m": [[n.decode(), _num(now).decode()] for n, now in txn.marks],
                "c": [[i, d.decode()] for i, d in txn.claims],
                "o": txn.ops,
            })
            reply = self._commit(
                keys=[self._keys, self._due, self._payload, self._sets,
                      self.prefix.encode() + b"txn:" + txn.id.encode()],
                args=[_APPLIED_MARK_MS, body])
            if not reply[0]:
                self.conflicts += 1
                raise StoreConflict(f"another writer changed {reply[1].decode()!r}")
        self._txn = None
        marks = self._kp + b"once:"
        for name, raw in txn.values.items():
            if name.startswith(marks):
                continue  # never updated: not worth a place in the cache
            if raw:
                self._remember(name, raw)
            else:
                self._known.pop(name, None)
        self._expire_owed = max(self._expire_owed, txn.expire_at)
        if self._expire_owed > -_FOREVER:
            try:
                self.expire(self._expire_owed)
                self._expire_owed = -_FOREVER
            except StoreUnavailable:
                pass  # committed all the same; the next commit expires

    def abort(self) -> None:
        txn, self._txn = self._txn, None
        if txn is not None:
            for name in (*txn.values, *txn.expect):
                self._known.pop(name, None)  # what it read may be what conflicted
        self._hint_until = 0.0

    def _t_add_once(self, txn: _Txn, key: str, ttl: float, now: float) -> bool:
        member = b"once:" + key.encode()
        name = self._kp + member
        cur = txn.values.get(name)
        stored = cur is None
        if stored:
            cur, due = self._peek_once(keys=[name, self._due], args=[])
            self._due_hint = float(due) if due else _FOREVER
            self._hint_until = monotonic() + HINT_LIFETIME
        if cur and _split(cur)[0] > now:
            return False
        if stored:  # the commit checks that no other worker marked it meanwhile
            txn.marks.append((name, now))
        expires = now + ttl
        raw = self._encode(True, expires)
        txn.values[name] = raw
        txn.op("w", name, member, raw, self._score(expires), self._px(expires, now))
        return True

    def _t_get(self, txn: _Txn, key: str) -> Any:
        raw = txn.values[self._kp + key.encode()]
        return orjson.loads(_split(raw)[1]) if raw else None

    def _t_write(self, txn: _Txn, key: str, value: Any, expires: float, now: float) -> None:
        member = key.encode()
        name = self._kp + member
        if value is None:
            txn.values[name] = b""
            txn.op("d", name, member)
            return
        raw = self._encode(value, expires)
        txn.values[name] = raw
        txn.op("w", name, member, raw, self._score(expires), self._px(expires, now))

    def _t_update(self, txn: _Txn, key: str, fn: Updater[R], ttl: float | None, now: float,
                  arg: Any) -> R:
        member = key.encode()
        name = self._kp + member
        staged = txn.values.get(name)
        if staged is not None:
            raw = staged
        elif name in txn.expect:
            raw = txn.expect[name]
        elif name in self._known:
            raw = self._known[name]  # a guess the commit checks, as the compare-and-set does
            if raw and _split(raw)[0] <= self._expired_upto:
                raw = b""  # expire() has dropped it since
        else:
            raw = self._call(b"GET", name) or b""
        for attempt in range(2):
            old = None
            old_expires = -_FOREVER
            if raw:
                old_expires, body = _split(raw)
                if old_expires > now:
                    old = orjson.loads(body)
            try:
                new, result = fn(old, arg)
                break
            except Exception:
                if attempt or staged is not None or name in txn.expect:
                    raise
                raw = self._call(b"GET", name) or b""  # the guess was refused: read the real one
        if staged is None:
            txn.expect.setdefault(name, raw)
        if new is None:
            if raw:
                txn.values[name] = b""
                txn.op("d", name, member)
            return result
        if raw and ttl is not None and old_expires >= now + ttl:
            expires = old_expires
        else:
            expires = _FOREVER if ttl is None else now + ttl
        new_raw = self._encode(new, expires)
        if new_raw != raw:
            txn.values[name] = new_raw
            txn.op("w", name, member, new_raw, self._score(expires), self._px(expires, now))
        return result

    def _t_set(self, txn: _Txn, key: str, member: str, *, add: bool) -> None:
        name = key.encode()
        added, removed = txn.sets.setdefault(name, (set(), set()))
        (added if add else removed).add(member)
        (removed if add else added).discard(member)
        txn.op("sa" if add else "sr", self._sp + name, member, name)

    def _t_schedule(self, txn: _Txn, timer_id: str, due: float | None, payload: Any) -> None:
        if due is None:
            txn.timers[timer_id] = None
            txn.op("x", timer_id)
            return
        body = orjson.dumps(payload)
        txn.timers[timer_id] = (due, body)
        heapq.heappush(txn.heap, (due, timer_id))
        txn.op("s", timer_id, _num(due), body)
        if due < self._due_hint:
            self._due_hint = due

    def _t_pop_due(self, txn: _Txn, now: float) -> list[tuple[str, float, Any]]:
        out: list[tuple[str, float, Any]] = []
        heap = txn.heap
        while heap and heap[0][0] <= now:  # armed in this batch
            due, timer_id = heapq.heappop(heap)
            staged = txn.timers.get(timer_id)
            if staged is not None and staged[0] == due:
                out.append((timer_id, due, orjson.loads(staged[1])))
                txn.timers[timer_id] = None
                txn.op("x", timer_id)
        hinted = now < self._due_hint and self._hint_until and monotonic() < self._hint_until
        self._hint_until = 0.0
        if not hinted and now > txn.scanned_to:
            limit = b"%d" % _BATCH
            after = b"-inf" if txn.scanned_to == -_FOREVER else b"(" + _num(txn.scanned_to)
            offset = 0  # pages by position: timers due at one instant may span two pages
            while True:  # armed before it: seen once per batch, claimed at commit
                flat: list[bytes] = self._peek_due(keys=[self._due, self._payload],
                                                   args=[after, _num(now), b"%d" % offset,
                                                         limit])
                offset += len(flat) // 3
                for i in range(0, len(flat), 3):
                    timer_id = flat[i].decode()
                    if timer_id in txn.timers:
                        continue  # moved, cancelled or claimed in this batch already
                    due = float(flat[i + 1])
                    out.append((timer_id, due, orjson.loads(flat[i + 2])))
                    txn.claims.append((timer_id, flat[i + 1]))
                    txn.timers[timer_id] = None
                    txn.op("x", timer_id)
                if len(flat) < 3 * _BATCH:
                    break
            txn.scanned_to = now
        out.sort(key=lambda t: (t[1], t[0]))
        return out

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
        self._known.clear()
        self._hint_until = 0.0
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
        self._wire.close()
        self.client.close()


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
