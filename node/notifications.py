"""Notifications: made from domain events (in jobs, never in a request), listed, grouped,
dismissed and counted, and never from blocked or muted accounts or for one's own actions."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from asyncpg import Record

from node import db
from node.cursors import Window
from node.errors import Invalid, NotFound
from node.ids import new_id
from node.post_views import PostView, hydrate
from node.visibility import visible_to

TYPES = (
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "admin.sign_up",
    "admin.report",
)
# Types /api/v2/notifications groups by default, as Mastodon 4.3 does.
GROUPED_TYPES = ("favourite", "follow", "reblog")
# A group collects the same kind of notification for up to this long after it began.
GROUP_SPAN_HOURS = 12
SAMPLE_ACCOUNTS = 8
GROUP_SCAN = 20  # notifications read per group asked for, to find a page of groups
STAFF_ROLES = ("moderator", "admin")


# --- making notifications --------------------------------------------------------------------


def _group_keys(type_: str, post_id: int | None, notification_id: int) -> tuple[str, list[str]]:
    """Mastodon's group keys: `favourite-<post>-<hour>`, `reblog-<post>-<hour>`, `follow-<hour>`,
    where the hour is that of the group's first notification, so a group spans at most 12
    hours; other types are `ungrouped-<id>`. Returns (the key of a new group, the keys of
    groups still open to join, as exact keys so the lookup stays on the index)."""
    if type_ not in GROUPED_TYPES:
        return f"ungrouped-{notification_id}", []
    prefix = type_ if type_ == "follow" else f"{type_}-{post_id}"
    hour = int(time.time()) // 3600
    return f"{prefix}-{hour}", [
        f"{prefix}-{h}" for h in range(hour - GROUP_SPAN_HOURS + 1, hour + 1)
    ]


async def notify(
    recipient_id: int,
    from_account_id: int,
    type_: str,
    *,
    post_id: int | None = None,
    report_id: int | None = None,
    dedupe_key: str | None = None,
) -> int | None:
    """Notify a local account; the new notification's id, or None when nothing was made.

    Nothing is made for one's own actions, for remote recipients, from suspended accounts,
    across a block (either way), from an account the recipient muted with notifications, about
    a post the recipient may not see, or when the same `dedupe_key` was already notified (so a
    like undone and redone, or a job run twice, notifies once)."""
    if type_ not in TYPES:
        raise ValueError(f"unknown notification type {type_!r}")
    if recipient_id == from_account_id:
        return None
    notification_id = new_id()
    new_group, open_groups = _group_keys(type_, post_id, notification_id)
    dedupe_key = dedupe_key or f"{type_}:{from_account_id}:{post_id or report_id or ''}"
    return await db.fetchval(
        f"""WITH open_group AS (
                SELECT group_key FROM notifications
                WHERE account_id = $2 AND group_key = ANY($9::text[]) ORDER BY id DESC LIMIT 1
            )
            INSERT INTO notifications (id, account_id, from_account_id, type, post_id, report_id,
                                       dedupe_key, group_key)
            SELECT $1, $2, $3, $4, $5, $6, $7, coalesce((SELECT group_key FROM open_group), $8)
            WHERE EXISTS (SELECT 1 FROM users u WHERE u.account_id = $2 AND NOT u.disabled)
              AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = $3 AND a.suspended_at IS NULL)
              AND NOT EXISTS (
                SELECT 1 FROM blocks b
                WHERE (b.account_id = $2 AND b.target_account_id = $3)
                   OR (b.account_id = $3 AND b.target_account_id = $2))
              AND NOT EXISTS (
                SELECT 1 FROM mutes m
                WHERE m.account_id = $2 AND m.target_account_id = $3 AND m.hide_notifications
                  AND (m.expires_at IS NULL OR m.expires_at > now()))
              AND ($5::bigint IS NULL OR EXISTS (
                SELECT 1 FROM posts p WHERE p.id = $5 AND {visible_to("p", "$2")}))
            ON CONFLICT (account_id, dedupe_key) DO NOTHING
            RETURNING id""",
        notification_id,
        recipient_id,
        from_account_id,
        type_,
        post_id,
        report_id,
        dedupe_key,
        new_group,
        open_groups,
    )


def _made(*ids: int | None) -> list[int]:
    return [i for i in ids if i is not None]


async def on_follow(follower_id: int, target_id: int) -> list[int]:
    """follow.created: `follow` for the account followed (once per follower)."""
    return _made(await notify(target_id, follower_id, "follow", dedupe_key=f"follow:{follower_id}"))


async def on_follow_request(follower_id: int, target_id: int) -> list[int]:
    """follow.requested: `follow_request` for the locked account asked."""
    return _made(
        await notify(
            target_id,
            follower_id,
            "follow_request",
            dedupe_key=f"follow_request:{follower_id}",
        )
    )


async def on_follow_request_settled(follower_id: int, target_id: int) -> None:
    """A request accepted, rejected or withdrawn: its notification has nothing left to act on,
    and a later request may notify again."""
    await db.execute(
        """DELETE FROM notifications
           WHERE account_id = $1 AND type = 'follow_request' AND from_account_id = $2""",
        target_id,
        follower_id,
    )


async def on_favourite(favourite_id: int) -> list[int]:
    """favourite.created: `favourite` for the post's author (once per account and post)."""
    row = await db.fetchrow(
        """SELECT f.account_id, f.post_id, p.account_id AS author_id
           FROM favourites f JOIN posts p ON p.id = f.post_id WHERE f.id = $1""",
        favourite_id,
    )
    if row is None:
        return []
    return _made(
        await notify(
            row["author_id"],
            row["account_id"],
            "favourite",
            post_id=row["post_id"],
            dedupe_key=f"favourite:{row['account_id']}:{row['post_id']}",
        )
    )


