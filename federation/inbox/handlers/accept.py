"""Accept: a remote account accepted a local account's Follow (object inline or only its id)."""

from __future__ import annotations

from federation.actors import account_by_uri
from federation.inbox.activity import InboxActivity, Outcome, done, ignored
from federation.vocabulary import id_of
from node import db, social


async def pending_request(activity: InboxActivity) -> int | None:
    """The local follower whose request to this actor the activity answers, if any.

    Only the followed actor can answer: the request must target the activity's actor."""
    obj = activity.object
    follow_uri = activity.object_id
    follower_id = await db.fetchval(
        """SELECT account_id FROM follow_requests
           WHERE uri = $1 AND uri <> '' AND target_account_id = $2""",
        follow_uri,
        activity.actor["id"],
    )
    if follower_id is None and isinstance(obj, dict):
        follower = await account_by_uri(id_of(obj.get("actor")))
        if follower is not None and follower["domain"] == "":
            follower_id = await db.fetchval(
                """SELECT account_id FROM follow_requests
                   WHERE account_id = $1 AND target_account_id = $2""",
                follower["id"],
                activity.actor["id"],
            )
    return follower_id


async def handle(activity: InboxActivity) -> Outcome:
    follower_id = await pending_request(activity)
    if follower_id is None:
        return ignored("no follow request of ours matches")
    await social.authorize_follow_request(activity.actor["id"], follower_id)
    return done("follow request accepted: now following")
