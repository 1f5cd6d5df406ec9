"""The social graph: follows, follow requests, blocks, mutes and relationships."""

from __future__ import annotations

from dataclasses import dataclass

from asyncpg import Record

from node import db
from node.accounts import get_account
from node.errors import Forbidden, NotFound
from node.events import emit
from node.ids import new_id


@dataclass(frozen=True)
class Relationship:
    id: int
    following: bool = False
    showing_reblogs: bool = False
    notifying: bool = False
    followed_by: bool = False
    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False
    muting_notifications: bool = False
    requested: bool = False
    requested_by: bool = False


async def relationships(viewer_id: int, target_ids: list[int]) -> list[Relationship]:
    """The viewer's relationship to each target, in one query."""
    if not target_ids:
        return []
    rows = await db.fetch(
        """SELECT t.id,
             f.id IS NOT NULL AS following, coalesce(f.show_reblogs, false) AS showing_reblogs,
             coalesce(f.notify, false) AS notifying,
             EXISTS (SELECT 1 FROM follows WHERE account_id = t.id AND target_account_id = $1)
               AS followed_by,
             EXISTS (SELECT 1 FROM blocks WHERE account_id = $1 AND target_account_id = t.id)
               AS blocking,
             EXISTS (SELECT 1 FROM blocks WHERE account_id = t.id AND target_account_id = $1)
               AS blocked_by,
             m.id IS NOT NULL AS muting, coalesce(m.hide_notifications, false) AS muting_notifications,
             EXISTS (SELECT 1 FROM follow_requests WHERE account_id = $1 AND target_account_id = t.id)
               AS requested,
             EXISTS (SELECT 1 FROM follow_requests WHERE account_id = t.id AND target_account_id = $1)
               AS requested_by
           FROM unnest($2::bigint[]) WITH ORDINALITY AS t(id, ord)
           LEFT JOIN follows f ON f.account_id = $1 AND f.target_account_id = t.id
           LEFT JOIN mutes m ON m.account_id = $1 AND m.target_account_id = t.id
             AND (m.expires_at IS NULL OR m.expires_at > now())
           ORDER BY t.ord""",
        viewer_id,
        target_ids,
    )
    return [Relationship(**dict(row)) for row in rows]


async def relationship(viewer_id: int, target_id: int) -> Relationship:
    return (await relationships(viewer_id, [target_id]))[0]


async def is_blocked_either_way(a: int, b: int) -> bool:
    return bool(
        await db.fetchval(
            """SELECT EXISTS (SELECT 1 FROM blocks WHERE (account_id = $1 AND target_account_id = $2)
                                                  OR (account_id = $2 AND target_account_id = $1))""",
            a,
            b,
        )
    )


async def _add_follow(
    follower_id: int, target_id: int, reblogs: bool, notify: bool, uri: str = ""
) -> None:
    """Insert a follow and keep both counters exact; a repeat only updates the options."""
    async with db.transaction():
        inserted = await db.fetchval(
            """INSERT INTO follows (id, account_id, target_account_id, show_reblogs, notify, uri)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (account_id, target_account_id)
               DO UPDATE SET show_reblogs = EXCLUDED.show_reblogs, notify = EXCLUDED.notify
               RETURNING (xmax = 0)""",
            new_id(),
            follower_id,
            target_id,
            reblogs,
            notify,
            uri,
        )
        if inserted:
            await db.execute(
                "UPDATE accounts SET following_count = following_count + 1 WHERE id = $1",
                follower_id,
            )
            await db.execute(
                "UPDATE accounts SET followers_count = followers_count + 1 WHERE id = $1", target_id
            )


async def _remove_follow(follower_id: int, target_id: int) -> bool:
    async with db.transaction():
        removed = await db.fetchval(
            "DELETE FROM follows WHERE account_id = $1 AND target_account_id = $2 RETURNING id",
            follower_id,
            target_id,
        )
        if removed:
            await db.execute(
                "UPDATE accounts SET following_count = greatest(following_count - 1, 0) WHERE id = $1",
                follower_id,
            )
            await db.execute(
                "UPDATE accounts SET followers_count = greatest(followers_count - 1, 0) WHERE id = $1",
                target_id,
            )
        return removed is not None


async def follow(
    follower_id: int, target_id: int, *, reblogs: bool = True, notify: bool = False
) -> Relationship:
    """Follow an account; a locked or remote one gets a request that waits for its answer."""
    if follower_id == target_id:
        raise Forbidden("You cannot follow yourself")
    target = await get_account(target_id)
    if await is_blocked_either_way(follower_id, target_id):
        raise Forbidden("This action is not allowed")
    already = await db.fetchval(
        "SELECT 1 FROM follows WHERE account_id = $1 AND target_account_id = $2",
        follower_id,
        target_id,
    )
    if already or (not target["locked"] and target["domain"] == ""):
        await _add_follow(follower_id, target_id, reblogs, notify)
        if not already:
            await emit("follow.created", follower_id, target_id)
    else:
        await db.execute(
            """INSERT INTO follow_requests (id, account_id, target_account_id, show_reblogs, notify)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (account_id, target_account_id)
               DO UPDATE SET show_reblogs = EXCLUDED.show_reblogs, notify = EXCLUDED.notify""",
            new_id(),
            follower_id,
            target_id,
            reblogs,
            notify,
        )
        await emit("follow.requested", follower_id, target_id)
    return await relationship(follower_id, target_id)