async def on_post_created(post_id: int, *, quiet: Iterable[int] = ()) -> list[int]:
    """post.created: `reblog` for a boosted post's author; `mention` for each account the post
    mentions and for the author of the post it comments on; `status` for followers who asked
    to be told of the author's posts. `quiet`: accounts not to notify (a direct message that
    waits among their message requests)."""
    post = await db.fetchrow(
        """SELECT p.id, p.account_id, p.visibility, p.reblog_of_id, p.in_reply_to_account_id,
                  o.account_id AS original_author_id
           FROM posts p LEFT JOIN posts o ON o.id = p.reblog_of_id
           WHERE p.id = $1 AND p.deleted_at IS NULL""",
        post_id,
    )
    if post is None:
        return []
    author = post["account_id"]
    if post["reblog_of_id"] is not None:
        original = post["reblog_of_id"]
        return _made(
            await notify(
                post["original_author_id"],
                author,
                "reblog",
                post_id=original,
                dedupe_key=f"reblog:{author}:{original}",
            )
        )
    skip = set(quiet)
    made: list[int] = []
    mentioned = [
        r["account_id"]
        for r in await db.fetch(
            "SELECT account_id FROM mentions WHERE post_id = $1 AND NOT silent", post_id
        )
    ]
    addressed = list(dict.fromkeys([*mentioned, post["in_reply_to_account_id"]]))
    for recipient in addressed:
        if recipient is None or recipient in skip:
            continue
        made += _made(
            await notify(
                recipient, author, "mention", post_id=post_id, dedupe_key=f"mention:{post_id}"
            )
        )
    replying_to_other = post["in_reply_to_account_id"] not in (None, author)
    if post["visibility"] != "direct" and not replying_to_other:
        subscribers = await db.fetch(
            """SELECT f.account_id FROM follows f JOIN users u ON u.account_id = f.account_id
               WHERE f.target_account_id = $1 AND f.notify""",
            author,
        )
        for row in subscribers:
            if row["account_id"] not in addressed:
                made += _made(
                    await notify(
                        row["account_id"],
                        author,
                        "status",
                        post_id=post_id,
                        dedupe_key=f"status:{post_id}",
                    )
                )
    return made


