"""Fan-out (push): a new post goes into the Redis feeds of its author and of the author's active
local followers (and of the local followers of its hashtags); authors with more local
followers than the push threshold are pulled at read time instead. Follows, unfollows, blocks
and deletions change feeds here too. Every function is idempotent: jobs may run twice."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from node import db
from node.settings import get_settings
from timeline import pull, store

log = logging.getLogger("pinhole.feeds")

_POST = """SELECT p.id, p.account_id, p.visibility, p.reblog_of_id, p.deleted_at,
       p.in_reply_to_id IS NOT NULL OR p.in_reply_to_uri <> '' AS is_reply
    FROM posts p WHERE p.id = $1"""

# Local followers of an author: how many in all (the push threshold counts them) and the ids
# of those active recently enough to be pushed to ($3: whether the post is a boost).
_FOLLOWERS = """SELECT count(*) AS local,
       coalesce(array_agg(f.account_id) FILTER (
           WHERE u.last_active_at > now() - make_interval(days => $2)
             AND (NOT $3::boolean OR f.show_reblogs)), '{}') AS active
    FROM follows f JOIN users u ON u.account_id = f.account_id
    WHERE f.target_account_id = $1"""

# Active local accounts addressed by a direct post who follow its author (as Mastodon: a
# direct post from a stranger stays out of the home feed).
_ADDRESSED_FOLLOWERS = """SELECT m.account_id FROM mentions m
    JOIN users u ON u.account_id = m.account_id
    JOIN follows f ON f.account_id = m.account_id AND f.target_account_id = $2
    WHERE m.post_id = $1 AND u.last_active_at > now() - make_interval(days => $3)"""

_TAG_FOLLOWERS = """SELECT DISTINCT ft.account_id FROM post_tags pt
    JOIN followed_tags ft ON ft.tag_id = pt.tag_id
    JOIN users u ON u.account_id = ft.account_id
    WHERE pt.post_id = $1 AND u.last_active_at > now() - make_interval(days => $2)"""


@dataclass(frozen=True)
class FanOut:
    """What a fan-out did: for logs and the benchmark."""

    post_id: int
    feeds: int = 0  # feeds the post went into
    pulled: bool = False  # the author is pulled at read time instead
    seconds: float = 0.0
    author_id: int | None = None
    readers: frozenset[int] = frozenset()  # accounts whose home feed shows it now


async def fan_out_post(post_id: int) -> FanOut:
    """Push a new post into the feeds that should show it."""
    started = time.perf_counter()
    post = await db.fetchrow(_POST, post_id)
    if post is None or post["deleted_at"] is not None or post["is_reply"]:
        return FanOut(post_id)
    settings = get_settings()
    days = settings.feed_inactive_days
    author = post["account_id"]
    targets: set[int] = {author}
    pulled = False
    if post["visibility"] == "direct":
        targets.update(
            r["account_id"] for r in await db.fetch(_ADDRESSED_FOLLOWERS, post_id, author, days)
        )
    else:
        row = await db.fetchrow(_FOLLOWERS, author, days, post["reblog_of_id"] is not None)
        if row["local"] > settings.feed_push_threshold:
            pulled = True
            await _start_pulling(author, row["local"], post_id)
        else:
            await _stop_pulling_if_small(author, row["local"], row["active"])
            targets.update(row["active"])
        if post["visibility"] == "public" and post["reblog_of_id"] is None:
            targets.update(r["account_id"] for r in await db.fetch(_TAG_FOLLOWERS, post_id, days))
    feeds = await store.push([post_id], targets)
    result = FanOut(
        post_id,
        feeds=feeds,
        pulled=pulled,
        seconds=time.perf_counter() - started,
        author_id=author,
        readers=frozenset(targets),
    )
    log.info(
        "fan-out of post %s: %d feeds%s in %.1f ms",
        post_id,
        feeds,
        " (author pulled)" if pulled else "",
        result.seconds * 1000,
    )
    return result


async def _start_pulling(author: int, local_followers: int, post_id: int) -> None:
    await db.execute(
        """INSERT INTO feed_pulled_authors (account_id, local_followers, since_id)
           VALUES ($1, $2, $3)
           ON CONFLICT (account_id) DO UPDATE
           SET local_followers = EXCLUDED.local_followers,
               since_id = least(feed_pulled_authors.since_id, EXCLUDED.since_id),
               updated_at = now()""",
        author,
        local_followers,
        post_id,
    )


async def _stop_pulling_if_small(author: int, local_followers: int, active: list[int]) -> None:
    """An author who fell well below the threshold is pushed again: first their posts that were
    only pulled go into the active followers' feeds, then reads stop pulling them. Half the
    threshold keeps an author near it from switching back and forth."""
    if local_followers * 2 > get_settings().feed_push_threshold:
        return
    since_id = await db.fetchval(
        "SELECT since_id FROM feed_pulled_authors WHERE account_id = $1", author
    )
    if since_id is None:
        return
    rows = await db.fetch(
        f"""SELECT id FROM posts p WHERE p.account_id = $1 AND {pull.feed_post("p")}
              AND p.id >= $2 AND p.visibility IN ('public', 'unlisted', 'private')
            ORDER BY p.id DESC LIMIT $3""",
        author,
        since_id,
        store.FEED_SIZE,
    )
    await store.push([row["id"] for row in rows], active)
    await db.execute("DELETE FROM feed_pulled_authors WHERE account_id = $1", author)


async def _audience(post_id: int) -> set[int]:
    """Every local account whose feed may hold a post: author, followers, tag followers."""
    rows = await db.fetch(
        """SELECT p.account_id FROM posts p WHERE p.id = $1
           UNION SELECT f.account_id FROM posts p
                 JOIN follows f ON f.target_account_id = p.account_id
                 JOIN users u ON u.account_id = f.account_id WHERE p.id = $1
           UNION SELECT m.account_id FROM mentions m
                 JOIN users u ON u.account_id = m.account_id WHERE m.post_id = $1
           UNION SELECT ft.account_id FROM post_tags pt
                 JOIN followed_tags ft ON ft.tag_id = pt.tag_id WHERE pt.post_id = $1""",
        post_id,
    )
    return {row["account_id"] for row in rows}


async def remove_post(post_id: int) -> None:
    """A deleted post leaves the feeds (reads filter it anyway; this frees the slots)."""
    await store.remove([post_id], await _audience(post_id))


async def merge_followee(follower_id: int, followee_id: int) -> int:
    """A new follow: the followee's recent posts join the follower's feed in order."""
    if not await _has_users(follower_id):
        return 0
    floor = await store.lowest_id(follower_id)
    rows = await db.fetch(
        pull.FOLLOWEE_POSTS, follower_id, followee_id, floor or 0, store.FEED_SIZE
    )
    ids = [row["id"] for row in rows]
    await store.push(ids, [follower_id])
    return len(ids)


async def _has_users(account_id: int) -> bool:
    return bool(await db.fetchval("SELECT 1 FROM users WHERE account_id = $1", account_id))


async def unmerge_author(owner_id: int, author_id: int) -> int:
    """Remove from one feed the posts and boosts of an author, and boosts of their posts."""
    ids = await store.feed_ids(owner_id)
    if not ids:
        return 0
    rows = await db.fetch(
        """SELECT p.id FROM posts p LEFT JOIN posts r ON r.id = p.reblog_of_id
           WHERE p.id = ANY($1::bigint[]) AND (p.account_id = $2 OR r.account_id = $2)""",
        ids,
        author_id,
    )
    gone = [row["id"] for row in rows]
    await store.remove(gone, [owner_id])
    return len(gone)


async def unfollow(follower_id: int, followee_id: int) -> None:
    """An unfollow: the followee's posts leave the feed, and the followee leaves the
    follower's lists (lists hold followed accounts only) — unless the follow is back."""
    still = await db.fetchval(
        "SELECT 1 FROM follows WHERE account_id = $1 AND target_account_id = $2",
        follower_id,
        followee_id,
    )
    if still:
        return
    await unmerge_author(follower_id, followee_id)
    await db.execute(
        """DELETE FROM list_accounts la USING lists l
           WHERE la.list_id = l.id AND l.account_id = $1 AND la.account_id = $2""",
        follower_id,
        followee_id,
    )


async def block(blocker_id: int, target_id: int) -> None:
    """A block ends follows both ways: each one's posts leave the other's feed and lists."""
    for owner, author in ((blocker_id, target_id), (target_id, blocker_id)):
        await unfollow(owner, author)
