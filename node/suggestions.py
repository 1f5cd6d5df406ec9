"""Finding people: follow suggestions (friends of friends, then popular local accounts) and the
profile directory of discoverable accounts."""

from __future__ import annotations

from dataclasses import dataclass

from asyncpg import Record

from node import db
from node.accounts import get_account

# Friends of friends: the viewer's newest followees, and each one's newest followees, bound the
# work however many accounts people follow.
FOLLOWEES_SAMPLED = 200
FOLLOWEES_OF_FOLLOWEE_SAMPLED = 200
POPULAR_ACTIVE_DAYS = 30


@dataclass(frozen=True)
class Suggestion:
    account: Record
    sources: list[str]  # Mastodon's names: "friends_of_friends", "most_followed"
    mutuals: int  # how many of the viewer's followees follow the account


def _suggestable(viewer: str) -> str:
    """SQL: account `a` may be suggested to the viewer: listed, not the viewer, not followed or
    requested, no block either way, not muted, not dismissed."""
    return f"""a.id <> {viewer} AND a.discoverable AND a.suspended_at IS NULL
        AND a.silenced_at IS NULL AND a.moved_to_account_id IS NULL
        AND NOT EXISTS (SELECT 1 FROM follows x
                        WHERE x.account_id = {viewer} AND x.target_account_id = a.id)
        AND NOT EXISTS (SELECT 1 FROM follow_requests x
                        WHERE x.account_id = {viewer} AND x.target_account_id = a.id)
        AND NOT EXISTS (SELECT 1 FROM blocks x
                        WHERE (x.account_id = {viewer} AND x.target_account_id = a.id)
                           OR (x.account_id = a.id AND x.target_account_id = {viewer}))
        AND NOT EXISTS (SELECT 1 FROM mutes x
                        WHERE x.account_id = {viewer} AND x.target_account_id = a.id)
        AND NOT EXISTS (SELECT 1 FROM suggestion_dismissals x
                        WHERE x.account_id = {viewer} AND x.target_account_id = a.id)"""


async def suggestions(viewer_id: int, *, limit: int) -> list[Suggestion]:
    """Accounts to follow: those most followed by the accounts the viewer follows, then the
    most followed local accounts that posted lately."""
    friends = await db.fetch(
        f"""WITH followees AS (
                SELECT target_account_id AS id FROM follows
                WHERE account_id = $1 ORDER BY id DESC LIMIT {FOLLOWEES_SAMPLED}
            ), candidates AS (
                SELECT ff.target_account_id AS id, count(*) AS mutuals
                FROM followees f
                CROSS JOIN LATERAL (
                    SELECT target_account_id FROM follows
                    WHERE account_id = f.id ORDER BY id DESC LIMIT {FOLLOWEES_OF_FOLLOWEE_SAMPLED}
                ) ff
                GROUP BY ff.target_account_id
            )
            SELECT a.*, c.mutuals FROM candidates c JOIN accounts a ON a.id = c.id
            WHERE {_suggestable("$1")}
            ORDER BY c.mutuals DESC, a.followers_count DESC, a.id
            LIMIT $2""",
        viewer_id,
        limit,
    )
    found = [Suggestion(row, ["friends_of_friends"], row["mutuals"]) for row in friends]
    if len(found) < limit:
        popular = await db.fetch(
            f"""SELECT a.* FROM accounts a
                WHERE a.domain = '' AND {_suggestable("$1")}
                  AND a.last_status_at > now() - make_interval(days => {POPULAR_ACTIVE_DAYS})
                  AND NOT (a.id = ANY($3::bigint[]))
                ORDER BY a.followers_count DESC, a.id DESC LIMIT $2""",
            viewer_id,
            limit - len(found),
            [s.account["id"] for s in found],
        )
        found += [Suggestion(row, ["most_followed"], 0) for row in popular]
    return found


async def dismiss(viewer_id: int, account_id: int | None) -> None:
    """Never suggest this account again (an unknown account is a 404)."""
    account = await get_account(account_id)
    await db.execute(
        """INSERT INTO suggestion_dismissals (account_id, target_account_id) VALUES ($1, $2)
           ON CONFLICT DO NOTHING""",
        viewer_id,
        account["id"],
    )


async def directory(
    viewer_id: int | None, *, order: str, local_only: bool, limit: int, offset: int
) -> list[Record]:
    """Discoverable accounts: recently active first (`active`) or
    newest first (`new`); never one that blocks the viewer or that the viewer blocks."""
    order_by = (
        "a.last_status_at DESC NULLS LAST, a.id DESC"
        if order == "active"
        else "a.created_at DESC, a.id DESC"
    )
    return await db.fetch(
        f"""SELECT a.* FROM accounts a
            WHERE a.discoverable AND a.suspended_at IS NULL AND a.silenced_at IS NULL
              AND a.moved_to_account_id IS NULL AND a.actor_type <> 'Application'
              AND ($2 = false OR a.domain = '')
              AND ($1::bigint IS NULL OR NOT EXISTS (
                  SELECT 1 FROM blocks x
                  WHERE (x.account_id = $1 AND x.target_account_id = a.id)
                     OR (x.account_id = a.id AND x.target_account_id = $1)))
            ORDER BY {order_by} LIMIT $3 OFFSET $4""",
        viewer_id,
        local_only,
        limit,
        offset,
    )