async def on_post_updated(post_id: int) -> list[int]:
    """post.updated: `update` for local accounts that boosted or favourited the post."""
    post = await db.fetchrow(
        "SELECT id, account_id, edited_at FROM posts WHERE id = $1 AND deleted_at IS NULL",
        post_id,
    )
    if post is None or post["edited_at"] is None:
        return []
    interested = await db.fetch(
        """SELECT account_id FROM posts
           WHERE reblog_of_id = $1 AND deleted_at IS NULL
           UNION
           SELECT account_id FROM favourites WHERE post_id = $1""",
        post_id,
    )
    version = int(post["edited_at"].timestamp() * 1000)
    made: list[int] = []
    for row in interested:
        made += _made(
            await notify(
                row["account_id"],
                post["account_id"],
                "update",
                post_id=post_id,
                dedupe_key=f"update:{post_id}:{version}",
            )
        )
    return made


async def on_post_deleted(post_id: int) -> None:
    """post.deleted: notifications about the post go (reads hide them already)."""
    await db.execute("DELETE FROM notifications WHERE post_id = $1", post_id)


async def _staff_ids() -> list[int]:
    rows = await db.fetch(
        """SELECT u.account_id FROM users u JOIN accounts a ON a.id = u.account_id
           WHERE u.role = ANY($1::text[]) AND NOT u.disabled AND a.suspended_at IS NULL""",
        list(STAFF_ROLES),
    )
    return [r["account_id"] for r in rows]


async def on_account_created(account_id: int) -> list[int]:
    """account.created: `admin.sign_up` for every moderator and admin."""
    made: list[int] = []
    for staff_id in await _staff_ids():
        made += _made(
            await notify(
                staff_id, account_id, "admin.sign_up", dedupe_key=f"admin.sign_up:{account_id}"
            )
        )
    return made


async def on_report_created(report_id: int) -> list[int]:
    """report.created: `admin.report` for every moderator and admin (from the reporter, or the
    reported account when the reporter is unknown, as for a remote Flag without an actor)."""
    report = await db.fetchrow("SELECT * FROM reports WHERE id = $1", report_id)
    if report is None:
        return []
    sender = report["account_id"] or report["target_account_id"]
    made: list[int] = []
    for staff_id in await _staff_ids():
        if staff_id == report["target_account_id"]:
            continue
        made += _made(
            await notify(
                staff_id,
                sender,
                "admin.report",
                report_id=report_id,
                dedupe_key=f"admin.report:{report_id}",
            )
        )
    return made


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """Which notifications a list shows: types (all when empty), minus exclude_types, and only
    those from one account when account_id is set."""

    types: tuple[str, ...] = ()
    exclude_types: tuple[str, ...] = ()
    account_id: int | None = None

    def sql(self, alias: str, args: list[object]) -> str:
        conditions = []
        if self.types:
            args.append(list(self.types))
            conditions.append(f"{alias}.type = ANY(${len(args)}::text[])")
        if self.exclude_types:
            args.append(list(self.exclude_types))
            conditions.append(f"NOT ({alias}.type = ANY(${len(args)}::text[]))")
        if self.account_id is not None:
            args.append(self.account_id)
            conditions.append(f"{alias}.from_account_id = ${len(args)}")
        return " AND ".join(conditions) or "TRUE"


def known_types(raw: Iterable[str]) -> tuple[str, ...]:
    """Known notification types (unknown ones are ignored, as Mastodon does)."""
    return tuple(t for t in dict.fromkeys(raw) if t in TYPES)


def _shown(alias: str, owner: str) -> str:
    """SQL condition: a notification the owner may still see — its sender not suspended, no
    block either way or mute with notifications since, and its post not deleted. (Whether
    the owner may still see the post is checked when the page is rendered: hydration drops
    what the visibility rule hides, so this stays cheap on long lists.) Only anti-joins, so a
    page is read newest first from the index and stops at its limit."""
    return f"""(
        NOT EXISTS (SELECT 1 FROM accounts sa WHERE sa.id = {alias}.from_account_id
                    AND sa.suspended_at IS NOT NULL)
        AND NOT EXISTS (
            SELECT 1 FROM blocks sb
            WHERE (sb.account_id = {owner} AND sb.target_account_id = {alias}.from_account_id)
               OR (sb.account_id = {alias}.from_account_id AND sb.target_account_id = {owner}))
        AND NOT EXISTS (
            SELECT 1 FROM mutes sm
            WHERE sm.account_id = {owner} AND sm.target_account_id = {alias}.from_account_id
              AND sm.hide_notifications AND (sm.expires_at IS NULL OR sm.expires_at > now()))
        AND NOT EXISTS (
            SELECT 1 FROM posts sp WHERE sp.id = {alias}.post_id AND sp.deleted_at IS NOT NULL)
    )"""


