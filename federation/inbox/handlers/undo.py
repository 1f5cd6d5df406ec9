"""Undo: a remote account takes back a Follow, Like, Announce or Block (inline or by id)."""

from __future__ import annotations

from federation.actors import account_by_uri
from federation.inbox.activity import InboxActivity, Outcome, done, ignored
from federation.vocabulary import id_of, type_of
from node import db, interactions, posts, social
from node.errors import NotFound


async def _undo_follow(activity: InboxActivity, target_uri: str) -> Outcome:
    actor_id = activity.actor["id"]
    target_id = None
    if target_uri:
        target = await account_by_uri(target_uri)
        target_id = target["id"] if target is not None else None
    if target_id is None:
        target_id = await db.fetchval(
            """SELECT target_account_id FROM follows WHERE account_id = $1 AND uri = $2
               UNION ALL
               SELECT target_account_id FROM follow_requests WHERE account_id = $1 AND uri = $2
               LIMIT 1""",
            actor_id,
            activity.object_id,
        )
    if target_id is None:
        return ignored("no such follow")
    await social.unfollow(actor_id, target_id)
    return done("unfollowed")


async def _undo_like(activity: InboxActivity, post_uri: str) -> Outcome:
    actor_id = activity.actor["id"]
    post_id = await db.fetchval(
        "SELECT post_id FROM favourites WHERE account_id = $1 AND uri = $2 AND uri <> ''",
        actor_id,
        activity.object_id,
    )
    if post_id is None and post_uri:
        post_id = await db.fetchval("SELECT id FROM posts WHERE uri = $1", post_uri)
    if post_id is None:
        return ignored("no such like")
    try:
        await interactions.unfavourite(actor_id, post_id)
    except NotFound:
        return ignored("the liked post is gone")
    return done("like withdrawn")


async def _undo_announce(activity: InboxActivity) -> Outcome:
    boost_id = await db.fetchval(
        """SELECT id FROM posts WHERE uri = $1 AND account_id = $2
             AND reblog_of_id IS NOT NULL AND deleted_at IS NULL""",
        activity.object_id,
        activity.actor["id"],
    )
    if boost_id is None:
        return ignored("no such boost")
    await posts.delete_post(activity.actor["id"], boost_id)
    return done("boost withdrawn")


async def _undo_block(activity: InboxActivity, target_uri: str) -> Outcome:
    target = await account_by_uri(target_uri) if target_uri else None
    target_id = target["id"] if target is not None else None
    if target_id is None:
        target_id = await db.fetchval(
            "SELECT target_account_id FROM blocks WHERE account_id = $1 AND uri = $2",
            activity.actor["id"],
            activity.object_id,
        )
    if target_id is None:
        return ignored("no such block")
    await social.unblock(activity.actor["id"], target_id)
    return done("unblocked")


async def _kind_of_id(activity: InboxActivity) -> str:
    """For an Undo that names only an id: which of the actor's things has that id."""
    return (
        await db.fetchval(
            """SELECT kind FROM (
                   SELECT 'Follow' AS kind FROM follows WHERE account_id = $1 AND uri = $2
                   UNION ALL SELECT 'Follow' FROM follow_requests WHERE account_id = $1 AND uri = $2
                   UNION ALL SELECT 'Like' FROM favourites WHERE account_id = $1 AND uri = $2
                   UNION ALL SELECT 'Announce' FROM posts
                     WHERE account_id = $1 AND uri = $2 AND reblog_of_id IS NOT NULL
                   UNION ALL SELECT 'Block' FROM blocks WHERE account_id = $1 AND uri = $2
               ) found LIMIT 1""",
            activity.actor["id"],
            activity.object_id,
        )
        or ""
    )


async def handle(activity: InboxActivity) -> Outcome:
    obj = activity.object
    kind = type_of(obj) if isinstance(obj, dict) else await _kind_of_id(activity)
    inner_object = id_of(obj.get("object")) if isinstance(obj, dict) else ""
    if kind == "Follow":
        return await _undo_follow(activity, inner_object)
    if kind == "Like":
        return await _undo_like(activity, inner_object)
    if kind == "Announce":
        return await _undo_announce(activity)
    if kind == "Block":
        return await _undo_block(activity, inner_object)
    return ignored(f"nothing to undo for {kind or activity.object_id}")
