"""The latest few comments (direct replies) under each post of a page, in one query."""

from __future__ import annotations

from collections import defaultdict

from node import db
from node.post_views import PostView, hydrate
from node.visibility import visible_to


async def latest_replies(
    post_ids: list[int], viewer_id: int | None, per_post: int = 2
) -> dict[int, list[PostView]]:
    """post id -> its newest `per_post` replies the viewer may see, oldest of them first."""
    if not post_ids:
        return {}
    rows = await db.fetch(
        f"""SELECT r.id, r.in_reply_to_id FROM unnest($1::bigint[]) AS t(id)
            CROSS JOIN LATERAL (
                SELECT p.id, p.in_reply_to_id FROM posts p
                WHERE p.in_reply_to_id = t.id AND {visible_to("p", "$2")}
                ORDER BY p.id DESC LIMIT $3
            ) r""",
        post_ids,
        viewer_id,
        per_post,
    )
    views = {view.post["id"]: view for view in await hydrate([r["id"] for r in rows], viewer_id)}
    replies: dict[int, list[PostView]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r["id"]):
        if row["id"] in views:
            replies[row["in_reply_to_id"]].append(views[row["id"]])
    return replies
