"""Domain events: a service emits what happened (ids only); each subscriber is a job in workers/.

Subscribers are job names, so node/ never imports workers/ and each side effect (feed fan-out,
notifications, federation delivery) retries on its own.
"""

from __future__ import annotations

from uuid import uuid4

from node.jobs import queue_new_jobs

# event name -> job names run for it, each with the event's arguments.
SUBSCRIBERS: dict[str, list[str]] = {
    "account.created": ["notify_sign_up"],  # (account_id) - a local account signed up
    "account.updated": ["federate_account_updated"],  # (account_id)
    "post.created": ["announce_post", "fan_out_post", "federate_post_created"],  # (post_id)
    "post.updated": ["federate_post_updated", "notify_post_update"],  # (post_id)
    "post.deleted": [
        "remove_post_from_feeds",
        "federate_post_deleted",
        "retract_post",
        "delete_post_media",
    ],  # (post_id) - the row stays with deleted_at set
    "favourite.created": ["notify_favourite", "federate_favourite_created"],  # (favourite_id)
    "favourite.removed": ["federate_favourite_removed"],  # (account_id, post_id, favourite_uri)
    "follow.created": ["merge_followee_posts", "notify_follow"],  # (follower_id, target_id)
    "follow.requested": [
        "federate_follow_requested",
        "notify_follow_request",
    ],  # (follower_id, target_id)
    "follow.removed": [
        "remove_followee_posts",
        "federate_follow_removed",
        "settle_follow_request",
    ],  # (follower_id, target_id)
    "follow_request.authorized": [
        "merge_followee_posts",
        "federate_follow_request_authorized",
        "settle_follow_request",
    ],  # (follower_id, target_id)
    "follow_request.rejected": [
        "federate_follow_request_rejected",
        "settle_follow_request",
    ],  # (follower_id, target_id)
    "block.created": [
        "remove_blocked_posts",
        "federate_block_created",
        "refresh_stream_filters",
    ],  # (blocker_id, target_id)
    "block.removed": [
        "federate_block_removed",
        "refresh_stream_filters",
    ],  # (blocker_id, target_id)
    "report.created": [
        "notify_report",
        "federate_report_created",
    ],  # (report_id) - reports.forwarded: send a Flag to the target's node
    "account.warned": [],  # (account_warning_id) - a moderator acted on an account
    "account.suspended": [],  # (account_id) - gone for everyone; data deleted after the grace
    "account.unsuspended": [],  # (account_id)
}


async def emit(event: str, *args: object) -> None:
    """Queue the event's jobs (one Redis round trip for all of them)."""
    await queue_new_jobs([(job, uuid4().hex, args) for job in SUBSCRIBERS[event]])
