"""Feed jobs: thin edges from domain events to timeline.fanout (ids in, nothing out)."""

from __future__ import annotations

from typing import Any

from node import streaming
from node.api import entities
from node.post_views import hydrate
from timeline import fanout


async def fan_out_post(ctx: dict[str, Any], post_id: int) -> None:
    """post.created: into the feeds of the author and their active local followers, and onto
    the followers' `user` streams (clients connected now are active, so their feeds got it)."""
    result = await fanout.fan_out_post(post_id)
    # The author's own client has the post from its POST answer already.
    readers = sorted(result.readers - {result.author_id})
    if not readers:
        return
    # Rendered once, as the author sees it: a post this new has no likes or boosts to show.
    shown = await hydrate([post_id], result.author_id)
    if shown:
        await streaming.publish(
            [streaming.user_stream(reader) for reader in readers],
            "update",
            entities.status(shown[0]),
        )


async def remove_post_from_feeds(ctx: dict[str, Any], post_id: int) -> None:
    """post.deleted: out of every feed that may hold it."""
    await fanout.remove_post(post_id)


async def merge_followee_posts(ctx: dict[str, Any], follower_id: int, target_id: int) -> None:
    """follow.created, follow_request.authorized: the followee's recent posts join the feed."""
    await fanout.merge_followee(follower_id, target_id)


async def remove_followee_posts(ctx: dict[str, Any], follower_id: int, target_id: int) -> None:
    """follow.removed: the followee's posts leave the feed (and the follower's lists)."""
    await fanout.unfollow(follower_id, target_id)


async def remove_blocked_posts(ctx: dict[str, Any], blocker_id: int, target_id: int) -> None:
    """block.created: each one's posts leave the other's feed and lists."""
    await fanout.block(blocker_id, target_id)


FUNCTIONS = [
    fan_out_post,
    remove_post_from_feeds,
    merge_followee_posts,
    remove_followee_posts,
    remove_blocked_posts,
]
