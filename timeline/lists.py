"""Lists: named groups of followed accounts with their own timeline (pulled at read time: a
LATERAL top-N per member). An exclusive list's members leave the owner's home feed."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from asyncpg import Record, UniqueViolationError

from node import db
from node.errors import Invalid, NotFound
from node.ids import new_id
from node.post_views import PostView
from timeline import pull
from timeline.page import Page
from timeline.views import HYDRATE, views_from_rows

MAX_LISTS = 50
MAX_MEMBERS = 1000
MAX_TITLE = 255
REPLIES_POLICIES = ("followed", "list", "none")


def _title(raw: str | None) -> str:
    title = (raw or "").strip()
    if not title:
        raise Invalid("title", "can't be blank")
    if len(title) > MAX_TITLE:
        raise Invalid("title", f"is too long (maximum is {MAX_TITLE} characters)")
    return title


def _policy(raw: str | None) -> str:
    if raw not in REPLIES_POLICIES:
        raise Invalid("replies_policy", f"must be one of {', '.join(REPLIES_POLICIES)}")
    return raw


async def owned_lists(owner_id: int) -> list[Record]:
    return await db.fetch("SELECT * FROM lists WHERE account_id = $1 ORDER BY id", owner_id)


async def get_list(owner_id: int, list_id: int | None) -> Record:
    """One of the owner's lists; someone else's is not found, as if it did not exist."""
    row = None
    if list_id is not None:
        row = await db.fetchrow(
            "SELECT * FROM lists WHERE id = $1 AND account_id = $2", list_id, owner_id
        )
    if row is None:
        raise NotFound()
    return row


async def create_list(
    owner_id: int, title: str | None, *, replies_policy: str | None = None, exclusive: bool = False
) -> Record:
    title = _title(title)
    policy = _policy(replies_policy or "list")
    count = await db.fetchval("SELECT count(*) FROM lists WHERE account_id = $1", owner_id)
    if count >= MAX_LISTS:
        raise Invalid("title", f"you have reached the limit of {MAX_LISTS} lists")
    return await db.fetchrow(
        """INSERT INTO lists (id, account_id, title, replies_policy, exclusive)
           VALUES ($1, $2, $3, $4, $5) RETURNING *""",
        new_id(),
        owner_id,
        title,
        policy,
        exclusive,
    )


async def update_list(
    owner_id: int,
    list_id: int | None,
    *,
    title: str | None = None,
    replies_policy: str | None = None,
    exclusive: bool | None = None,
) -> Record:
    current = await get_list(owner_id, list_id)
    return await db.fetchrow(
        """UPDATE lists SET title = $2, replies_policy = $3, exclusive = $4
           WHERE id = $1 RETURNING *""",
        current["id"],
        _title(title) if title is not None else current["title"],
        _policy(replies_policy) if replies_policy is not None else current["replies_policy"],
        exclusive if exclusive is not None else current["exclusive"],
    )


async def delete_list(owner_id: int, list_id: int | None) -> None:
    current = await get_list(owner_id, list_id)
    await db.execute("DELETE FROM lists WHERE id = $1", current["id"])


async def lists_with_member(owner_id: int, account_id: int) -> list[Record]:
    return await db.fetch(
        """SELECT l.* FROM lists l JOIN list_accounts la ON la.list_id = l.id
           WHERE l.account_id = $1 AND la.account_id = $2 ORDER BY l.id""",
        owner_id,
        account_id,
    )


async def add_members(owner_id: int, list_id: int | None, account_ids: list[int]) -> None:
    """Add accounts the owner follows; any other account is a 422 and nothing is added."""
    current = await get_list(owner_id, list_id)
    if not account_ids:
        return
    followed = {
        row["target_account_id"]
        for row in await db.fetch(
            """SELECT f.target_account_id FROM follows f
               JOIN accounts a ON a.id = f.target_account_id AND a.suspended_at IS NULL
               WHERE f.account_id = $1 AND f.target_account_id = ANY($2::bigint[])""",
            owner_id,
            account_ids,
        )
    }
    missing = [a for a in account_ids if a not in followed]
    if missing:
        raise NotFound("Only accounts you follow can be added to a list")
    async with db.transaction():
        count = await db.fetchval(
            "SELECT count(*) FROM list_accounts WHERE list_id = $1", current["id"]
        )
        if count + len(account_ids) > MAX_MEMBERS:
            raise Invalid("account_ids", f"a list holds at most {MAX_MEMBERS} accounts")
        try:
            await db.execute(
                """INSERT INTO list_accounts (list_id, account_id, id)
                   SELECT $1, t.account_id, t.id
                   FROM unnest($2::bigint[], $3::bigint[]) AS t(account_id, id)
                   ON CONFLICT (list_id, account_id) DO NOTHING""",
                current["id"],
                account_ids,
                [new_id() for _ in account_ids],
            )
        except UniqueViolationError:  # the same id twice in one request
            raise Invalid("account_ids", "lists an account twice") from None


async def remove_members(owner_id: int, list_id: int | None, account_ids: list[int]) -> None:
    current = await get_list(owner_id, list_id)
    await db.execute(
        "DELETE FROM list_accounts WHERE list_id = $1 AND account_id = ANY($2::bigint[])",
        current["id"],
        account_ids,
    )


@dataclass(frozen=True)
class Members:
    accounts: list[Record]
    cursor_ids: list[int]


async def members(owner_id: int, list_id: int | None, page: Page) -> Members:
    """A page of a list's members, most recently added first; limit 0 means all of them."""
    current = await get_list(owner_id, list_id)
    conditions = ["la.list_id = $1", "a.suspended_at IS NULL"]
    args: list[object] = [current["id"]]
    for value, op in ((page.max_id, "<"), (page.since_id, ">"), (page.min_id, ">")):
        if value is not None:
            args.append(value)
            conditions.append(f"la.id {op} ${len(args)}")
    order = "ASC" if page.ascending else "DESC"
    limit = ""
    if page.limit:
        args.append(page.limit)
        limit = f"LIMIT ${len(args)}"
    rows = await db.fetch(
        f"""SELECT la.id AS cursor_id, a.* FROM list_accounts la
            JOIN accounts a ON a.id = la.account_id
            WHERE {" AND ".join(conditions)} ORDER BY la.id {order} {limit}""",
        *args,
    )
    if page.ascending:
        rows = rows[::-1]
    return Members(accounts=rows, cursor_ids=[row["cursor_id"] for row in rows])


