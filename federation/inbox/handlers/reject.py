"""Reject: a remote account refused (or withdrew) a local account's follow."""

from __future__ import annotations

from federation.actors import account_by_uri
from federation.inbox.activity import InboxActivity, Outcome, done, ignored
from federation.inbox.handlers.accept import pending_request
from federation.vocabulary import id_of
from node import db, social


async def handle(activity: InboxActivity) -> Outcome:
    follower_id = await pending_request(activity)
    if follower_id is not None:
        await social.reject_follow_request(activity.actor["id"], follower_id)
        return done("follow request rejected")
    obj = activity.object
    follower = None
    if isinstance(obj, dict):
        follower = await account_by_uri(id_of(obj.get("actor")))
    if follower is None:
        follower_id = await db.fetchval(
            "SELECT account_id FROM follows WHERE uri = $1 AND uri <> '' AND target_account_id = $2",
            activity.object_id,
            activity.actor["id"],
        )
        follower = await db.fetchrow("SELECT * FROM accounts WHERE id = $1", follower_id)
    if follower is None or follower["domain"] != "":
        return ignored("no follow of ours matches")
    # A Reject after an Accept: the remote account removed our account from its followers.
    await social.unfollow(follower["id"], activity.actor["id"])
    return done("follow ended by the followed account")
