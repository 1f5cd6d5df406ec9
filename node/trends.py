"""Hashtag usage and trends: per-day usage history, trending hashtags and posts computed from
engagement with time decay (by a periodic job, stored in tables), the explore grid, and the
staff review that approves or hides what trends."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from node import admin, db
from node.errors import NotFound
from node.ids import SEQUENCE_BITS
from node.search import tag_name
from node.settings import get_settings
from node.visibility import visible_to

HISTORY_DAYS = 7
USAGE_KEPT_DAYS = 30
# Hashtags: each distinct account that used a tag in the window counts once, weighted by how
# long ago it last did (half-life); the score is damped by the tag's usual daily level (so a
# tag trends when it is used more than usual, not merely because it is always used).
TAG_WINDOW_HOURS = 48
TAG_HALF_LIFE_HOURS = 12.0
TAG_MIN_ACCOUNTS = 2
TAG_BASELINE_DAYS = 5  # the days before the window
# Posts: favourites, boosts (x2) and replies from distinct other accounts, each weighted by its
# own age, the sum by the post's age; only public original posts of the last week.
POST_WINDOW_DAYS = 7
INTERACTION_HALF_LIFE_HOURS = 12.0
POST_HALF_LIFE_HOURS = 72.0
POST_MIN_ACCOUNTS = 2
KEPT_TRENDS = 200
_REFRESH_LOCK = 7_340_060  # advisory lock id of refresh_trends
EXPLORE_RECENT_DAYS = 30


def first_id_at(moment: datetime) -> int:
    """The smallest id made at `moment` or later (ids are time-sortable)."""
    return int(moment.timestamp() * 1000) << SEQUENCE_BITS


def _today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(UTC).date()


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# A use of a hashtag counts when the post is public or unlisted, not deleted, by an account
# that is not suspended.
_COUNTED_USE = """p.deleted_at IS NULL AND p.visibility IN ('public', 'unlisted')
    AND EXISTS (SELECT 1 FROM accounts ua WHERE ua.id = p.account_id AND ua.suspended_at IS NULL)"""


# --- usage history and tag views -------------------------------------------------------------


@dataclass(frozen=True)
class DayUsage:
    day: date
    uses: int
    accounts: int


@dataclass(frozen=True)
class TagView:
    """A hashtag as shown: its row (id None for a name nobody used yet), the last days' usage
    (newest first), and whether the viewer follows / features it (None when signed out)."""

    tag: Mapping[str, Any]
    history: list[DayUsage]
    following: bool | None
    featuring: bool | None = None


async def usage_history(
    tag_ids: list[int], *, days: int = HISTORY_DAYS, now: datetime | None = None
) -> dict[int, list[DayUsage]]:
    """Uses and distinct accounts per UTC day, newest first, `days` days for each tag: today's
    counted now, earlier days as the trends job last counted them."""
    today = _today(now)
    first = today - timedelta(days=days - 1)
    counts: dict[int, dict[date, DayUsage]] = defaultdict(dict)
    if tag_ids:
        rows = await db.fetch(
            f"""SELECT tag_id, day, uses, accounts FROM tag_daily_usage
                WHERE tag_id = ANY($1::bigint[]) AND day >= $2 AND day < $3
                UNION ALL
                SELECT pt.tag_id, $3::date, count(*)::int, count(DISTINCT p.account_id)::int
                FROM post_tags pt JOIN posts p ON p.id = pt.post_id
                WHERE pt.tag_id = ANY($1::bigint[]) AND pt.post_id >= $4
                  AND p.created_at >= $5 AND {_COUNTED_USE}
                GROUP BY pt.tag_id""",
            tag_ids,
            first,
            today,
            first_id_at(_midnight(today)),
            _midnight(today),
        )
        for row in rows:
            counts[row["tag_id"]][row["day"]] = DayUsage(row["day"], row["uses"], row["accounts"])
    return {
        tag_id: [
            counts[tag_id].get(day, DayUsage(day, 0, 0))
            for day in (today - timedelta(days=n) for n in range(days))
        ]
        for tag_id in tag_ids
    }


def unused_history(days: int = HISTORY_DAYS) -> list[DayUsage]:
    today = _today()
    return [DayUsage(today - timedelta(days=n), 0, 0) for n in range(days)]


async def tag_views(tags: list[Mapping[str, Any]], viewer_id: int | None) -> list[TagView]:
    """Tags ready to show, in the order given: history, and the viewer's follow/feature state."""
    ids = [tag["id"] for tag in tags if tag.get("id") is not None]
    history = await usage_history(ids)
    followed: set[int] = set()
    featured: set[int] = set()
    if viewer_id is not None and ids:
        rows = await db.fetch(
            """SELECT t.id,
                   EXISTS (SELECT 1 FROM followed_tags f
                           WHERE f.account_id = $2 AND f.tag_id = t.id) AS following,
                   EXISTS (SELECT 1 FROM featured_tags f
                           WHERE f.account_id = $2 AND f.tag_id = t.id) AS featuring
               FROM unnest($1::bigint[]) AS t(id)""",
            ids,
            viewer_id,
        )
        followed = {row["id"] for row in rows if row["following"]}
        featured = {row["id"] for row in rows if row["featuring"]}
    return [
        TagView(
            tag=tag,
            history=history.get(tag.get("id")) or unused_history(),
            following=None if viewer_id is None else tag.get("id") in followed,
            featuring=None if viewer_id is None else tag.get("id") in featured,
        )
        for tag in tags
    ]


