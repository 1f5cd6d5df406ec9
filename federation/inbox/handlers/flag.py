"""Flag: a remote server reports local accounts or posts to our moderators."""

from __future__ import annotations

from federation.inbox.activity import InboxActivity, Outcome, done, ignored
from federation.vocabulary import ids_of, text_of
from node import db, moderation


async def handle(activity: InboxActivity) -> Outcome:
    uris = ids_of(activity.object)
    targets = await db.fetch(
        "SELECT id FROM accounts WHERE uri = ANY($1::text[]) AND domain = ''", uris
    )
    posts = await db.fetch(
        """SELECT id, account_id FROM posts
           WHERE uri = ANY($1::text[]) AND local AND deleted_at IS NULL""",
        uris,
    )
    target_ids = [row["id"] for row in targets] or list({row["account_id"] for row in posts})
    if not target_ids:
        return ignored("the report names no local account or post")
    comment = text_of(activity.body.get("content"))[:5000]
    made = 0
    for target_id in target_ids:
        status_ids = [row["id"] for row in posts if row["account_id"] == target_id]
        uri = activity.id if len(target_ids) == 1 else f"{activity.id}#{target_id}"
        # Idempotent per uri; dropped (None) when the domain is blocked with reject_reports.
        report = await moderation.create_report(
            activity.actor["id"], target_id, status_ids, comment[:1000], "other", uri
        )
        made += report is not None
    return done(f"{made} report(s) for the moderators")
