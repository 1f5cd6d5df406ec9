"""Times every job (queue wait and run time, by job type) into the node-wide metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from arq.worker import Function, func

from node.observability import observe, record_job

JobFunction = Callable[..., Awaitable[Any]]

# Jobs whose run time is also a metric of its own: job name -> (histogram, label).
NAMED_TIMINGS = {"fan_out_post": ("pinhole_feed_fanout_seconds", "push")}


def timed(function: JobFunction) -> Function:
    """The job under its own name, recording its metrics when it ends (whatever the outcome)."""
    name = function.__name__

    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        started = time.time()
        enqueued = ctx.get("enqueue_time")
        wait = started - enqueued.timestamp() if enqueued is not None else 0.0
        succeeded = False
        try:
            result = await function(ctx, *args, **kwargs)
            succeeded = True
            return result
        finally:
            elapsed = time.time() - started
            await record_job(name, wait, elapsed, succeeded)
            if name in NAMED_TIMINGS and succeeded:
                await observe(NAMED_TIMINGS[name][0], elapsed, NAMED_TIMINGS[name][1])

    return func(run, name=name)
