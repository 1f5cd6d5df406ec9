"""Like: a remote account likes a post we have."""

from __future__ import annotations

from federation.inbox.activity import InboxActivity, Outcome, done, ignored
from node import db, interactions
from node.errors import NotFound


async def handle(activity: InboxActivity) -> Outcome:
    post_id = await db.fetchval(
        "SELECT id FROM posts WHERE uri = $1 AND deleted_at IS NULL", activity.object_id
    )
    if post_id is None:
        return ignored("the liked post is not known here")
    try:
        liked = await interactions.favourite(activity.actor["id"], post_id, activity.id)
    except NotFound:
        return ignored("the post is not visible to this account")
    return done(f"liked post {liked}")
