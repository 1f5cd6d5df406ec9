"""Timeline pages ready to render in the same query that picks them: posts, boosted posts,
authors, media, tags, mentions and the viewer's state come back with the page's ids, so a
timeline page costs one PostgreSQL round trip instead of one per kind of data.

The result is node.post_views.PostView, rendered by node.api.entities.status like any post;
node.post_views.hydrate (six queries) stays the general path for other reads.
"""

from __future__ import annotations

from asyncpg import Record

from node import db
from node.post_views import PostView, ViewerState

# Appended to a WITH list whose last query is `page (id, reblog_of_id)`: the page's posts and
# the posts they boost, each with everything a Status shows. $1 is the viewer (NULL: signed
# out). Visibility was decided when the page was chosen (boosted posts included).
HYDRATE = """,
    wanted AS (
        SELECT id, id AS page_id FROM page
        UNION ALL SELECT reblog_of_id, id FROM page WHERE reblog_of_id IS NOT NULL
    )
    SELECT w.page_id, p.*, a AS author, p.xmin AS row_version, a.xmin AS author_row_version,
        app.name AS application_name, app.website AS application_website,
        ARRAY(SELECT m FROM media_attachments m WHERE m.post_id = p.id
              ORDER BY m.position, m.id) AS media,
        ARRAY(SELECT t FROM post_tags pt JOIN tags t ON t.id = pt.tag_id
              WHERE pt.post_id = p.id ORDER BY t.name) AS tags,
        ARRAY(SELECT ma FROM mentions mn JOIN accounts ma ON ma.id = mn.account_id
              WHERE mn.post_id = p.id AND NOT mn.silent ORDER BY ma.username) AS mentions,
        EXISTS (SELECT 1 FROM favourites WHERE account_id = $1 AND post_id = p.id) AS v_favourited,
        EXISTS (SELECT 1 FROM posts vr WHERE vr.account_id = $1 AND vr.reblog_of_id = p.id
                  AND vr.deleted_at IS NULL) AS v_reblogged,
        EXISTS (SELECT 1 FROM bookmarks WHERE account_id = $1 AND post_id = p.id) AS v_bookmarked,
        EXISTS (SELECT 1 FROM pins WHERE account_id = $1 AND post_id = p.id) AS v_pinned
    FROM wanted w JOIN posts p ON p.id = w.id
    JOIN accounts a ON a.id = p.account_id
    LEFT JOIN oauth_apps app ON app.id = p.application_id"""

# A page's entries, for pages rendered from cached Statuses (node.api.rendered_statuses): the
# `page` query selects ENTRY_COLUMNS from posts `p` (author `a`, boosted post `r`, its author
# `ra`). A row version (xmin) changes with every write to the row, and a post's row is written
# whenever its media, hashtags or mentions change (migration 0100), so the versions say whether
# a cached rendering is still the post as it is. The viewer's ($1) state is of the post shown
# (for a boost: the boosted post), as in a Status; only one's own posts can be pinned.
ENTRY_COLUMNS = """p.id, p.reblog_of_id, p.xmin AS version, a.xmin AS author_version,
            r.xmin AS reblog_version, ra.xmin AS reblog_author_version,
            coalesce(r.account_id, p.account_id) AS shown_author_id"""

ENTRIES = """
    SELECT page.*,
        EXISTS (SELECT 1 FROM favourites WHERE account_id = $1
                  AND post_id = coalesce(page.reblog_of_id, page.id)) AS favourited,
        EXISTS (SELECT 1 FROM posts vr WHERE vr.account_id = $1
                  AND vr.reblog_of_id = coalesce(page.reblog_of_id, page.id)
                  AND vr.deleted_at IS NULL) AS reblogged,
        EXISTS (SELECT 1 FROM bookmarks WHERE account_id = $1
                  AND post_id = coalesce(page.reblog_of_id, page.id)) AS bookmarked,
        page.shown_author_id = $1 AND EXISTS (SELECT 1 FROM pins WHERE account_id = $1
                  AND post_id = coalesce(page.reblog_of_id, page.id)) AS pinned
    FROM page"""

# One page given as ids ($2, in order); the caller has already filtered them for viewer $1.
_BY_IDS = f"""WITH page AS (
        SELECT p.id, p.reblog_of_id FROM unnest($2::bigint[]) AS t(id)
        JOIN posts p ON p.id = t.id WHERE p.deleted_at IS NULL
    ){HYDRATE}"""


def views_from_rows(rows: list[Record], viewer_id: int | None) -> list[PostView]:
    """PostViews from HYDRATE rows, newest first."""
    boosted: dict[int, Record] = {}
    shown: list[Record] = []
    for row in rows:
        if row["id"] == row["page_id"]:
            shown.append(row)
        else:
            boosted[row["page_id"]] = row
    shown.sort(key=lambda row: row["id"], reverse=True)
    views = []
    for row in shown:
        reblog = None
        if row["reblog_of_id"] is not None:
            original = boosted.get(row["id"])
            if original is None:
                continue
            reblog = _view(original, None, viewer_id)
        views.append(_view(row, reblog, viewer_id))
    return views


def _view(row: Record, reblog: PostView | None, viewer_id: int | None) -> PostView:
    state = None
    if reblog is not None:
        state = reblog.viewer
    elif viewer_id is not None:
        state = ViewerState(
            favourited=row["v_favourited"],
            reblogged=row["v_reblogged"],
            bookmarked=row["v_bookmarked"],
            pinned=row["v_pinned"],
        )
    return PostView(
        post=row,
        account=row["author"],
        media=row["media"],
        tags=row["tags"],
        mentions=row["mentions"],
        reblog=reblog,
        viewer=state,
    )


async def post_views(post_ids: list[int], viewer_id: int | None) -> list[PostView]:
    """Posts a timeline query already chose (and filtered) for this viewer, newest first."""
    if not post_ids:
        return []
    return views_from_rows(await db.fetch(_BY_IDS, viewer_id, post_ids), viewer_id)
