"""Move: a remote account moved to a new one; local followers follow the new account."""

from __future__ import annotations

from federation.actors import ActorUnavailable, get_actor
from federation.inbox.activity import InboxActivity, Outcome, done, ignored
from federation.vocabulary import id_of
from node import db, social
from node.errors import PinholeError


async def handle(activity: InboxActivity) -> Outcome:
    old = activity.actor
    if activity.object_id != old["uri"]:
        return ignored("an account may only move itself")
    target_uri = id_of(activity.body.get("target"))
    if not target_uri or target_uri == old["uri"]:
        return ignored("the Move names no new account")
    try:
        new = await get_actor(target_uri, refresh=True)
    except ActorUnavailable as exc:
        return ignored(f"the new account could not be fetched: {exc}")
    # The new account must claim the old one, or anyone could steal followers.
    if old["uri"] not in (new["also_known_as"] or []):
        return ignored("the new account does not list the old one in alsoKnownAs")
    await db.execute(
        "UPDATE accounts SET moved_to_account_id = $2 WHERE id = $1", old["id"], new["id"]
    )
    followers = await db.fetch(
        """SELECT f.account_id FROM follows f JOIN accounts a ON a.id = f.account_id
           WHERE f.target_account_id = $1 AND a.domain = ''""",
        old["id"],
    )
    moved = 0
    for row in followers:
        try:
            await social.follow(row["account_id"], new["id"])
            await social.unfollow(row["account_id"], old["id"])
            moved += 1
        except PinholeError:
            continue  # blocked either way: that follower stays behind
    return done(f"moved: {moved} local follower(s) now follow the new account")
