"""The shared rate-limit backend: one Lua script per quota, all of a request's in one round trip.

The script runs atomically on the Redis server and reads the server's clock (`TIME`), so workers on
hosts with skewed clocks agree and N workers never admit more than one would. Each call touches one
key, so it runs unchanged on Redis Cluster (`TABULAR_REDIS_CLUSTER`). When Redis fails,
`ResilientBackend` falls back to the in-process counters (logging once) and tries Redis again after a
pause.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import TYPE_CHECKING, Final

from redis.asyncio import RedisCluster
from redis.exceptions import NoScriptError, RedisError

from tabular.ratelimit.window import MICROS, Allowance, Hit, InProcessBackend
from tabular.telemetry import RATE_LIMIT_FALLBACKS

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from redis.asyncio import Redis

    from tabular.schemas.health import LimiterMode

logger = logging.getLogger(__name__)


# KEYS[1]: the client's hash of bucket counters (field: bucket number, value: requests admitted in it).
# ARGV: limit, bucket length in µs, look-back in buckets, and "now" in µs ("" = the server's clock).
# Mirrors tabular.ratelimit.window.admit; returns {admitted (0/1), count, µs until the count drops}.
SLIDING_WINDOW_LUA: Final = """
local limit = tonumber(ARGV[1])
local bucket_us = tonumber(ARGV[2])
local lookback = tonumber(ARGV[3])
local now_us
if ARGV[4] ~= '' then
  now_us = tonumber(ARGV[4])
else
  local t = redis.call('TIME')
  now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local current = math.floor(now_us / bucket_us)
local oldest = current - lookback
local fields = redis.call('HGETALL', KEYS[1])
local count = 0
local min_index = nil
for i = 1, #fields, 2 do
  local index = tonumber(fields[i])
  if index < oldest then
    redis.call('HDEL', KEYS[1], fields[i])
  else
    count = count + tonumber(fields[i + 1])
    if min_index == nil or index < min_index then min_index = index end
  end
end
local admitted = 0
if count < limit then
  redis.call('HINCRBY', KEYS[1], string.format('%d', current), 1)
  count = count + 1
  admitted = 1
  if min_index == nil or current < min_index then min_index = current end
end
if min_index == nil then min_index = current end
redis.call('PEXPIRE', KEYS[1], math.ceil((lookback + 2) * bucket_us / 1000))
return {admitted, count, (min_index + lookback + 1) * bucket_us - now_us}
"""
SCRIPT_SHA: Final = hashlib.sha1(SLIDING_WINDOW_LUA.encode(), usedforsecurity=False).hexdigest()
RETRY_AFTER_OUTAGE: Final = 5.0


class RedisBackend:
    """Exact across processes: every allowance is made inside Redis."""

    def __init__(self, redis: Redis | RedisCluster, clock: Callable[[], float] | None = None) -> None:
        self.redis = redis
        self._cluster = isinstance(redis, RedisCluster)
        self._clock = clock
        """Only tests set this, to replay a timeline; production reads the Redis server's clock."""

    async def hit(self, hits: Sequence[Hit]) -> list[Allowance]:
        """EVALSHA for each hit, in one round trip.

        Pipelined on one server; sent concurrently on a cluster, where the keys may live on different
        nodes (and redis-py refuses EVALSHA in cluster pipelines).
        """
        now = "" if self._clock is None else str(int(self._clock() * MICROS))
        calls = [(item.key, (item.quota.limit, item.quota.bucket_us, item.quota.lookback, now)) for item in hits]
        if len(calls) == 1:
            replies = [await self._run(*calls[0])]
        elif self._cluster:
            replies = list(await asyncio.gather(*(self._run(key, args) for key, args in calls)))
        else:
            replies = await self._pipelined(calls)
        return [_allowance(item, reply) for item, reply in zip(hits, replies, strict=True)]

    async def _run(self, key: str, args: tuple[int, int, int, str]) -> list[int]:
        """One script call; a server that lost the script (NOSCRIPT) gets it by EVAL, that call only."""
        try:
            reply = await self.redis.evalsha(SCRIPT_SHA, 1, key, *args)
        except NoScriptError:
            reply = await self.redis.eval(SLIDING_WINDOW_LUA, 1, key, *args)
        return list(reply)

    async def _pipelined(self, calls: list[tuple[str, tuple[int, int, int, str]]]) -> list[list[int]]:
        """All calls in one pipeline; only a call that met NOSCRIPT is sent again (the others have counted)."""
        pipe = self.redis.pipeline(transaction=False)
        for key, args in calls:
            pipe.evalsha(SCRIPT_SHA, 1, key, *args)
        replies = await pipe.execute(raise_on_error=False)
        for index, reply in enumerate(replies):
            if isinstance(reply, NoScriptError):
                replies[index] = await self._run(*calls[index])
            elif isinstance(reply, Exception):
                raise reply
        return [list(reply) for reply in replies]


class ResilientBackend:
    """The application's limiter: Redis while it answers, else this process's counters.

    Without Redis configured it only counts in process. During an outage it counts in process, warns
    once, and tries Redis again every `retry_after` seconds: no request fails because Redis did.
    """

    def __init__(
        self, primary: RedisBackend | None, fallback: InProcessBackend, retry_after: float = RETRY_AFTER_OUTAGE
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.retry_after = retry_after
        self._down_until = 0.0

    @property
    def redis(self) -> Redis | RedisCluster | None:
        """The Redis client (a server's or a cluster's) the limiter counts in, if one is configured."""
        return None if self.primary is None else self.primary.redis

    @property
    def mode(self) -> LimiterMode:
        """Which counters admit right now."""
        if self.primary is None:
            return "in_process"
        return "in_process_fallback" if time.monotonic() < self._down_until else "redis"

    async def hit(self, hits: Sequence[Hit]) -> list[Allowance]:
        """Ask Redis unless it failed in the last `retry_after` seconds."""
        if self.primary is None:
            return await self.fallback.hit(hits)
        if time.monotonic() < self._down_until:
            RATE_LIMIT_FALLBACKS.inc()
            return await self.fallback.hit(hits)
        try:
            allowances = await self.primary.hit(hits)
        except (RedisError, OSError) as exc:
            if self._down_until == 0.0:
                logger.warning("rate limiter: Redis unavailable (%s); counting in this process until it returns", exc)
            self._down_until = time.monotonic() + self.retry_after
            RATE_LIMIT_FALLBACKS.inc()
            return await self.fallback.hit(hits)
        if self._down_until:
            logger.warning("rate limiter: Redis is back; counting in Redis again")
            self._down_until = 0.0
        return allowances


def _allowance(item: Hit, reply: Sequence[int]) -> Allowance:
    admitted, count, frees_in_us = (int(value) for value in reply)
    return Allowance(
        quota=item.quota,
        allowed=admitted == 1,
        remaining=max(0, item.quota.limit - count),
        reset=max(1, -(-frees_in_us // MICROS)),
    )
