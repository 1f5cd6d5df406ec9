"""Delete: a remote post (Note, Tombstone, or its bare id) or the actor itself is gone."""

from __future__ import annotations

from federation.inbox.activity import InboxActivity, Outcome, done, ignored
from node import db, posts


async def _delete_actor(activity: InboxActivity) -> Outcome:
    """Remove a deleted remote account and what it left here, keeping local counters exact."""
    actor_id = activity.actor["id"]
    async with db.transaction():
        await db.execute(
            """UPDATE accounts SET followers_count = greatest(followers_count - 1, 0)
               WHERE id IN (SELECT target_account_id FROM follows WHERE account_id = $1)""",
            actor_id,
        )
        await db.execute(
            """UPDATE accounts SET following_count = greatest(following_count - 1, 0)
               WHERE id IN (SELECT account_id FROM follows WHERE target_account_id = $1)""",
            actor_id,
        )
        await db.execute(
            """UPDATE posts SET favourites_count = greatest(favourites_count - 1, 0)
               WHERE id IN (SELECT post_id FROM favourites WHERE account_id = $1)""",
            actor_id,
        )
        await db.execute(
            """UPDATE posts p SET reblogs_count = greatest(p.reblogs_count - 1, 0)
               FROM posts b WHERE b.reblog_of_id = p.id AND b.account_id = $1
                 AND b.deleted_at IS NULL""",
            actor_id,
        )
        await db.execute(
            """UPDATE posts p SET replies_count = greatest(p.replies_count - 1, 0)
               FROM posts r WHERE r.in_reply_to_id = p.id AND r.account_id = $1
                 AND r.deleted_at IS NULL AND r.visibility IN ('public', 'unlisted')""",
            actor_id,
        )
        await db.execute("DELETE FROM accounts WHERE id = $1", actor_id)
    return done("account deleted")


async def handle(activity: InboxActivity) -> Outcome:
    target = activity.object_id
    if target == activity.actor["uri"]:
        return await _delete_actor(activity)
    post_id = await db.fetchval(
        "SELECT id FROM posts WHERE uri = $1 AND account_id = $2 AND deleted_at IS NULL",
        target,
        activity.actor["id"],
    )
    if post_id is None:
        return ignored("no such post of this actor")
    await posts.delete_post(activity.actor["id"], post_id)
    return done(f"post {post_id} deleted")
