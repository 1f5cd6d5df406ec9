"""Enqueue background jobs by name with ids only; the functions live in workers/."""

from __future__ import annotations

from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

from node.settings import get_settings

_pool: ArqRedis | None = None


def redis_settings() -> RedisSettings:
    return RedisSettings.from_dsn(get_settings().redis_url)


async def job_pool() -> ArqRedis:
    global _pool
    if _pool is None:
        _pool = await create_pool(redis_settings(), default_queue_name=get_settings().queue_name)
    return _pool


async def enqueue(
    name: str, *args: Any, job_id: str | None = None, defer_by: float | None = None
) -> None:
    """Queue `name(*args)`; a job_id makes a repeat of the same job a no-op while it is queued."""
    pool = await job_pool()
    await pool.enqueue_job(name, *args, _job_id=job_id, _defer_by=defer_by)


async def close_jobs() -> None:
    global _pool
    if _pool is not None:
        await _pool.aclose()
        _pool = None
