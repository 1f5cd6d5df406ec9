"""The pull side of home feeds: followed authors' posts read straight from PostgreSQL with a
LATERAL top-N per author over the `posts_feed` index, and the read-time filters every home
page goes through.

Feed posts are top-level posts and boosts: comments (replies) live under their post, not in
timelines. Everything a viewer must not see is removed when a page is read, whatever the
Redis feed holds: deleted posts, posts of suspended accounts (a domain block that suspends
suspends its accounts), blocked accounts either way, muted accounts, members of the viewer's
exclusive lists, and posts the viewer may not see (followers-only without following; direct
ones unless addressed to the viewer — the author and the mentioned accounts see them, as in
Mastodon).
"""

from __future__ import annotations

from timeline.views import ENTRIES, ENTRY_COLUMNS


def feed_post(alias: str) -> str:
    """A post that belongs in feeds: the condition of the posts_feed index, so scans use it."""
    return (
        f"{alias}.deleted_at IS NULL AND {alias}.in_reply_to_id IS NULL "
        f"AND {alias}.in_reply_to_uri = ''"
    )


MAX_ID = (1 << 63) - 1

# Accounts whose posts a viewer ($1) never sees in home: blocks both ways and live mutes; and
# the members of the viewer's exclusive lists (their posts show only in those lists).
HIDDEN = """hidden AS MATERIALIZED (
    SELECT ARRAY(
        SELECT target_account_id FROM blocks WHERE account_id = $1
        UNION ALL SELECT account_id FROM blocks WHERE target_account_id = $1
        UNION ALL SELECT target_account_id FROM mutes
            WHERE account_id = $1 AND (expires_at IS NULL OR expires_at > now())
    ) AS authors,
    ARRAY(
        SELECT la.account_id FROM lists l JOIN list_accounts la ON la.list_id = l.id
        WHERE l.account_id = $1 AND l.exclusive
    ) AS exclusive
)"""


def _may_see(post: str, author: str) -> str:
    """The viewer ($1) may see this post (not what it boosts): visibility and silencing."""
    follows = (
        "EXISTS (SELECT 1 FROM follows vf WHERE vf.account_id = $1 "
        f"AND vf.target_account_id = {post}.account_id)"
    )
    return f"""({post}.account_id = $1 OR (
        ({post}.visibility IN ('public', 'unlisted')
         OR ({post}.visibility = 'private' AND {follows})
         OR ({post}.visibility = 'direct' AND EXISTS (
                SELECT 1 FROM mentions vm WHERE vm.post_id = {post}.id AND vm.account_id = $1)))
        AND ({author}.silenced_at IS NULL OR {follows})
        AND {post}.account_id <> ALL(hidden.authors)))"""


def feed_filter(*, exclusive: bool) -> str:
    """Conditions on `p` (with author `a`, boosted post `r` and its author `ra` left-joined)
    for a feed of the viewer $1; `exclusive`: leave out members of exclusive lists (home)."""
    return f"""{feed_post("p")}
    AND a.suspended_at IS NULL
    AND {_may_see("p", "a")}
    {"AND (p.account_id = $1 OR p.account_id <> ALL(hidden.exclusive))" if exclusive else ""}
    AND (p.reblog_of_id IS NULL OR (
        r.deleted_at IS NULL AND ra.suspended_at IS NULL AND {_may_see("r", "ra")}))"""


# Joins for feed_filter, from a derived table `c` of candidate ids.
FEED_JOINS = """JOIN posts p ON p.id = c.id
        JOIN accounts a ON a.id = p.account_id
        LEFT JOIN posts r ON r.id = p.reblog_of_id
        LEFT JOIN accounts ra ON ra.id = r.account_id
        CROSS JOIN hidden"""


def _direct_addressed(posts: str) -> str:
    return (
        f"({posts}.visibility <> 'direct' OR {posts}.account_id = $1 OR EXISTS ("
        f"SELECT 1 FROM mentions dm WHERE dm.post_id = {posts}.id AND dm.account_id = $1))"
    )


def followed_posts(*, authors: str, lo: str, hi: str, limit: str, ascending: bool) -> str:
    """Post ids of the authors in the derived table `authors` (columns aid, show_reblogs):
    each author's top `limit` between lo and hi, exclusive."""
    order = "ASC" if ascending else "DESC"
    return f"""SELECT x.id FROM {authors} fe CROSS JOIN LATERAL (
            SELECT fp.id FROM posts fp
            WHERE fp.account_id = fe.aid AND {feed_post("fp")}
              AND fp.id > {lo}::bigint AND fp.id < {hi}::bigint
              AND (fp.reblog_of_id IS NULL OR fe.show_reblogs)
              AND {_direct_addressed("fp")}
            ORDER BY fp.id {order} LIMIT {limit}) x"""


def followed_tag_posts(*, lo: str, hi: str, limit: str, ascending: bool) -> str:
    """Public top-level posts carrying a hashtag the viewer ($1) follows."""
    order = "ASC" if ascending else "DESC"
    return f"""SELECT y.post_id AS id FROM followed_tags ft CROSS JOIN LATERAL (
            SELECT pt.post_id FROM post_tags pt JOIN posts tp ON tp.id = pt.post_id
            WHERE pt.tag_id = ft.tag_id AND pt.post_id > {lo}::bigint AND pt.post_id < {hi}::bigint
              AND tp.visibility = 'public' AND tp.reblog_of_id IS NULL
              AND {feed_post("tp")}
            ORDER BY pt.post_id {order} LIMIT {limit}) y
        WHERE ft.account_id = $1"""


