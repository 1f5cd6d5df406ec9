"""Queueing many new jobs at once: one Redis command, written the way arq writes them."""

from __future__ import annotations

from arq import ArqRedis
from arq.constants import expires_extra_ms, job_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms
from redis.commands.core import AsyncScript

from node.jobs import job_pool
from node.settings import get_settings

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


async def queue_new_jobs(function: str, job_ids_and_args: list[tuple[str, int]]) -> None:
    """Queue `function(arg)` for each (job id, arg), all in one command.

    arq's enqueue_job WATCHes and checks that no job with the id exists first (three round
    trips per job); callers pass ids that are new by construction (rows just inserted), so
    the check is left out. One script call costs a fraction of a pipeline of two commands
    per job (packing and reading replies dominate, not Redis)."""
    if not job_ids_and_args:
        return
    pool = await job_pool()
    now = timestamp_ms()
    keys = [get_settings().queue_name]
    args: list[str | int | bytes] = [now, expires_extra_ms]
    for job_id, arg in job_ids_and_args:
        keys.append(job_key_prefix + job_id)
        args.append(job_id)
        args.append(serialize_job(function, (arg,), {}, None, now))
    await _queue_jobs_script(pool)(keys=keys, args=args)
