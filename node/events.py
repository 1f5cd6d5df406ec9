"""Domain events: a service emits what happened (ids only); each subscriber is a job in workers/.

Subscribers are job names, so node/ never imports workers/ and each side effect (feed fan-out,
notifications, federation delivery) retries on its own.
"""

from __future__ import annotations

from node.jobs import enqueue

# event name -> job names run for it, each with the event's arguments.
SUBSCRIBERS: dict[str, list[str]] = {
    "account.updated": [],  # (account_id)
    "post.created": [],  # (post_id)
    "post.updated": [],  # (post_id)
    "post.deleted": [],  # (post_id) - the row stays with deleted_at set
    "favourite.created": [],  # (favourite_id)
    "favourite.removed": [],  # (account_id, post_id, favourite_uri)
    "follow.created": [],  # (follower_id, target_id)
    "follow.requested": [],  # (follower_id, target_id)
    "follow.removed": [],  # (follower_id, target_id)
    "follow_request.authorized": [],  # (follower_id, target_id)
    "follow_request.rejected": [],  # (follower_id, target_id)
    "block.created": [],  # (blocker_id, target_id)
    "block.removed": [],  # (blocker_id, target_id)
    "report.created": [],  # (report_id) - reports.forwarded: send a Flag to the target's node
    "account.warned": [],  # (account_warning_id) - a moderator acted on an account
    "account.suspended": [],  # (account_id) - gone for everyone; data deleted after the grace
    "account.unsuspended": [],  # (account_id)
}


async def emit(event: str, *args: object) -> None:
    for job in SUBSCRIBERS[event]:
        await enqueue(job, *args)
