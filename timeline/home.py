"""The home feed read: the Redis feed (pushed posts) merged with posts pulled from PostgreSQL
(big authors always; every followed author below the oldest post Redis holds), filtered at
read time, paginated by id; rebuilt from PostgreSQL when the Redis feed is missing."""

from __future__ import annotations

import time

from asyncpg import Record

from node import accounts, db
from node.ids import SEQUENCE_BITS
from node.post_views import PostView
from timeline import pull, store
from timeline.page import Page
from timeline.views import post_views

REBUILD_SIZE = 200  # posts a rebuilt feed starts with; older pages are pulled
MAX_ROUNDS = 4  # rounds of reading further when filters removed most of a page
CHECK_MARGIN = 4  # candidates checked beyond the page size before asking for all of them


_QUERIES = {
    (ascending, below_floor): pull.page_query(ascending=ascending, below_floor=below_floor)
    for ascending in (False, True)
    for below_floor in (False, True)
}


# Rebuilds look back this far first: when the window already holds a full feed, its newest
# posts are the newest of all, and far fewer index entries were read than for all time.
REBUILD_WINDOWS_DAYS = (3, 30, None)


async def rebuild(account_id: int) -> int:
    """Fill an account's feed from PostgreSQL; returns how many posts it got."""
    await store.begin_rebuild(account_id)
    now_ms = int(time.time() * 1000)
    for days in REBUILD_WINDOWS_DAYS:
        since = (now_ms - days * 86_400_000) << SEQUENCE_BITS if days else 0
        rows = await db.fetch(pull.REBUILD, account_id, REBUILD_SIZE, since)
        if len(rows) >= REBUILD_SIZE:
            break
    await store.finish_rebuild(account_id, [row["id"] for row in rows])
    return len(rows)


async def _mark_active(user_id: int, account_id: int) -> None:
    """The owner read their feed: they count as active (pushes continue) for another period."""
    await accounts.touch_user(user_id)
    await store.keep_alive(account_id)


async def home_page(account_id: int, page: Page, *, user_id: int | None = None) -> list[PostView]:
    """One page of an account's home feed, newest first, ready to render (the web pages)."""
    entries = await home_entries(account_id, page, user_id=user_id)
    return await post_views([entry["id"] for entry in entries], account_id)


async def home_entries(account_id: int, page: Page, *, user_id: int | None = None) -> list[Record]:
    """One page of an account's home feed, newest first, as timeline.views.ENTRIES rows.

    `user_id` (the owner reading their own feed) keeps the owner counted as active.
    """
    ascending = page.ascending
    lo = page.low
    hi = page.max_id
    # Redis may hold posts the filters remove (mutes, blocks…), so it is asked for more; a pulled
    # author's posts are hidden all together or not at all, so a page and a margin suffice.
    per_source = page.limit * 2 + 8
    per_author = page.limit + 8
    window = await store.read(
        account_id, lo=lo, hi=hi, count=per_source, ascending=ascending, touch=user_id is not None
    )
    if window.touch_due and user_id is not None:
        await _mark_active(user_id, account_id)
    if window.state != store.BUILT:
        await rebuild(account_id)
        window = await store.read(
            account_id, lo=lo, hi=hi, count=per_source, ascending=ascending, touch=False
        )
    result: list[Record] = []
    for _ in range(MAX_ROUNDS):
        ids = window.ids
        # Redis holds every feed post from its floor up; below the floor, every followed
        # author is pulled. When Redis returned a full batch, this round covers only down to
        # (or up to) the last id it returned.
        covered = ids[-1] if ids and not window.exhausted else None
        floor = window.floor
        if ascending:
            below_floor = floor is None or lo is None or lo < floor
        else:
            below_floor = window.exhausted and (floor is None or lo is None or lo < floor)
        fallback_hi = hi if floor is None else min(floor, hi if hi is not None else floor)
        # Pulled authors only matter within what this round covers.
        pull_lo, pull_hi = lo or 0, hi or pull.MAX_ID
        if covered is not None:
            if ascending:
                pull_hi = min(pull_hi, covered + 1)
            else:
                pull_lo = max(pull_lo, covered - 1)
        wanted = page.limit - len(result)
        query = _QUERIES[(ascending, below_floor)]
        args = (account_id, ids, pull_lo, pull_hi, per_author, wanted)
        fallback = (lo or 0, fallback_hi or pull.MAX_ID) if below_floor else ()
        # Most pages lose nothing to the filters: only the newest candidates are checked, and
        # all of them when that left the page short.
        rows = await db.fetch(query, *args, wanted + CHECK_MARGIN, *fallback)
        if len(rows) < wanted:
            rows = await db.fetch(query, *args, pull.MAX_ID, *fallback)
        found = sorted(rows, key=lambda row: row["id"], reverse=not ascending)
        if covered is not None:
            found = [
                row
                for row in found
                if (row["id"] <= covered if ascending else row["id"] >= covered)
            ]
        result.extend(found)
        if covered is None or len(result) >= page.limit:
            break
        # Filters removed most of the batch: read on past what was covered.
        if ascending:
            lo = covered
        else:
            hi = covered
        window = await store.read(
            account_id, lo=lo, hi=hi, count=per_source, ascending=ascending, touch=False
        )
    result.sort(key=lambda row: row["id"], reverse=True)
    return result[: page.limit] if not ascending else result[-page.limit :]
