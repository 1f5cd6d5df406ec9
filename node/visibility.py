"""Who may see a post: the one SQL condition every read of posts goes through."""

from __future__ import annotations

from asyncpg import Record

from node import db
from node.errors import NotFound


def _own_rules(post: str, viewer: str, suffix: str) -> str:
    """The post itself (not what it boosts) may be seen by `viewer` (NULL: signed out)."""
    v = f"{viewer}::bigint"
    return f"""(
        {post}.deleted_at IS NULL
        AND EXISTS (SELECT 1 FROM accounts va{suffix}
                    WHERE va{suffix}.id = {post}.account_id AND va{suffix}.suspended_at IS NULL)
        AND (
            {post}.visibility IN ('public', 'unlisted')
            OR {post}.account_id = {v}
            OR EXISTS (SELECT 1 FROM mentions vm{suffix}
                       WHERE vm{suffix}.post_id = {post}.id AND vm{suffix}.account_id = {v})
            OR ({post}.visibility = 'private'
                AND EXISTS (SELECT 1 FROM follows vf{suffix}
                            WHERE vf{suffix}.account_id = {v}
                              AND vf{suffix}.target_account_id = {post}.account_id))
        )
        AND ({v} IS NULL OR {post}.account_id = {v} OR NOT EXISTS (
            SELECT 1 FROM blocks vb{suffix}
            WHERE (vb{suffix}.account_id = {post}.account_id AND vb{suffix}.target_account_id = {v})
               OR (vb{suffix}.account_id = {v} AND vb{suffix}.target_account_id = {post}.account_id)
        ))
    )"""


def visible_to(post: str, viewer: str) -> str:
    """SQL condition: the posts row aliased `post` may be seen by the account whose id is the
    query parameter `viewer` (e.g. "$2"; NULL for a signed-out reader).

    Public and unlisted posts are visible to all; followers-only ones to the author, followers
    and mentioned accounts; direct ones to the author and mentioned accounts. Nothing is visible
    across a block (either way), nor deleted posts, nor posts of suspended accounts. A boost is
    visible only when the boosted post is too.
    """
    return f"""({_own_rules(post, viewer, "")}
        AND ({post}.reblog_of_id IS NULL OR EXISTS (
            SELECT 1 FROM posts vo WHERE vo.id = {post}.reblog_of_id
              AND {_own_rules("vo", viewer, "o")})))"""


async def visible_post(post_id: int | None, viewer_id: int | None) -> Record:
    """The posts row, when the viewer may see it; otherwise NotFound (as if it did not exist)."""
    if post_id is None:
        raise NotFound()
    row = await db.fetchrow(
        f"SELECT p.* FROM posts p WHERE p.id = $1 AND {visible_to('p', '$2')}", post_id, viewer_id
    )
    if row is None:
        raise NotFound()
    return row


async def filter_visible(post_ids: list[int], viewer_id: int | None) -> list[int]:
    """The ids among `post_ids` the viewer may see, in the order given."""
    if not post_ids:
        return []
    rows = await db.fetch(
        f"""SELECT p.id FROM unnest($1::bigint[]) WITH ORDINALITY AS t(id, ord)
            JOIN posts p ON p.id = t.id
            WHERE {visible_to("p", "$2")} ORDER BY t.ord""",
        post_ids,
        viewer_id,
    )
    return [row["id"] for row in rows]