@dataclass(frozen=True)
class NotificationView:
    """A notification ready to show: its row, who it is from, and its post or report."""

    row: Record
    account: Record
    status: PostView | None = None
    report: Record | None = None
    report_target: Record | None = None


async def page(owner_id: int, filters: Filter, window: Window) -> list[Record]:
    """Rows of one page of the owner's notifications, newest first."""
    args: list[object] = [owner_id]
    where = filters.sql("n", args)
    cursor, order = window.sql("n.id", args)
    rows = await db.fetch(
        f"""SELECT n.* FROM notifications n
            WHERE n.account_id = $1 AND {where} AND {cursor} AND {_shown("n", "$1")}
            {order}""",
        *args,
    )
    return window.newest_first(rows)


async def get(owner_id: int, notification_id: int | None) -> Record:
    if notification_id is None:
        raise NotFound()
    row = await db.fetchrow(
        f"""SELECT n.* FROM notifications n
            WHERE n.id = $2 AND n.account_id = $1 AND {_shown("n", "$1")}""",
        owner_id,
        notification_id,
    )
    if row is None:
        raise NotFound()
    return row


async def views(rows: list[Record], owner_id: int) -> list[NotificationView]:
    """Notifications with their accounts, posts (as the owner sees them) and reports, in a
    fixed number of queries; those whose post or account has gone are left out."""
    if not rows:
        return []
    account_ids = {r["from_account_id"] for r in rows}
    reports = {}
    report_ids = [r["report_id"] for r in rows if r["report_id"] is not None]
    if report_ids:
        reports = {
            r["id"]: r
            for r in await db.fetch(
                "SELECT * FROM reports WHERE id = ANY($1::bigint[])", report_ids
            )
        }
        account_ids |= {r["target_account_id"] for r in reports.values()}
    accounts = {
        r["id"]: r
        for r in await db.fetch(
            "SELECT * FROM accounts WHERE id = ANY($1::bigint[])", list(account_ids)
        )
    }
    posts = {
        v.post["id"]: v
        for v in await hydrate([r["post_id"] for r in rows if r["post_id"] is not None], owner_id)
    }
    shown = []
    for row in rows:
        account = accounts.get(row["from_account_id"])
        status = posts.get(row["post_id"]) if row["post_id"] is not None else None
        report = reports.get(row["report_id"]) if row["report_id"] is not None else None
        if account is None or (row["post_id"] is not None and status is None):
            continue
        if row["report_id"] is not None and report is None:
            continue
        shown.append(
            NotificationView(
                row=row,
                account=account,
                status=status,
                report=report,
                report_target=accounts.get(report["target_account_id"]) if report else None,
            )
        )
    return shown


async def view(owner_id: int, notification_id: int | None) -> NotificationView:
    found = await views([await get(owner_id, notification_id)], owner_id)
    if not found:
        raise NotFound()
    return found[0]


async def dismiss(owner_id: int, notification_id: int | None) -> None:
    if notification_id is None:
        raise NotFound()
    removed = await db.fetchval(
        "DELETE FROM notifications WHERE id = $1 AND account_id = $2 RETURNING id",
        notification_id,
        owner_id,
    )
    if removed is None:
        raise NotFound()


async def clear(owner_id: int) -> None:
    await db.execute("DELETE FROM notifications WHERE account_id = $1", owner_id)


