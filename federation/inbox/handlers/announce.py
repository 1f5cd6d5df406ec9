"""Announce: a remote account boosts a post; the post is fetched from its origin when unknown."""

from __future__ import annotations

from federation.convert import parse_time, visibility_from_addressing
from federation.inbox.activity import InboxActivity, Outcome, done, ignored
from federation.remote_posts import PostRejected, post_by_uri, resolve_post, store_boost
from node import db


async def handle(activity: InboxActivity) -> Outcome:
    if not activity.id:
        return ignored("an Announce without an id cannot be undone, so it is not kept")
    if await post_by_uri(activity.id) is not None:
        return ignored("already boosted")
    # An embedded object is never trusted: the boosted post comes from its own server.
    try:
        original_id = await resolve_post(activity.object_id)
    except PostRejected as exc:
        return ignored(str(exc))
    if original_id is None:
        return ignored("the boosted post could not be fetched")
    original = await db.fetchrow("SELECT * FROM posts WHERE id = $1", original_id)
    if original["visibility"] not in ("public", "unlisted") or original["deleted_at"]:
        return ignored("only public and unlisted posts can be boosted")
    visibility = visibility_from_addressing(activity.body, activity.actor["followers_url"])
    if visibility == "direct":
        visibility = "private"
    boost_id = await store_boost(
        activity.id,
        activity.actor,
        original_id,
        visibility,
        parse_time(activity.body.get("published")),
    )
    if boost_id is None:
        return ignored("already boosted")
    return done(f"boosted post {original_id}")
