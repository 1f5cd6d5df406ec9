"""Block: a remote account blocks a local one; follows both ways end."""

from __future__ import annotations

from federation.actors import account_by_uri
from federation.inbox.activity import InboxActivity, Outcome, done, ignored
from node import db, social


async def handle(activity: InboxActivity) -> Outcome:
    target = await account_by_uri(activity.object_id)
    if target is None or target["domain"] != "":
        return ignored("the blocked account is not a local account")
    await social.block(activity.actor["id"], target["id"])
    await db.execute(
        "UPDATE blocks SET uri = $3 WHERE account_id = $1 AND target_account_id = $2",
        activity.actor["id"],
        target["id"],
        activity.id,
    )
    return done("blocked")
