"""Trends job: every five minutes, recount hashtag usage and recompute what trends."""

from __future__ import annotations

import logging
from typing import Any

from arq.cron import CronJob, cron

from node import trends

log = logging.getLogger("pinhole.trends")


async def refresh_trends(ctx: dict[str, Any]) -> dict[str, float]:
    run = await trends.refresh_trends()
    log.info(
        "trends: %d usage rows, %d tags, %d posts in %.3f s",
        run.usage_rows,
        run.tags,
        run.posts,
        run.seconds,
    )
    return {
        "usage_rows": run.usage_rows,
        "tags": run.tags,
        "posts": run.posts,
        "seconds": run.seconds,
    }


# `unique`: one run at a time across workers; at startup too, so a fresh node has history.
CRON_JOBS: list[CronJob] = [
    cron(refresh_trends, minute=set(range(2, 60, 5)), unique=True, run_at_startup=True),
]