async def unread_count(
    owner_id: int,
    filters: Filter,
    limit: int = 100,
    *,
    grouped_types: tuple[str, ...] | None = None,
) -> int:
    """Notifications after the `notifications` read marker (all of them without a marker),
    counted up to `limit`; with grouped_types, the groups among the newest of them (as
    /api/v2 shows them). Reads at most a bounded number of rows however many there are."""
    args: list[object] = [owner_id]
    where = filters.sql("n", args)
    counted, scan = "n.id", limit
    if grouped_types is not None:
        counted, scan = _group_expression("n", grouped_types, args), limit * GROUP_SCAN
    args.append(scan)
    return min(
        limit,
        await db.fetchval(
            f"""SELECT count(DISTINCT unread.counted) FROM (
                    SELECT {counted} AS counted FROM notifications n
                    WHERE n.account_id = $1 AND {where}
                      AND n.id > coalesce((SELECT last_read_id FROM markers
                                           WHERE account_id = $1 AND timeline = 'notifications'),
                                          0)
                      AND {_shown("n", "$1")}
                    ORDER BY n.id DESC LIMIT ${len(args)}) unread""",
            *args,
        ),
    )


# --- grouped notifications (/api/v2/notifications) -------------------------------------------


@dataclass(frozen=True)
class Group:
    """A notification group on one page: Mastodon 4.3's NotificationGroup, before rendering."""

    group_key: str
    type: str
    notifications_count: int
    most_recent_notification_id: int
    page_min_id: int
    page_max_id: int
    latest_at: object
    sample_account_ids: list[int]
    post_id: int | None
    report_id: int | None


@dataclass(frozen=True)
class GroupPage:
    groups: list[Group]
    accounts: dict[int, Record] = field(default_factory=dict)
    statuses: dict[int, PostView] = field(default_factory=dict)
    reports: dict[int, Record] = field(default_factory=dict)


def _group_expression(alias: str, grouped_types: tuple[str, ...], args: list[object]) -> str:
    args.append(list(grouped_types))
    return (
        f"(CASE WHEN {alias}.type = ANY(${len(args)}::text[]) "
        f"AND {alias}.group_key NOT LIKE 'ungrouped-%' "
        f"THEN {alias}.group_key ELSE 'ungrouped-' || {alias}.id END)"
    )


def _members(key: str, filters: Filter, args: list[object]) -> str:
    """SQL rows (id, from_account_id) of the group whose key is the SQL expression `key`: the
    notifications sharing a stored group key, or the one notification of `ungrouped-<id>`.
    Two branches, so each reads an index."""
    where = filters.sql("a", args)
    return f"""
        SELECT a.id, a.from_account_id FROM notifications a
        WHERE {key} NOT LIKE 'ungrouped-%' AND a.account_id = $1 AND a.group_key = {key}
          AND {where} AND {_shown("a", "$1")}
        UNION ALL
        SELECT a.id, a.from_account_id FROM notifications a
        WHERE {key} LIKE 'ungrouped-%' AND a.account_id = $1
          AND a.id = (CASE WHEN {key} LIKE 'ungrouped-%' THEN substr({key}, 11)::bigint END)
          AND {where} AND {_shown("a", "$1")}"""


