"""Enqueue background jobs by name with ids only; the functions live in workers/."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.constants import expires_extra_ms, job_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms
from redis.commands.core import AsyncScript

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


# KEYS: the queue, then each job's key; ARGV: the enqueue time (the score), the job keys'
# lifetime in ms, then (job id, serialized job) for each job. Atomic, like arq's transaction.
_QUEUE_JOBS_LUA = """
for i = 2, #KEYS do
    redis.call('PSETEX', KEYS[i], ARGV[2], ARGV[2 * i])
    redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2 * i - 1])
end
return #KEYS - 1
"""

_script: tuple[ArqRedis, AsyncScript] | None = None


def _queue_jobs_script(pool: ArqRedis) -> AsyncScript:
    global _script
    if _script is None or _script[0] is not pool:
        _script = (pool, pool.register_script(_QUEUE_JOBS_LUA))
    return _script[1]


async def queue_new_jobs(jobs: Sequence[tuple[str, str, tuple[Any, ...]]]) -> None:
    """Queue (function name, job id, args) for each job, all in one Redis command, written the
    way arq writes them.

    arq's enqueue_job WATCHes and checks that no job with the id exists first (three round
    trips per job); callers pass ids that are new by construction (random, or rows just
    inserted), so the check is left out. One script call also costs a fraction of a pipeline
    of two commands per job (packing and reading replies dominate, not Redis)."""
    if not jobs:
        return
    pool = await job_pool()
    now = timestamp_ms()
    keys = [get_settings().queue_name]
    args: list[str | int | bytes] = [now, expires_extra_ms]
    for function, job_id, job_args in jobs:
        keys.append(job_key_prefix + job_id)
        args.append(job_id)
        args.append(serialize_job(function, job_args, {}, None, now))
    await _queue_jobs_script(pool)(keys=keys, args=args)


async def close_jobs() -> None:
    global _pool
    if _pool is not None:
        await _pool.aclose()
        _pool = None
