"""Cron jobs: housekeeping on a schedule (each job is idempotent and works in batches)."""

from __future__ import annotations

import logging
from typing import Any

from arq.cron import CronJob, cron

from node import cleanup, moderation

log = logging.getLogger("pinhole.maintenance")


async def delete_expired_credentials(ctx: dict[str, Any]) -> dict[str, int]:
    return await cleanup.delete_expired_credentials()


async def delete_orphaned_uploads(ctx: dict[str, Any]) -> int:
    return await cleanup.delete_orphaned_uploads()


async def trim_remote_media_cache(ctx: dict[str, Any]) -> int:
    return await cleanup.trim_remote_media_cache()


async def delete_suspended_accounts(ctx: dict[str, Any]) -> int:
    """Accounts suspended longer than the grace period lose their data."""
    deleted = 0
    for account_id in await moderation.accounts_due_for_deletion():
        if await cleanup.delete_account_data(account_id):
            log.info("deleted the data of suspended account %s", account_id)
            deleted += 1
    return deleted


# Spread over the hour so the jobs do not all start at once; `unique` keeps one run at a time
# across several workers.
CRON_JOBS: list[CronJob] = [
    cron(delete_expired_credentials, minute={7}, unique=True, run_at_startup=False),
    cron(delete_orphaned_uploads, minute={17, 47}, unique=True),
    cron(trim_remote_media_cache, minute={27}, unique=True),
    cron(delete_suspended_accounts, hour={3}, minute={37}, unique=True),
]
