"""Token-bucket rate limits in Redis: one atomic Lua script, shared by every web process."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from redis.exceptions import RedisError

from node.redis import key, redis
from node.settings import get_settings

log = logging.getLogger("pinhole.ratelimit")

# KEYS: bucket keys. ARGV[1]: cost; then per key: capacity, period in ms.
# A bucket holds `capacity` tokens and refills continuously, `capacity` per `period`. The
# request passes only when every bucket has `cost` tokens; then each bucket pays. The clock
# is Redis's own (TIME), so web processes on machines with skewed clocks agree.
# Returns: allowed (0/1), now (ms), then per key: whole tokens left, ms until one token is
# back, ms until the bucket is full.
_TAKE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cost = tonumber(ARGV[1])
local levels = {}
local allowed = 1
for i = 1, #KEYS do
  local capacity = tonumber(ARGV[2 * i])
  local period = tonumber(ARGV[2 * i + 1])
  local state = redis.call('HMGET', KEYS[i], 'level', 'at')
  local level = tonumber(state[1])
  local at = tonumber(state[2])
  if level == nil or at == nil then
    level = capacity
  else
    level = math.min(capacity, level + math.max(0, now - at) * capacity / period)
  end
  levels[i] = level
  if level < cost then
    allowed = 0
  end
end
local result = {allowed, now}
for i = 1, #KEYS do
  local capacity = tonumber(ARGV[2 * i])
  local period = tonumber(ARGV[2 * i + 1])
  local level = levels[i]
  if allowed == 1 then
    level = level - cost
  end
  local until_full = math.ceil((capacity - level) * period / capacity)
  local until_one = 0
  if level < cost then
    until_one = math.ceil((cost - level) * period / capacity)
  end
  redis.call('HSET', KEYS[i], 'level', string.format('%.17g', level), 'at', now)
  redis.call('PEXPIRE', KEYS[i], until_full + 1000)
  result[#result + 1] = math.floor(level)
  result[#result + 1] = until_one
  result[#result + 1] = until_full
end
return result
"""


@dataclass(frozen=True)
class Limit:
    """`count` requests per `period` seconds for one family of endpoints."""

    family: str
    count: int
    period: int


@dataclass(frozen=True)
class Verdict:
    """The outcome for the most constrained bucket a request touched."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # whole seconds until the request could pass (0 when it did)
    reset_at: float  # unix time when that bucket is full again


def limit_for(family: str) -> Limit:
    """The configured limit of an endpoint family: api, feeds, uploads, sign_up, sign_in, inbox."""
    count, period = getattr(get_settings(), f"rate_limit_{family}")
    return Limit(family, count, period)


def _bucket_key(limit: Limit, subject: str) -> str:
    # The braces are a Redis Cluster hash tag: the buckets of one subject live in one slot,
    # which a multi-key script needs.
    return key("ratelimit", "{" + subject + "}", limit.family)


_script = None


async def take(subject: str, limits: list[Limit], cost: int = 1) -> Verdict | None:
    """Spend `cost` from each limit's bucket for `subject` (a user, an IP, a domain), all or
    none; None when Redis cannot answer (limits fail open rather than take the node down)."""
    global _script
    if not limits:
        return None
    if _script is None:
        _script = redis().register_script(_TAKE_SCRIPT)
    args: list[int] = [cost]
    for limit in limits:
        args += [limit.count, limit.period * 1000]
    try:
        result = await _script(keys=[_bucket_key(limit, subject) for limit in limits], args=args)
    except RedisError as exc:
        log.warning("rate limits unavailable: %s", exc)
        return None
    allowed, now_ms = bool(result[0]), int(result[1])
    buckets = [
        (limit, int(result[2 + 3 * i]), int(result[3 + 3 * i]), int(result[4 + 3 * i]))
        for i, limit in enumerate(limits)
    ]
    if allowed:
        # Report the bucket closest to running out.
        limit, remaining, _, until_full = min(buckets, key=lambda b: b[1] / b[0].count)
        retry_ms = 0
    else:
        limit, remaining, retry_ms, until_full = max(buckets, key=lambda b: b[2])
    return Verdict(
        allowed=allowed,
        limit=limit.count,
        remaining=max(0, remaining),
        retry_after=math.ceil(retry_ms / 1000),
        reset_at=(now_ms + until_full) / 1000,
    )


async def reset(subject: str, families: list[str]) -> None:
    """Forget the buckets of a subject (an admin lifting a lockout)."""
    await redis().delete(*[_bucket_key(limit_for(f), subject) for f in families])
