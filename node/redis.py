"""The node's Redis connection (feeds, caches, rate limits, pub/sub); nothing here is the only copy."""

from __future__ import annotations

from redis.asyncio import Redis

from node.settings import get_settings

_client: Redis | None = None


def redis() -> Redis:
    global _client
    if _client is None:
        _client = Redis.from_url(get_settings().redis_url, decode_responses=False)
    return _client


def key(*parts: object) -> str:
    """A key under this node's prefix, so several nodes can share one Redis."""
    return get_settings().redis_prefix + ":".join(str(p) for p in parts)


async def close_redis() -> None:
    global _client
    if _client is not None:
        await _client.aclose()
        _client = None
