"""Federation jobs: process received activities, deliver sent ones, and turn domain events into
activities for remote audiences. Each job loads by id and calls federation/."""

from __future__ import annotations

import logging
from typing import Any

from arq.cron import CronJob, cron

from federation import outbox
from federation.delivery import deliver, requeue_due_deliveries
from federation.inbox.dispatch import process_activity
from federation.remote_media import cache_thumbnails
from node.observability import record_delivery

log = logging.getLogger("pinhole.worker.federation")


async def process_inbox_activity(ctx: dict[str, Any], row_id: int) -> str:
    outcome = await process_activity(row_id)
    return outcome.detail if outcome else "not queued"


async def deliver_activity(ctx: dict[str, Any], delivery_id: int) -> str:
    result = await deliver(delivery_id)
    await record_delivery(result.state)  # pinhole_deliveries_total{outcome}
    return f"{result.state}: {result.detail}"


async def requeue_deliveries(ctx: dict[str, Any]) -> int:
    return await requeue_due_deliveries()


async def federate_post_created(ctx: dict[str, Any], post_id: int) -> None:
    await outbox.post_created(post_id)


async def federate_post_updated(ctx: dict[str, Any], post_id: int) -> None:
    await outbox.post_updated(post_id)


async def federate_post_deleted(ctx: dict[str, Any], post_id: int) -> None:
    await outbox.post_deleted(post_id)


async def federate_favourite_created(ctx: dict[str, Any], favourite_id: int) -> None:
    await outbox.favourite_created(favourite_id)


async def federate_favourite_removed(
    ctx: dict[str, Any], account_id: int, post_id: int, favourite_uri: str
) -> None:
    await outbox.favourite_removed(account_id, post_id, favourite_uri)


async def federate_follow_requested(ctx: dict[str, Any], follower_id: int, target_id: int) -> None:
    await outbox.follow_requested(follower_id, target_id)


async def federate_follow_removed(ctx: dict[str, Any], follower_id: int, target_id: int) -> None:
    await outbox.follow_removed(follower_id, target_id)


async def federate_follow_request_authorized(
    ctx: dict[str, Any], follower_id: int, target_id: int
) -> None:
    await outbox.follow_request_answered(follower_id, target_id, "Accept")


async def federate_follow_request_rejected(
    ctx: dict[str, Any], follower_id: int, target_id: int
) -> None:
    await outbox.follow_request_answered(follower_id, target_id, "Reject")


async def federate_block_created(ctx: dict[str, Any], blocker_id: int, target_id: int) -> None:
    await outbox.block_created(blocker_id, target_id)


async def federate_block_removed(ctx: dict[str, Any], blocker_id: int, target_id: int) -> None:
    await outbox.block_removed(blocker_id, target_id)


async def federate_account_updated(ctx: dict[str, Any], account_id: int) -> None:
    await outbox.account_updated(account_id)


async def cache_remote_media(ctx: dict[str, Any], media_id: int) -> str:
    return await cache_thumbnails(media_id)


async def federate_report_created(ctx: dict[str, Any], report_id: int) -> None:
    await outbox.report_created(report_id)


FUNCTIONS = [
    process_inbox_activity,
    deliver_activity,
    requeue_deliveries,
    federate_post_created,
    federate_post_updated,
    federate_post_deleted,
    federate_favourite_created,
    federate_favourite_removed,
    federate_follow_requested,
    federate_follow_removed,
    federate_follow_request_authorized,
    federate_follow_request_rejected,
    federate_block_created,
    federate_block_removed,
    federate_account_updated,
    federate_report_created,
    cache_remote_media,
]

# A safety net: deliveries whose job was lost (Redis flushed, a worker killed mid-attempt) are
# queued again; every few minutes, one run at a time across workers.
CRON_JOBS: list[CronJob] = [
    cron(requeue_deliveries, minute=set(range(2, 60, 5)), unique=True, run_at_startup=False),
]