async def get_tag(raw_name: str, viewer_id: int | None) -> TagView:
    """A hashtag by name, used or not (as Mastodon answers); NotFound for a name that cannot
    be a hashtag."""
    name = tag_name(raw_name)
    if name is None:
        raise NotFound()
    row = await db.fetchrow("SELECT * FROM tags WHERE lower(name) = $1", name)
    tag: Mapping[str, Any] = (
        row
        if row is not None
        else {
            "id": None,
            "name": name,
            "display_name": raw_name.strip().lstrip("#"),
        }
    )
    return (await tag_views([tag], viewer_id))[0]


# --- computing trends (the periodic job) ---------------------------------------------------


@dataclass(frozen=True)
class TrendsRun:
    usage_rows: int
    tags: int
    posts: int
    seconds: float


async def refresh_trends(now: datetime | None = None) -> TrendsRun:
    """Recount hashtag usage of the last days, then replace the trending hashtags and posts.

    Idempotent: each run recomputes everything from posts, favourites and boosts."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    settings = get_settings()
    async with db.transaction():
        # One run at a time (a cron run and an admin's or a test's may meet): they would
        # delete and insert the same rows.
        await db.execute("SELECT pg_advisory_xact_lock($1)", _REFRESH_LOCK)
        usage_rows = await _count_usage(now)
        tags = posts = 0
        await db.execute("DELETE FROM trending_tags")
        await db.execute("DELETE FROM trending_posts")
        if settings.trends_enabled:
            tags = await _compute_trending_tags(now, settings.trends_include_remote)
            posts = await _compute_trending_posts(now, settings.trends_include_remote)
        # Trending but never reviewed: into the staff's review queue.
        await db.execute(
            """UPDATE tags SET requested_review_at = $1
               WHERE reviewed_at IS NULL AND requested_review_at IS NULL
                 AND id IN (SELECT tag_id FROM trending_tags)""",
            now,
        )
        await db.execute(
            """INSERT INTO post_trend_reviews (post_id, trendable, requested_review_at)
               SELECT post_id, true, $1 FROM trending_posts
               ON CONFLICT (post_id) DO NOTHING""",
            now,
        )
    return TrendsRun(usage_rows, tags, posts, time.perf_counter() - started)


async def _count_usage(now: datetime) -> int:
    today = _today(now)
    first = today - timedelta(days=HISTORY_DAYS)
    await db.execute(
        "DELETE FROM tag_daily_usage WHERE day >= $1 OR day < $2",
        first,
        today - timedelta(days=USAGE_KEPT_DAYS),
    )
    await db.execute(
        f"""INSERT INTO tag_daily_usage (tag_id, day, uses, accounts)
            SELECT pt.tag_id, (p.created_at AT TIME ZONE 'UTC')::date AS day,
                   count(*), count(DISTINCT p.account_id)
            FROM post_tags pt JOIN posts p ON p.id = pt.post_id
            WHERE pt.post_id >= $1 AND p.created_at >= $2 AND {_COUNTED_USE}
            GROUP BY 1, 2""",
        first_id_at(_midnight(first)),
        _midnight(first),
    )
    return await db.fetchval("SELECT count(*) FROM tag_daily_usage WHERE day >= $1", first)


# Authors whose posts and hashtag uses may trend: discoverable, neither suspended nor silenced,
# and local unless remote content may trend.
_TRENDING_AUTHOR = """a.discoverable AND a.suspended_at IS NULL AND a.silenced_at IS NULL
    AND ({remote} OR a.domain = '')"""


async def _compute_trending_tags(now: datetime, include_remote: bool) -> int:
    today = _today(now)
    window_start = now - timedelta(hours=TAG_WINDOW_HOURS)
    author = _TRENDING_AUTHOR.format(remote="$5")
    return int(
        (
            await db.execute(
                f"""WITH uses AS (
                    SELECT pt.tag_id, p.account_id, max(p.created_at) AS last_used
                    FROM post_tags pt JOIN posts p ON p.id = pt.post_id
                    JOIN accounts a ON a.id = p.account_id
                    WHERE pt.post_id >= $2 AND p.created_at >= $3 AND p.created_at <= $1
                      AND p.deleted_at IS NULL AND p.visibility = 'public' AND {author}
                    GROUP BY pt.tag_id, p.account_id
                ), recent AS (
                    SELECT tag_id, count(*) AS accounts,
                           sum(power(0.5, extract(epoch FROM $1 - last_used) / 3600.0 / $4))
                             AS weight
                    FROM uses GROUP BY tag_id HAVING count(*) >= $6
                ), baseline AS (
                    SELECT d.tag_id, sum(d.accounts)::float / $9 AS per_day
                    FROM tag_daily_usage d JOIN recent r ON r.tag_id = d.tag_id
                    WHERE d.day >= $7 AND d.day < $8 GROUP BY d.tag_id
                )
                INSERT INTO trending_tags (tag_id, score, recent_accounts, computed_at)
                SELECT r.tag_id, r.weight * r.weight / (r.weight + coalesce(b.per_day, 0)),
                       r.accounts, $1
                FROM recent r JOIN tags t ON t.id = r.tag_id
                LEFT JOIN baseline b ON b.tag_id = r.tag_id
                WHERE t.usable
                ORDER BY 2 DESC LIMIT {KEPT_TRENDS}""",
                now,
                first_id_at(window_start),
                window_start,
                TAG_HALF_LIFE_HOURS,
                include_remote,
                TAG_MIN_ACCOUNTS,
                today - timedelta(days=TAG_BASELINE_DAYS + TAG_WINDOW_HOURS // 24),
                today - timedelta(days=TAG_WINDOW_HOURS // 24),
                float(TAG_BASELINE_DAYS),
            )
        ).split()[-1]
    )


async def _compute_trending_posts(now: datetime, include_remote: bool) -> int:
    window_start = now - timedelta(days=POST_WINDOW_DAYS)
    author = _TRENDING_AUTHOR.format(remote="$5")
    return int(
        (
            await db.execute(
                f"""WITH interactions AS (
                    SELECT f.post_id, f.account_id, f.created_at, 1.0 AS weight
                    FROM favourites f WHERE f.id >= $2
                    UNION ALL
                    SELECT b.reblog_of_id, b.account_id, b.created_at, 2.0
                    FROM posts b WHERE b.id >= $2 AND b.reblog_of_id IS NOT NULL
                      AND b.deleted_at IS NULL
                    UNION ALL
                    SELECT r.in_reply_to_id, r.account_id, r.created_at, 1.0
                    FROM posts r WHERE r.id >= $2 AND r.in_reply_to_id IS NOT NULL
                      AND r.deleted_at IS NULL AND r.visibility IN ('public', 'unlisted')
                ), engaged AS (
                    SELECT i.post_id, count(DISTINCT i.account_id) AS accounts,
                           sum(i.weight * power(0.5, greatest(extract(epoch FROM $1 - i.created_at),
                                                              0) / 3600.0 / $3)) AS engagement
                    FROM interactions i
                    JOIN posts p ON p.id = i.post_id
                    JOIN accounts ia ON ia.id = i.account_id
                    WHERE i.account_id <> p.account_id AND i.created_at <= $1
                      AND ia.suspended_at IS NULL AND ia.silenced_at IS NULL
                    GROUP BY i.post_id HAVING count(DISTINCT i.account_id) >= $6
                )
                INSERT INTO trending_posts (post_id, score, local, with_media, computed_at)
                SELECT p.id,
                       e.engagement * power(0.5, greatest(extract(epoch FROM $1 - p.created_at),
                                                          0) / 3600.0 / $4),
                       p.local,
                       EXISTS (SELECT 1 FROM media_attachments m WHERE m.post_id = p.id),
                       $1
                FROM engaged e JOIN posts p ON p.id = e.post_id
                JOIN accounts a ON a.id = p.account_id
                WHERE p.id >= $2 AND p.visibility = 'public' AND p.deleted_at IS NULL
                  AND p.reblog_of_id IS NULL AND p.in_reply_to_id IS NULL
                  AND p.in_reply_to_uri = '' AND NOT p.sensitive AND {author}
                ORDER BY 2 DESC LIMIT {KEPT_TRENDS}""",
                now,
                first_id_at(window_start),
                INTERACTION_HALF_LIFE_HOURS,
                POST_HALF_LIFE_HOURS,
                include_remote,
                POST_MIN_ACCOUNTS,
            )
        ).split()[-1]
    )


# --- reading trends ----------------------------------------------------------------------


def _tag_shown(alias: str) -> str:
    """SQL: the tag may appear in trends (not rejected; approved when review is required)."""
    condition = f"{alias}.trendable AND {alias}.usable"
    if get_settings().trends_require_review:
        condition += f" AND {alias}.reviewed_at IS NOT NULL"
    return condition


def _post_shown(alias: str) -> str:
    """SQL: the post may appear in trends (review row `alias`, LEFT JOINed)."""
    if get_settings().trends_require_review:
        return f"({alias}.reviewed_at IS NOT NULL AND {alias}.trendable)"
    return f"coalesce({alias}.trendable, true)"


async def trending_tags(viewer_id: int | None, *, limit: int, offset: int = 0) -> list[TagView]:
    rows = await db.fetch(
        f"""SELECT t.* FROM trending_tags tt JOIN tags t ON t.id = tt.tag_id
            WHERE {_tag_shown("t")}
            ORDER BY tt.score DESC, tt.tag_id LIMIT $1 OFFSET $2""",
        limit,
        offset,
    )
    return await tag_views(list(rows), viewer_id)


async def trending_post_ids(
    viewer_id: int | None, *, limit: int, offset: int = 0, local_only: bool = False
) -> list[int]:
    """Trending posts the viewer may see (muted and blocked authors left out), best first."""
    rows = await db.fetch(
        f"""SELECT p.id FROM trending_posts tp JOIN posts p ON p.id = tp.post_id
            LEFT JOIN post_trend_reviews r ON r.post_id = tp.post_id
            WHERE {_post_shown("r")} AND ($4 = false OR tp.local) AND {visible_to("p", "$1")}
              AND {_not_muted("p", "$1")}
            ORDER BY tp.score DESC, tp.post_id DESC LIMIT $2 OFFSET $3""",
        viewer_id,
        limit,
        offset,
        local_only,
    )
    return [row["id"] for row in rows]


def _not_muted(post: str, viewer: str) -> str:
    return f"""NOT EXISTS (SELECT 1 FROM mutes xm WHERE xm.account_id = {viewer}::bigint
                   AND xm.target_account_id = {post}.account_id
                   AND (xm.expires_at IS NULL OR xm.expires_at > now()))"""


async def explore_post_ids(
    viewer_id: int | None, *, limit: int, offset: int = 0, local_only: bool = False
) -> list[int]:
    """The explore grid: trending posts with photos or videos first, then the newest public
    photo posts of discoverable accounts (so a young node's grid is not empty); posts staff
    rejected from trends are in neither part."""
    include_remote = get_settings().trends_include_remote and not local_only
    since = first_id_at(datetime.now(UTC) - timedelta(days=EXPLORE_RECENT_DAYS))
    rows = await db.fetch(
        f"""WITH trending AS (
                SELECT tp.post_id AS id, tp.score FROM trending_posts tp
                LEFT JOIN post_trend_reviews r ON r.post_id = tp.post_id
                WHERE tp.with_media AND {_post_shown("r")} AND ($4 OR tp.local)
            ), recent AS (
                SELECT p.id FROM posts p JOIN accounts a ON a.id = p.account_id
                WHERE p.id >= $5 AND p.visibility = 'public' AND p.deleted_at IS NULL
                  AND p.reblog_of_id IS NULL AND p.in_reply_to_id IS NULL
                  AND ($4 OR p.local) AND NOT p.sensitive
                  AND a.discoverable AND a.silenced_at IS NULL
                  AND EXISTS (SELECT 1 FROM media_attachments m WHERE m.post_id = p.id)
                  AND p.id NOT IN (SELECT id FROM trending)
                  AND NOT EXISTS (SELECT 1 FROM post_trend_reviews rr
                                  WHERE rr.post_id = p.id AND NOT rr.trendable)
                  AND {visible_to("p", "$1")} AND {_not_muted("p", "$1")}
                ORDER BY p.id DESC LIMIT $2::int + $3::int
            ), grid AS (
                SELECT id, 0 AS part, score FROM trending
                UNION ALL
                SELECT id, 1, NULL FROM recent
            )
            SELECT g.id FROM grid g JOIN posts p ON p.id = g.id
            WHERE {visible_to("p", "$1")} AND {_not_muted("p", "$1")}
            ORDER BY g.part, g.score DESC NULLS LAST, g.id DESC
            LIMIT $2 OFFSET $3""",
        viewer_id,
        limit,
        offset,
        include_remote,
        since,
    )
    return [row["id"] for row in rows]


# --- staff review ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewedTag:
    view: TagView
    trending: bool


async def admin_trending_tags(*, limit: int) -> list[ReviewedTag]:
    """What trends now, approved, unreviewed and rejected alike, for the review screen."""
    rows = await db.fetch(
        """SELECT t.* FROM trending_tags tt JOIN tags t ON t.id = tt.tag_id
           ORDER BY tt.score DESC, tt.tag_id LIMIT $1""",
        limit,
    )
    views = await tag_views(list(rows), None)
    return [ReviewedTag(view, True) for view in views]


async def admin_tag(tag_id: int | None) -> ReviewedTag:
    row = await db.fetchrow("SELECT * FROM tags WHERE id = $1", tag_id)
    if row is None:
        raise NotFound()
    trending = await db.fetchval(
        "SELECT EXISTS (SELECT 1 FROM trending_tags WHERE tag_id = $1)", row["id"]
    )
    return ReviewedTag((await tag_views([row], None))[0], bool(trending))


async def review_tag(tag_id: int | None, *, approve: bool, actor_account_id: int) -> ReviewedTag:
    """Approve a hashtag for trends or hide it from them (both count as reviewed)."""
    row = await db.fetchrow(
        """UPDATE tags SET trendable = $2, reviewed_at = now() WHERE id = $1 RETURNING *""",
        tag_id,
        approve,
    )
    if row is None:
        raise NotFound()
    await admin.record_action(
        actor_account_id, "approve_tag" if approve else "reject_tag", "tag", row["id"]
    )
    return await admin_tag(row["id"])


async def admin_trending_post_ids(*, limit: int) -> list[int]:
    rows = await db.fetch(
        "SELECT post_id FROM trending_posts ORDER BY score DESC, post_id DESC LIMIT $1", limit
    )
    return [row["post_id"] for row in rows]


async def review_post(post_id: int | None, *, approve: bool, actor_account_id: int) -> int:
    """Approve a post for trends or hide it from them; the post's id."""
    found = await db.fetchval("SELECT id FROM posts WHERE id = $1 AND deleted_at IS NULL", post_id)
    if found is None:
        raise NotFound()
    await db.execute(
        """INSERT INTO post_trend_reviews (post_id, trendable, reviewed_by_account_id, reviewed_at)
           VALUES ($1, $2, $3, now())
           ON CONFLICT (post_id) DO UPDATE SET trendable = $2, reviewed_by_account_id = $3,
               reviewed_at = now()""",
        found,
        approve,
        actor_account_id,
    )
    await admin.record_action(
        actor_account_id, "approve_status" if approve else "reject_status", "post", found
    )
    return found
