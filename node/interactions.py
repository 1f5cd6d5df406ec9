"""What people do with posts they can see: favourite, bookmark, pin, and the lists these make."""

from __future__ import annotations

from dataclasses import dataclass

from asyncpg import Record

from node import db
from node.cursors import Window
from node.errors import Invalid
from node.events import emit
from node.ids import new_id
from node.visibility import visible_post, visible_to

MAX_PINS = 5


async def _target(account_id: int | None, post_id: int | None) -> Record:
    """The post acted on: a boost stands for the boosted post."""
    post = await visible_post(post_id, account_id)
    if post["reblog_of_id"] is not None:
        post = await visible_post(post["reblog_of_id"], account_id)
    return post


async def favourite(account_id: int, post_id: int | None, uri: str = "") -> int:
    """Favourite a post (again: no change); the id of the post favourited. `uri` is the id of
    a remote account's Like, kept so that its Undo can name it (and given to a favourite made
    without one).

    The row and the counter change in one statement, and the counter is an increment in SQL,
    so concurrent favourites are all counted."""
    post = await _target(account_id, post_id)
    favourite_id = await db.fetchval(
        """WITH added AS (
               INSERT INTO favourites (id, account_id, post_id, uri) VALUES ($1, $2, $3, $4)
               ON CONFLICT (account_id, post_id) DO NOTHING RETURNING id),
           named AS (
               UPDATE favourites SET uri = $4
               WHERE account_id = $2 AND post_id = $3 AND uri = '' AND $4 <> ''
                 AND NOT EXISTS (SELECT 1 FROM added)),
           counted AS (
               UPDATE posts SET favourites_count = favourites_count + 1
               WHERE id = $3 AND EXISTS (SELECT 1 FROM added))
           SELECT id FROM added""",
        new_id(),
        account_id,
        post["id"],
        uri,
    )
    if favourite_id is not None:
        await emit("favourite.created", favourite_id)
    return post["id"]


async def unfavourite(account_id: int, post_id: int | None) -> int:
    """Withdraw a favourite (none: no change); the id of the post."""
    post = await _target(account_id, post_id)
    async with db.transaction():
        removed = await db.fetchrow(
            "DELETE FROM favourites WHERE account_id = $1 AND post_id = $2 RETURNING uri",
            account_id,
            post["id"],
        )
        if removed is not None:
            await db.execute(
                """UPDATE posts SET favourites_count = greatest(favourites_count - 1, 0)
                   WHERE id = $1""",
                post["id"],
            )
    if removed is not None:
        await emit("favourite.removed", account_id, post["id"], removed["uri"])
    return post["id"]


async def bookmark(account_id: int, post_id: int | None) -> int:
    post = await _target(account_id, post_id)
    await db.execute(
        """INSERT INTO bookmarks (id, account_id, post_id) VALUES ($1, $2, $3)
           ON CONFLICT (account_id, post_id) DO NOTHING""",
        new_id(),
        account_id,
        post["id"],
    )
    return post["id"]


async def unbookmark(account_id: int, post_id: int | None) -> int:
    post = await _target(account_id, post_id)
    await db.execute(
        "DELETE FROM bookmarks WHERE account_id = $1 AND post_id = $2", account_id, post["id"]
    )
    return post["id"]


async def pin(account_id: int, post_id: int | None) -> int:
    """Pin one's own public or unlisted post to one's profile (at most MAX_PINS)."""
    post = await visible_post(post_id, account_id)
    if post["account_id"] != account_id or post["reblog_of_id"] is not None:
        raise Invalid("status", "can only be pinned by its author")
    if post["visibility"] not in ("public", "unlisted"):
        raise Invalid("status", "must be public or unlisted to be pinned")
    async with db.transaction():
        # Lock the account so two pins at once cannot both pass the limit.
        await db.execute("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", account_id)
        pinned = await db.fetch("SELECT post_id FROM pins WHERE account_id = $1", account_id)
        if post["id"] not in {r["post_id"] for r in pinned}:
            if len(pinned) >= MAX_PINS:
                raise Invalid("status", f"cannot be pinned: at most {MAX_PINS} pinned posts")
            await db.execute(
                "INSERT INTO pins (id, account_id, post_id) VALUES ($1, $2, $3)",
                new_id(),
                account_id,
                post["id"],
            )
    return post["id"]


async def unpin(account_id: int, post_id: int | None) -> int:
    post = await visible_post(post_id, account_id)
    await db.execute(
        "DELETE FROM pins WHERE account_id = $1 AND post_id = $2", account_id, post["id"]
    )
    return post["id"]


@dataclass(frozen=True)
class PostPage:
    """Post ids of one page of a list, with the ids of the list's own rows (the cursors)."""

    post_ids: list[int]
    cursor_ids: list[int]


async def _own_list(table: str, account_id: int, window: Window) -> PostPage:
    args: list[object] = [account_id]
    where, order = window.sql("r.id", args)
    rows = await db.fetch(
        f"""SELECT r.id, r.post_id FROM {table} r JOIN posts p ON p.id = r.post_id
            WHERE r.account_id = $1 AND {visible_to("p", "$1")} AND {where} {order}""",
        *args,
    )
    rows = window.newest_first(rows)
    return PostPage([r["post_id"] for r in rows], [r["id"] for r in rows])


async def favourites(account_id: int, window: Window) -> PostPage:
    """The posts one has favourited, most recently favourited first."""
    return await _own_list("favourites", account_id, window)


async def bookmarks(account_id: int, window: Window) -> PostPage:
    return await _own_list("bookmarks", account_id, window)


@dataclass(frozen=True)
class AccountPage:
    accounts: list[Record]
    cursor_ids: list[int]


_WHO = {
    # list: SQL of (cursor id, account id) rows for the post in $1
    "favourited_by": "SELECT id, account_id FROM favourites WHERE post_id = $1",
    "reblogged_by": """SELECT id, account_id FROM posts
                       WHERE reblog_of_id = $1 AND deleted_at IS NULL""",
}


async def who(kind: str, post_id: int | None, viewer_id: int | None, window: Window) -> AccountPage:
    """Accounts that favourited (`favourited_by`) or boosted (`reblogged_by`) a post the viewer
    may see, newest first; accounts the viewer is blocked with are left out."""
    post = await _target(viewer_id, post_id)
    args: list[object] = [post["id"], viewer_id]
    where, order = window.sql("r.id", args)
    rows = await db.fetch(
        f"""SELECT r.id AS cursor_id, a.* FROM ({_WHO[kind]}) r
            JOIN accounts a ON a.id = r.account_id
            WHERE a.suspended_at IS NULL AND NOT EXISTS (
                SELECT 1 FROM blocks b
                WHERE (b.account_id = a.id AND b.target_account_id = $2::bigint)
                   OR (b.account_id = $2::bigint AND b.target_account_id = a.id))
              AND {where} {order}""",
        *args,
    )
    rows = window.newest_first(rows)
    return AccountPage(rows, [r["cursor_id"] for r in rows])
