"""The public and hashtag timelines: public top-level posts, newest first, read by id window
straight from PostgreSQL (each is one ordered index scan that stops at the page size)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from node import db
from node.captions import MAX_TAG_LENGTH, normalize_tag
from node.post_views import PostView
from timeline import pull
from timeline.page import Page
from timeline.views import HYDRATE, views_from_rows

MAX_TAGS = 5  # the hashtag itself and up to four more in any[]


@dataclass(frozen=True)
class Scope:
    """Which public posts: only this node's (`local`), only other nodes' (`remote`), and only
    those with media."""

    local: bool = False
    remote: bool = False
    only_media: bool = False

    def conditions(self) -> str:
        parts = []
        if self.local and not self.remote:
            parts.append("p.local")
        if self.remote and not self.local:
            parts.append("NOT p.local")
        if self.only_media:
            parts.append("EXISTS (SELECT 1 FROM media_attachments m WHERE m.post_id = p.id)")
        return "".join(f" AND {part}" for part in parts)


# A public post a reader ($1, NULL when signed out) may find in a public timeline: not from
# suspended accounts, nor silenced ones unless followed, nor across a block or a mute.
_PUBLIC_POST = f"""{pull.feed_post("p")} AND p.visibility = 'public' AND p.reblog_of_id IS NULL
    AND a.suspended_at IS NULL
    AND (a.silenced_at IS NULL OR EXISTS (
        SELECT 1 FROM follows sf WHERE sf.account_id = $1 AND sf.target_account_id = p.account_id))
    AND p.account_id <> ALL(hidden.authors)"""


def _window(page: Page) -> tuple[int, int, bool]:
    return page.low or 0, page.max_id or pull.MAX_ID, page.ascending


@cache
def _public_query(scope: Scope, ascending: bool) -> str:
    order = "ASC" if ascending else "DESC"
    return f"""WITH {pull.HIDDEN}, page AS (
        SELECT p.id, p.reblog_of_id FROM posts p
        JOIN accounts a ON a.id = p.account_id CROSS JOIN hidden
        WHERE p.id > $2 AND p.id < $3 AND {_PUBLIC_POST}{scope.conditions()}
        ORDER BY p.id {order} LIMIT $4
    ){HYDRATE}"""


async def public_page(viewer_id: int | None, page: Page, scope: Scope) -> list[PostView]:
    lo, hi, ascending = _window(page)
    rows = await db.fetch(_public_query(scope, ascending), viewer_id, lo, hi, page.limit)
    return views_from_rows(rows, viewer_id)


def tag_names(raw: list[str]) -> list[str]:
    """Hashtag names as stored (`#Café` → `café`); what cannot be a hashtag is dropped."""
    names = []
    for name in raw:
        name = normalize_tag(name.strip().lstrip("#"))
        if name and len(name) <= MAX_TAG_LENGTH and name not in names:
            names.append(name)
    return names


async def tag_ids(names: list[str]) -> dict[str, int]:
    if not names:
        return {}
    rows = await db.fetch(
        "SELECT id, lower(name) AS name FROM tags WHERE lower(name) = ANY($1::text[])", names
    )
    return {row["name"]: row["id"] for row in rows}


@cache
def _tag_query(branches: int, scope: Scope, ascending: bool) -> str:
    """Posts with any of the tags $5… (one ordered scan per tag, merged), with every tag in $6
    and none in $7."""
    order = "ASC" if ascending else "DESC"
    scans = "\n            UNION ALL ".join(
        f"SELECT post_id FROM post_tags WHERE tag_id = ($5::bigint[])[{i + 1}] "
        "AND post_id > $2 AND post_id < $3"
        for i in range(branches)
    )
    return f"""WITH {pull.HIDDEN}, page AS (
        SELECT p.id, p.reblog_of_id FROM (
            SELECT DISTINCT t.post_id FROM ({scans}) t ORDER BY t.post_id {order}
        ) c
        JOIN posts p ON p.id = c.post_id JOIN accounts a ON a.id = p.account_id CROSS JOIN hidden
        WHERE {_PUBLIC_POST}{scope.conditions()}
          AND (SELECT count(*) FROM post_tags ta
               WHERE ta.post_id = p.id AND ta.tag_id = ANY($6::bigint[])) = cardinality($6)
          AND NOT EXISTS (SELECT 1 FROM post_tags tn
                          WHERE tn.post_id = p.id AND tn.tag_id = ANY($7::bigint[]))
        ORDER BY p.id {order} LIMIT $4
    ){HYDRATE}"""


async def tag_page(
    viewer_id: int | None,
    page: Page,
    scope: Scope,
    *,
    tag: str,
    any_of: Sequence[str] = (),
    all_of: Sequence[str] = (),
    none_of: Sequence[str] = (),
) -> list[PostView]:
    """The hashtag timeline: public posts with `tag` or any of `any_of`, having every tag in
    `all_of` and none in `none_of`."""
    wanted = tag_names([tag, *any_of])[:MAX_TAGS]
    required = tag_names(list(all_of))
    excluded = tag_names(list(none_of))
    known = await tag_ids(wanted + required + excluded)
    scanned = [known[n] for n in wanted if n in known]
    if not scanned or any(n not in known for n in required):
        return []
    lo, hi, ascending = _window(page)
    rows = await db.fetch(
        _tag_query(len(scanned), scope, ascending),
        viewer_id,
        lo,
        hi,
        page.limit,
        scanned,
        [known[n] for n in required],
        [known[n] for n in excluded if n in known],
    )
    return views_from_rows(rows, viewer_id)
