"""Followed hashtags: public posts with a followed tag appear in the follower's home feed
(pushed by the fan-out, pulled when a feed is rebuilt or read past what Redis holds)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from asyncpg import Record

from node import db
from node.captions import MAX_TAG_LENGTH, normalize_tag
from node.errors import Invalid, NotFound
from node.ids import new_id
from timeline.page import Page

_TAG_RE = re.compile(r"^\w+$")


def _name(raw: str) -> str:
    name = normalize_tag((raw or "").strip().lstrip("#"))
    if not name or len(name) > MAX_TAG_LENGTH or not _TAG_RE.match(name) or name.isdigit():
        raise Invalid("name", "is not a valid hashtag")
    return name


@dataclass(frozen=True)
class FollowedTag:
    tag: Record  # a tags row
    following: bool


async def follow_tag(account_id: int, raw_name: str) -> FollowedTag:
    """Follow a hashtag (made if nobody used it yet); following it again changes nothing."""
    name = _name(raw_name)
    display = (raw_name or "").strip().lstrip("#")
    tag = await db.fetchrow(
        """INSERT INTO tags (id, name, display_name) VALUES ($1, $2, $3)
           ON CONFLICT ((lower(name))) DO UPDATE SET name = tags.name
           RETURNING *""",
        new_id(),
        name,
        display if normalize_tag(display) == name else name,
    )
    await db.execute(
        """INSERT INTO followed_tags (id, account_id, tag_id) VALUES ($1, $2, $3)
           ON CONFLICT (account_id, tag_id) DO NOTHING""",
        new_id(),
        account_id,
        tag["id"],
    )
    return FollowedTag(tag=tag, following=True)


async def unfollow_tag(account_id: int, raw_name: str) -> FollowedTag:
    name = _name(raw_name)
    tag = await db.fetchrow("SELECT * FROM tags WHERE lower(name) = $1", name)
    if tag is None:
        raise NotFound()
    await db.execute(
        "DELETE FROM followed_tags WHERE account_id = $1 AND tag_id = $2", account_id, tag["id"]
    )
    return FollowedTag(tag=tag, following=False)


@dataclass(frozen=True)
class FollowedPage:
    tags: list[Record]
    cursor_ids: list[int]


async def followed_tags(account_id: int, page: Page) -> FollowedPage:
    """The hashtags an account follows, most recently followed first."""
    conditions = ["ft.account_id = $1"]
    args: list[object] = [account_id]
    for value, op in ((page.max_id, "<"), (page.since_id, ">"), (page.min_id, ">")):
        if value is not None:
            args.append(value)
            conditions.append(f"ft.id {op} ${len(args)}")
    args.append(page.limit)
    order = "ASC" if page.ascending else "DESC"
    rows = await db.fetch(
        f"""SELECT ft.id AS cursor_id, t.* FROM followed_tags ft JOIN tags t ON t.id = ft.tag_id
            WHERE {" AND ".join(conditions)} ORDER BY ft.id {order} LIMIT ${len(args)}""",
        *args,
    )
    if page.ascending:
        rows = rows[::-1]
    return FollowedPage(tags=rows, cursor_ids=[row["cursor_id"] for row in rows])