async def group_page(
    owner_id: int,
    filters: Filter,
    window: Window,
    grouped_types: tuple[str, ...] = GROUPED_TYPES,
    *,
    only_key: str | None = None,
) -> GroupPage:
    """One page of notification groups, newest group first: each group's count and sample
    accounts cover the whole group; page_min_id/page_max_id the part of it on this page.

    Groups are found among the newest notifications of the window (GROUP_SCAN per group
    asked for), so a page costs the same however many notifications the account has; a
    group that spans pages shows on each, as on Mastodon."""
    args: list[object] = [owner_id]
    if only_key is not None:
        args.append(only_key)
        paged = f"""SELECT $2::text AS gkey, max(m.id) AS page_max_id, min(m.id) AS page_min_id
                    FROM ({_members("$2::text", filters, args)}) m HAVING count(*) > 0"""
    else:
        where = filters.sql("n", args)
        group_of = _group_expression("n", grouped_types, args)
        cursor, _ = window.sql("n.id", args)
        limit = f"${len(args)}"
        direction = "ASC" if window.ascending else "DESC"
        paged = f"""SELECT r.gkey, max(r.id) AS page_max_id, min(r.id) AS page_min_id
                    FROM (SELECT n.id, {group_of} AS gkey FROM notifications n
                          WHERE n.account_id = $1 AND {where} AND {cursor}
                            AND {_shown("n", "$1")}
                          ORDER BY n.id {direction} LIMIT {limit} * {GROUP_SCAN}) r
                    GROUP BY r.gkey ORDER BY max(r.id) {direction} LIMIT {limit}"""
    rows = await db.fetch(
        f"""SELECT pg.gkey, pg.page_max_id, pg.page_min_id, m.ids, m.senders,
                   latest.type, latest.created_at, latest.post_id, latest.report_id
            FROM ({paged}) pg
            CROSS JOIN LATERAL (
                SELECT array_agg(g.id ORDER BY g.id DESC) AS ids,
                       array_agg(g.from_account_id ORDER BY g.id DESC) AS senders
                FROM ({_members("pg.gkey", filters, args)}) g
            ) m
            JOIN notifications latest ON latest.id = m.ids[1]
            ORDER BY pg.page_max_id DESC""",
        *args,
    )
    groups = [
        Group(
            group_key=r["gkey"],
            type=r["type"],
            notifications_count=len(r["ids"]),
            most_recent_notification_id=r["ids"][0],
            page_min_id=r["page_min_id"],
            page_max_id=r["page_max_id"],
            latest_at=r["created_at"],
            sample_account_ids=list(dict.fromkeys(r["senders"]))[:SAMPLE_ACCOUNTS],
            post_id=r["post_id"],
            report_id=r["report_id"],
        )
        for r in rows
    ]
    return await _with_entities(groups, owner_id)


async def _with_entities(groups: list[Group], owner_id: int) -> GroupPage:
    account_ids = {a for g in groups for a in g.sample_account_ids}
    reports: dict[int, Record] = {}
    report_ids = [g.report_id for g in groups if g.report_id is not None]
    if report_ids:
        reports = {
            r["id"]: r
            for r in await db.fetch(
                "SELECT * FROM reports WHERE id = ANY($1::bigint[])", report_ids
            )
        }
        account_ids |= {r["target_account_id"] for r in reports.values()}
    accounts = {
        r["id"]: r
        for r in await db.fetch(
            "SELECT * FROM accounts WHERE id = ANY($1::bigint[])", list(account_ids)
        )
    }
    statuses = {
        v.post["id"]: v
        for v in await hydrate([g.post_id for g in groups if g.post_id is not None], owner_id)
    }
    kept = [g for g in groups if g.post_id is None or g.post_id in statuses]
    return GroupPage(groups=kept, accounts=accounts, statuses=statuses, reports=reports)


async def group(owner_id: int, group_key: str) -> GroupPage:
    """One notification group by its key."""
    found = await group_page(owner_id, Filter(), Window(limit=1), only_key=group_key)
    if not found.groups:
        raise NotFound()
    return found


async def dismiss_group(owner_id: int, group_key: str) -> None:
    """Dismiss every notification of a group (`ungrouped-<id>`: that one notification)."""
    removed = await db.fetchval(
        """WITH gone AS (
               DELETE FROM notifications
               WHERE account_id = $1 AND (group_key = $2 OR 'ungrouped-' || id = $2)
               RETURNING id)
           SELECT count(*) FROM gone""",
        owner_id,
        group_key,
    )
    if not removed:
        raise NotFound()


async def group_accounts(owner_id: int, group_key: str) -> list[Record]:
    """Every account in a group, most recent first."""
    rows = await db.fetch(
        f"""SELECT a.* FROM (
                SELECT from_account_id, max(id) AS last_id FROM notifications n
                WHERE n.account_id = $1 AND (n.group_key = $2 OR 'ungrouped-' || n.id = $2)
                  AND {_shown("n", "$1")}
                GROUP BY from_account_id) g
            JOIN accounts a ON a.id = g.from_account_id
            ORDER BY g.last_id DESC""",
        owner_id,
        group_key,
    )
    if not rows:
        raise NotFound()
    return rows


def validate_group_key(raw: str) -> str:
    if not raw or len(raw) > 200:
        raise Invalid("group_key", "is not a notification group")
    return raw
