"""Follow: a remote account follows a local one; accepted at once unless the account is locked."""

from __future__ import annotations

from federation.actors import account_by_uri
from federation.inbox.activity import InboxActivity, Outcome, done, ignored
from federation.outbox import answer_follow
from node import db, social
from node.errors import PinholeError


async def handle(activity: InboxActivity) -> Outcome:
    target = await account_by_uri(activity.object_id)
    if target is None or target["domain"] != "" or target["suspended_at"] is not None:
        return ignored("the followed account is not a local account")
    follower = activity.actor
    already = await db.fetchval(
        "SELECT 1 FROM follows WHERE account_id = $1 AND target_account_id = $2",
        follower["id"],
        target["id"],
    )
    try:
        relationship = await social.follow(follower["id"], target["id"])
    except PinholeError:
        await answer_follow(target, follower, activity.id, "Reject")
        return done("refused (blocked): sent Reject")
    if relationship.following:
        await db.execute(
            "UPDATE follows SET uri = $3 WHERE account_id = $1 AND target_account_id = $2",
            follower["id"],
            target["id"],
            activity.id,
        )
        # A repeat is answered too: the follower's server may have lost our first Accept.
        await answer_follow(target, follower, activity.id, "Accept")
        return done("already following: sent Accept again" if already else "followed: sent Accept")
    await db.execute(
        "UPDATE follow_requests SET uri = $3 WHERE account_id = $1 AND target_account_id = $2",
        follower["id"],
        target["id"],
        activity.id,
    )
    return done("locked account: follow request waits for the owner")