@cache
def _timeline_query(ascending: bool) -> str:
    order = "ASC" if ascending else "DESC"
    members_of = f"""(SELECT la.account_id AS aid, coalesce(f.show_reblogs, true) AS show_reblogs
          FROM list_accounts la JOIN accounts ma ON ma.id = la.account_id
          LEFT JOIN follows f ON f.account_id = $1 AND f.target_account_id = la.account_id
          WHERE la.list_id = $5 AND ma.suspended_at IS NULL AND {pull.posted_since("ma", "$2")})"""
    posts = pull.followed_posts(
        authors=members_of, lo="$2", hi="$3", limit="$6", ascending=ascending
    )
    return f"""WITH {pull.HIDDEN}, candidates AS ({posts}), page AS (
        SELECT p.id, p.reblog_of_id FROM candidates c {pull.FEED_JOINS}
        WHERE {pull.feed_filter(exclusive=False)}
        ORDER BY p.id {order} LIMIT $4
    ){HYDRATE}"""


async def list_page(owner_id: int, list_id: int | None, page: Page) -> list[PostView]:
    current = await get_list(owner_id, list_id)
    rows = await db.fetch(
        _timeline_query(page.ascending),
        owner_id,
        page.low or 0,
        page.max_id or pull.MAX_ID,
        page.limit,
        current["id"],
        page.limit * 2 + 8,
    )
    return views_from_rows(rows, owner_id)
