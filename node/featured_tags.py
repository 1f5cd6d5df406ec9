"""Featured hashtags: the few hashtags an account shows on its profile, with how many of its
posts carry each and when it last used it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asyncpg import Record

from node import db
from node.accounts import get_account
from node.errors import Invalid, NotFound
from node.ids import new_id
from node.search import tag_name

MAX_FEATURED = 10
SUGGESTED = 10
SUGGESTION_POSTS = 1000  # suggestions come from the account's newest posts


@dataclass(frozen=True)
class FeaturedTag:
    id: int
    account: Record
    tag: Record
    statuses_count: int
    last_status_at: datetime | None


async def featured_tags(account_id: int | None) -> list[FeaturedTag]:
    """The hashtags a (visible) account features, most used first."""
    account = await get_account(account_id)
    rows = await db.fetch(
        """SELECT ft.id AS featured_id, t.*, s.statuses_count, s.last_status_at
           FROM featured_tags ft JOIN tags t ON t.id = ft.tag_id
           LEFT JOIN LATERAL (
               SELECT count(*) AS statuses_count, max(p.created_at) AS last_status_at
               FROM post_tags pt JOIN posts p ON p.id = pt.post_id
               WHERE pt.tag_id = t.id AND p.account_id = ft.account_id
                 AND p.deleted_at IS NULL AND p.visibility IN ('public', 'unlisted')
           ) s ON true
           WHERE ft.account_id = $1
           ORDER BY s.statuses_count DESC, t.name""",
        account["id"],
    )
    return [
        FeaturedTag(
            id=row["featured_id"],
            account=account,
            tag=row,
            statuses_count=row["statuses_count"],
            last_status_at=row["last_status_at"],
        )
        for row in rows
    ]


async def feature_tag(account_id: int, raw_name: str) -> FeaturedTag:
    """Feature a hashtag on one's profile (at most MAX_FEATURED; each once)."""
    name = tag_name(raw_name or "")
    if name is None:
        raise Invalid("name", "is not a valid hashtag")
    display = raw_name.strip().lstrip("#")
    async with db.transaction():
        # One account's featuring is serialised, so two requests cannot pass the cap together.
        await db.execute("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", account_id)
        count = await db.fetchval(
            "SELECT count(*) FROM featured_tags WHERE account_id = $1", account_id
        )
        if count >= MAX_FEATURED:
            raise Invalid("name", f"you can feature at most {MAX_FEATURED} hashtags")
        tag = await db.fetchrow(
            """INSERT INTO tags (id, name, display_name) VALUES ($1, $2, $3)
               ON CONFLICT ((lower(name))) DO UPDATE SET name = tags.name
               RETURNING *""",
            new_id(),
            name,
            display if tag_name(display) == name else name,
        )
        featured_id = await db.fetchval(
            """INSERT INTO featured_tags (id, account_id, tag_id) VALUES ($1, $2, $3)
               ON CONFLICT (account_id, tag_id) DO NOTHING RETURNING id""",
            new_id(),
            account_id,
            tag["id"],
        )
        if featured_id is None:
            raise Invalid("name", "is already featured")
    return next(f for f in await featured_tags(account_id) if f.id == featured_id)


async def unfeature_tag(account_id: int, featured_id: int | None) -> None:
    deleted = await db.fetchval(
        "DELETE FROM featured_tags WHERE id = $1 AND account_id = $2 RETURNING id",
        featured_id,
        account_id,
    )
    if deleted is None:
        raise NotFound()


async def suggested_tags(account_id: int) -> list[Record]:
    """Hashtags the account uses most in its newest posts and does not feature yet."""
    return await db.fetch(
        f"""WITH recent AS (
                SELECT id FROM posts
                WHERE account_id = $1 AND deleted_at IS NULL AND reblog_of_id IS NULL
                ORDER BY id DESC LIMIT {SUGGESTION_POSTS}
            )
            SELECT t.* FROM recent r
            JOIN post_tags pt ON pt.post_id = r.id JOIN tags t ON t.id = pt.tag_id
            WHERE NOT EXISTS (SELECT 1 FROM featured_tags ft
                              WHERE ft.account_id = $1 AND ft.tag_id = t.id)
            GROUP BY t.id
            ORDER BY count(*) DESC, max(r.id) DESC LIMIT {SUGGESTED}""",
        account_id,
    )