# The authors a viewer ($1) follows, themselves included, that may have posts newer than the
# time of the id `lo`: last_status_at bounds an author's newest post (with a margin for clocks).
def posted_since(account: str, lo: str) -> str:
    return (
        f"coalesce({account}.last_status_at, 'infinity') >= "
        f"to_timestamp(({lo}::bigint >> 16) / 1000.0) - interval '5 minutes'"
    )


def all_followed(lo: str) -> str:
    return f"""(SELECT f.target_account_id AS aid, f.show_reblogs
          FROM follows f JOIN accounts fa ON fa.id = f.target_account_id
          WHERE f.account_id = $1 AND fa.suspended_at IS NULL AND {posted_since("fa", lo)}
          UNION ALL SELECT $1::bigint, true)"""


# The big authors a viewer follows: pulled at read time instead of pushed.
PULLED_FOLLOWED = """(SELECT f.target_account_id AS aid, f.show_reblogs
          FROM feed_pulled_authors pa
          JOIN follows f ON f.account_id = $1 AND f.target_account_id = pa.account_id)"""


def page_query(*, ascending: bool, below_floor: bool) -> str:
    """One home page from its candidates: $1 viewer, $2 ids from Redis, ($3, $4) the window,
    $5 rows per pulled author, $6 page size, $7 how many of the newest candidates are checked
    against the filters (a page whose filters removed too many is asked again with more).
    `below_floor`: Redis lacks the older part ($8, $9) of the window, so every followed author
    is pulled there too (a query of its own: the branch costs even when it finds nothing).
    Returns the page as timeline.views.ENTRIES rows."""
    order = "ASC" if ascending else "DESC"
    fallback = ""
    if below_floor:
        fallback = f"""UNION
            {followed_posts(authors=all_followed("$8"), lo="$8", hi="$9", limit="$5", ascending=ascending)}
            UNION
            {followed_tag_posts(lo="$8", hi="$9", limit="$5", ascending=ascending)}"""
    return f"""WITH {HIDDEN},
        candidates AS (
            SELECT unnest($2::bigint[]) AS id
            UNION
            {followed_posts(authors=PULLED_FOLLOWED, lo="$3", hi="$4", limit="$5", ascending=ascending)}
            {fallback}
        ),
        newest AS (SELECT id FROM candidates ORDER BY id {order} LIMIT $7),
        page AS (
            SELECT {ENTRY_COLUMNS} FROM newest c {FEED_JOINS}
            WHERE {feed_filter(exclusive=True)}
            ORDER BY p.id {order} LIMIT $6
        ){ENTRIES}"""


# A feed rebuilt from PostgreSQL: the newest $2 feed posts newer than the id $3 of the viewer
# ($1), their followed authors and followed hashtags. Only authors among the $2 with the newest
# last_status_at can have posts among the newest $2, and none of their posts older than the
# $2-th newest last_status_at can either, so each author's scan stops there (or at $3).
REBUILD = f"""WITH followed AS (
        SELECT f.target_account_id AS aid, f.show_reblogs,
               coalesce(fa.last_status_at, 'infinity') AS seen
        FROM follows f JOIN accounts fa ON fa.id = f.target_account_id
        WHERE f.account_id = $1 AND fa.suspended_at IS NULL AND {posted_since("fa", "$3")}
        UNION ALL SELECT $1::bigint, true, 'infinity'::timestamptz
    ),
    cut AS (
        SELECT coalesce(
            (SELECT seen FROM followed ORDER BY seen DESC OFFSET $2 - 1 LIMIT 1),
            '-infinity') - interval '5 minutes' AS t
    ),
    bound AS (
        SELECT greatest($3::bigint, CASE WHEN isfinite(t)
                   THEN (extract(epoch FROM t) * 1000)::bigint << 16 ELSE 0 END) AS low
        FROM cut
    ),
    recent AS (
        SELECT fe.aid, fe.show_reblogs FROM followed fe, cut
        WHERE NOT isfinite(cut.t) OR fe.seen >= cut.t
    )
    SELECT id FROM (
        {followed_posts(authors="recent", lo="(SELECT low FROM bound)", hi=str(MAX_ID), limit="$2", ascending=False)}
        UNION
        {followed_tag_posts(lo="(SELECT low FROM bound)", hi=str(MAX_ID), limit="$2", ascending=False)}
    ) newest ORDER BY id DESC LIMIT $2"""

# The posts of one author ($2) that a new follower ($1) should find in their feed: those newer
# than the oldest post the feed holds ($3).
FOLLOWEE_POSTS = f"""SELECT fp.id FROM posts fp
    JOIN follows f ON f.account_id = $1 AND f.target_account_id = fp.account_id
    WHERE fp.account_id = $2 AND {feed_post("fp")} AND fp.id > $3
      AND (fp.reblog_of_id IS NULL OR f.show_reblogs)
      AND {_direct_addressed("fp")}
    ORDER BY fp.id DESC LIMIT $4"""
