"""Posts ready to show: a page of post ids becomes posts with authors, media, tags, mentions and
the viewer's own state, in a fixed number of queries however long the page is."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from asyncpg import Record

from node import db
from node.errors import NotFound
from node.visibility import visible_to


@dataclass(frozen=True)
class ViewerState:
    """What the signed-in viewer has done with a post (for a boost: with the boosted post)."""

    favourited: bool = False
    reblogged: bool = False
    bookmarked: bool = False
    pinned: bool = False


@dataclass(frozen=True)
class PostView:
    post: Record  # a posts row, plus application_name and application_website
    account: Record  # its author
    media: list[Record]  # media_attachments rows in album order
    tags: list[Record]  # tags rows
    mentions: list[Record]  # accounts rows of the (non-silent) mentions
    reblog: PostView | None  # the boosted post, when this post is a boost
    viewer: ViewerState | None  # None for a signed-out reader


async def hydrate(post_ids: list[int], viewer_id: int | None) -> list[PostView]:
    """The posts among `post_ids` the viewer may see, in the order given, ready to render.

    Invisible, deleted and unknown ids are dropped, so a feed may pass ids straight from its
    store. Six queries in all: posts (with boosted posts), authors, media, tags, mentions,
    and the viewer's favourited/reblogged/bookmarked/pinned state.
    """
    post_ids = list(dict.fromkeys(post_ids))
    if not post_ids:
        return []
    rows = await db.fetch(
        f"""WITH wanted AS (
                SELECT unnest($1::bigint[]) AS id
                UNION
                SELECT reblog_of_id FROM posts
                WHERE id = ANY($1::bigint[]) AND reblog_of_id IS NOT NULL
            )
            SELECT p.*, app.name AS application_name, app.website AS application_website
            FROM wanted w JOIN posts p ON p.id = w.id
            LEFT JOIN oauth_apps app ON app.id = p.application_id
            WHERE {visible_to("p", "$2")}""",
        post_ids,
        viewer_id,
    )
    posts = {row["id"]: row for row in rows}
    if not posts:
        return []
    ids = list(posts)
    authors = {
        row["id"]: row
        for row in await db.fetch(
            "SELECT * FROM accounts WHERE id = ANY($1::bigint[])",
            list({row["account_id"] for row in rows}),
        )
    }
    media: dict[int, list[Record]] = defaultdict(list)
    for row in await db.fetch(
        """SELECT * FROM media_attachments WHERE post_id = ANY($1::bigint[])
           ORDER BY post_id, position, id""",
        ids,
    ):
        media[row["post_id"]].append(row)
    tags: dict[int, list[Record]] = defaultdict(list)
    for row in await db.fetch(
        """SELECT pt.post_id, t.* FROM post_tags pt JOIN tags t ON t.id = pt.tag_id
           WHERE pt.post_id = ANY($1::bigint[]) ORDER BY t.name""",
        ids,
    ):
        tags[row["post_id"]].append(row)
    mentions: dict[int, list[Record]] = defaultdict(list)
    for row in await db.fetch(
        """SELECT m.post_id, a.* FROM mentions m JOIN accounts a ON a.id = m.account_id
           WHERE m.post_id = ANY($1::bigint[]) AND NOT m.silent ORDER BY a.username""",
        ids,
    ):
        mentions[row["post_id"]].append(row)
    states = await _viewer_states(ids, viewer_id)

    def view(post_id: int) -> PostView | None:
        row = posts.get(post_id)
        if row is None:
            return None
        reblog = None
        if row["reblog_of_id"] is not None:
            reblog = view(row["reblog_of_id"])
            if reblog is None:
                return None
        return PostView(
            post=row,
            account=authors[row["account_id"]],
            media=media[post_id],
            tags=tags[post_id],
            mentions=mentions[post_id],
            reblog=reblog,
            viewer=reblog.viewer if reblog else states.get(post_id),
        )

    return [v for v in (view(post_id) for post_id in post_ids) if v is not None]


async def hydrate_one(post_id: int | None, viewer_id: int | None) -> PostView:
    """One post ready to show, or NotFound when the viewer may not see it."""
    views = await hydrate([post_id], viewer_id) if post_id is not None else []
    if not views:
        raise NotFound()
    return views[0]


async def _viewer_states(post_ids: list[int], viewer_id: int | None) -> dict[int, ViewerState]:
    if viewer_id is None:
        return {}
    rows = await db.fetch(
        """SELECT t.id,
             EXISTS (SELECT 1 FROM favourites WHERE account_id = $2 AND post_id = t.id)
               AS favourited,
             EXISTS (SELECT 1 FROM posts r WHERE r.account_id = $2 AND r.reblog_of_id = t.id
                       AND r.deleted_at IS NULL) AS reblogged,
             EXISTS (SELECT 1 FROM bookmarks WHERE account_id = $2 AND post_id = t.id)
               AS bookmarked,
             EXISTS (SELECT 1 FROM pins WHERE account_id = $2 AND post_id = t.id) AS pinned
           FROM unnest($1::bigint[]) AS t(id)""",
        post_ids,
        viewer_id,
    )
    return {
        row["id"]: ViewerState(
            favourited=row["favourited"],
            reblogged=row["reblogged"],
            bookmarked=row["bookmarked"],
            pinned=row["pinned"],
        )
        for row in rows
    }
