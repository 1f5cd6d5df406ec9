"""Token-bucket rate limits in Redis: one atomic Lua script, shared by every web process."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace

from redis.exceptions import RedisError

from node.redis import key, redis
from node.settings import get_settings

log = logging.getLogger("pinhole.ratelimit")

# KEYS: bucket keys. ARGV[1]: cost, ARGV[2]: how many tokens to take at most (a lease, >= cost);
# then per key: capacity, period in ms.
# A bucket holds `capacity` tokens and refills continuously, `capacity` per `period`. The
# request passes only when every bucket has `cost` tokens; then each bucket pays as many tokens
# as all of them have, up to the lease. The clock is Redis's own (TIME), so web processes on
# machines with skewed clocks agree.
# Returns: allowed (0/1), now (ms), tokens taken, then per key: whole tokens left, ms until one
# token is back, ms until the bucket is full.
_TAKE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cost = tonumber(ARGV[1])
local levels = {}
local allowed = 1
local taken = tonumber(ARGV[2])
for i = 1, #KEYS do
  local capacity = tonumber(ARGV[2 * i + 1])
  local period = tonumber(ARGV[2 * i + 2])
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
  taken = math.min(taken, math.floor(level))
end
if allowed == 0 then
  taken = 0
end
local result = {allowed, now, taken}
for i = 1, #KEYS do
  local capacity = tonumber(ARGV[2 * i + 1])
  local period = tonumber(ARGV[2 * i + 2])
  local level = levels[i] - taken
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

# A web process takes tokens for single-token requests a few at a time and spends them
# locally, so most requests cost no Redis round trip. Never more pass than the budget; tokens
# a process leased but did not spend within LEASE_SECONDS are lost, so a subject spread over
# many processes may get slightly less than its budget. Small budgets (sign-in, tests) are
# never leased: every decision stays exact.
LEASE_FRACTION = 20  # lease at most 1/20 of the smallest budget involved…
MAX_LEASE = 8  # …and never more than this
LEASE_SECONDS = 30.0
MAX_LEASES = 50_000


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


@dataclass
class _Lease:
    tokens: int  # left to spend here
    expires: float  # monotonic time
    verdict: Verdict  # what Redis said when the lease was taken


_leases: dict[tuple[str, tuple[str, ...]], _Lease] = {}
_script = None


def _lease_size(limits: list[Limit], cost: int) -> int:
    if cost != 1:
        return cost
    return max(1, min(MAX_LEASE, min(limit.count for limit in limits) // LEASE_FRACTION))


def _spend_lease(lease_key: tuple[str, tuple[str, ...]]) -> Verdict | None:
    lease = _leases.get(lease_key)
    if lease is None or lease.tokens <= 0 or lease.expires < time.monotonic():
        return None
    lease.tokens -= 1
    verdict = lease.verdict
    return replace(verdict, remaining=verdict.remaining + lease.tokens)


async def take(subject: str, limits: list[Limit], cost: int = 1) -> Verdict | None:
    """Spend `cost` from each limit's bucket for `subject` (a user, an IP, a domain), all or
    none; None when Redis cannot answer (limits fail open rather than take the node down)."""
    global _script
    if not limits:
        return None
    lease_key = (subject, tuple(limit.family for limit in limits))
    lease_size = _lease_size(limits, cost)
    if lease_size > cost and (leased := _spend_lease(lease_key)) is not None:
        return leased
    if _script is None:
        _script = redis().register_script(_TAKE_SCRIPT)
    args: list[int] = [cost, lease_size]
    for limit in limits:
        args += [limit.count, limit.period * 1000]
    try:
        result = await _script(keys=[_bucket_key(limit, subject) for limit in limits], args=args)
    except RedisError as exc:
        log.warning("rate limits unavailable: %s", exc)
        return None
    allowed, now_ms, taken = bool(result[0]), int(result[1]), int(result[2])
    buckets = [
        (limit, int(result[3 + 3 * i]), int(result[4 + 3 * i]), int(result[5 + 3 * i]))
        for i, limit in enumerate(limits)
    ]
    if allowed:
        # Report the bucket closest to running out.
        limit, remaining, _, until_full = min(buckets, key=lambda b: b[1] / b[0].count)
        retry_ms = 0
    else:
        limit, remaining, retry_ms, until_full = max(buckets, key=lambda b: b[2])
    verdict = Verdict(
        allowed=allowed,
        limit=limit.count,
        remaining=max(0, remaining),
        retry_after=math.ceil(retry_ms / 1000),
        reset_at=(now_ms + until_full) / 1000,
    )
    if not allowed and lease_size > cost:
        # Concurrent requests of this subject may have leased tokens meanwhile: spend those.
        return _spend_lease(lease_key) or verdict
    if taken > cost:
        _keep_lease(lease_key, taken - cost, verdict)
        return replace(verdict, remaining=verdict.remaining + taken - cost)
    return verdict


def _keep_lease(lease_key: tuple[str, tuple[str, ...]], tokens: int, verdict: Verdict) -> None:
    lease = _leases.get(lease_key)
    now = time.monotonic()
    if lease is not None and lease.expires >= now:
        tokens += lease.tokens
    elif len(_leases) >= MAX_LEASES:
        _leases.clear()  # leased tokens are a saving, not a debt: dropping them is safe
    _leases[lease_key] = _Lease(tokens, now + LEASE_SECONDS, verdict)


async def reset(subject: str, families: list[str]) -> None:
    """Forget the buckets of a subject (an admin lifting a lockout)."""
    for lease_key in [k for k in _leases if k[0] == subject]:
        del _leases[lease_key]
    await redis().delete(*[_bucket_key(limit_for(f), subject) for f in families])