async def unfollow(follower_id: int, target_id: int) -> Relationship:
    await get_account(target_id)
    removed = await _remove_follow(follower_id, target_id)
    withdrawn = await db.fetchval(
        "DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2 RETURNING id",
        follower_id,
        target_id,
    )
    if removed or withdrawn:
        await emit("follow.removed", follower_id, target_id)
    return await relationship(follower_id, target_id)


async def authorize_follow_request(owner_id: int, requester_id: int) -> Relationship:
    async with db.transaction():
        request = await db.fetchrow(
            """DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2
               RETURNING *""",
            requester_id,
            owner_id,
        )
        if request is None:
            raise NotFound("Follow request not found")
        await _add_follow(
            requester_id, owner_id, request["show_reblogs"], request["notify"], request["uri"]
        )
    await emit("follow_request.authorized", requester_id, owner_id)
    return await relationship(owner_id, requester_id)


async def reject_follow_request(owner_id: int, requester_id: int) -> Relationship:
    removed = await db.fetchval(
        "DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2 RETURNING id",
        requester_id,
        owner_id,
    )
    if removed is None:
        raise NotFound("Follow request not found")
    await emit("follow_request.rejected", requester_id, owner_id)
    return await relationship(owner_id, requester_id)


async def block(blocker_id: int, target_id: int) -> Relationship:
    """Block: follows and requests in both directions end, and each is hidden from the other."""
    if blocker_id == target_id:
        raise Forbidden("You cannot block yourself")
    await get_account(target_id)
    async with db.transaction():
        await db.execute(
            """INSERT INTO blocks (id, account_id, target_account_id) VALUES ($1, $2, $3)
               ON CONFLICT (account_id, target_account_id) DO NOTHING""",
            new_id(),
            blocker_id,
            target_id,
        )
        await _remove_follow(blocker_id, target_id)
        await _remove_follow(target_id, blocker_id)
        await db.execute(
            """DELETE FROM follow_requests WHERE (account_id = $1 AND target_account_id = $2)
                                              OR (account_id = $2 AND target_account_id = $1)""",
            blocker_id,
            target_id,
        )
    await emit("block.created", blocker_id, target_id)
    return await relationship(blocker_id, target_id)


async def unblock(blocker_id: int, target_id: int) -> Relationship:
    await get_account(target_id)
    removed = await db.fetchval(
        "DELETE FROM blocks WHERE account_id = $1 AND target_account_id = $2 RETURNING id",
        blocker_id,
        target_id,
    )
    if removed:
        await emit("block.removed", blocker_id, target_id)
    return await relationship(blocker_id, target_id)


async def mute(
    muter_id: int, target_id: int, *, notifications: bool = True, duration_seconds: int = 0
) -> Relationship:
    if muter_id == target_id:
        raise Forbidden("You cannot mute yourself")
    await get_account(target_id)
    await db.execute(
        """INSERT INTO mutes (id, account_id, target_account_id, hide_notifications, expires_at)
           VALUES ($1, $2, $3, $4, CASE WHEN $5 > 0 THEN now() + make_interval(secs => $5) END)
           ON CONFLICT (account_id, target_account_id)
           DO UPDATE SET hide_notifications = EXCLUDED.hide_notifications,
                         expires_at = EXCLUDED.expires_at""",
        new_id(),
        muter_id,
        target_id,
        notifications,
        duration_seconds,
    )
    return await relationship(muter_id, target_id)


async def unmute(muter_id: int, target_id: int) -> Relationship:
    await get_account(target_id)
    await db.execute(
        "DELETE FROM mutes WHERE account_id = $1 AND target_account_id = $2", muter_id, target_id
    )
    return await relationship(muter_id, target_id)


@dataclass(frozen=True)
class Page:
    """Accounts in a paginated list, with the cursor ids of the list's own rows."""

    accounts: list[Record]
    cursor_ids: list[int]


_LISTS = {
    # name: (table, column matching the owner, column of the listed account)
    "followers": ("follows", "target_account_id", "account_id"),
    "following": ("follows", "account_id", "target_account_id"),
    "follow_requests": ("follow_requests", "target_account_id", "account_id"),
    "blocks": ("blocks", "account_id", "target_account_id"),
    "mutes": ("mutes", "account_id", "target_account_id"),
}


async def account_list(
    kind: str,
    owner_id: int,
    *,
    max_id: int | None,
    since_id: int | None,
    min_id: int | None,
    limit: int,
) -> Page:
    """One page of a list of accounts (newest relation first, or oldest first with min_id)."""
    table, owner_column, listed_column = _LISTS[kind]
    conditions = [f"r.{owner_column} = $1", "a.suspended_at IS NULL"]
    args: list[object] = [owner_id]
    for value, op in ((max_id, "<"), (since_id, ">"), (min_id, ">")):
        if value is not None:
            args.append(value)
            conditions.append(f"r.id {op} ${len(args)}")
    order = "ASC" if min_id is not None else "DESC"
    args.append(limit)
    rows = await db.fetch(
        f"""SELECT r.id AS cursor_id, a.* FROM {table} r
            JOIN accounts a ON a.id = r.{listed_column}
            WHERE {" AND ".join(conditions)}
            ORDER BY r.id {order} LIMIT ${len(args)}""",
        *args,
    )
    if order == "ASC":
        rows = list(reversed(rows))
    return Page(accounts=rows, cursor_ids=[row["cursor_id"] for row in rows])
