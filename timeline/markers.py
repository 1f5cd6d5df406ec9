"""Read markers: where a user stopped reading home and notifications, so apps resume there."""

from __future__ import annotations

from asyncpg import Record

from node import db

TIMELINES = ("home", "notifications")


async def markers(account_id: int, timelines: list[str]) -> dict[str, Record]:
    """The markers asked for (all when none are named); timelines without one are left out."""
    wanted = [t for t in timelines if t in TIMELINES] or list(TIMELINES)
    rows = await db.fetch(
        "SELECT * FROM markers WHERE account_id = $1 AND timeline = ANY($2::text[])",
        account_id,
        wanted,
    )
    return {row["timeline"]: row for row in rows}


async def save_markers(account_id: int, positions: dict[str, int]) -> dict[str, Record]:
    """Move markers; each save raises its version, so apps can tell a newer position."""
    saved = {}
    for timeline, last_read_id in positions.items():
        if timeline not in TIMELINES:
            continue
        saved[timeline] = await db.fetchrow(
            """INSERT INTO markers (account_id, timeline, last_read_id) VALUES ($1, $2, $3)
               ON CONFLICT (account_id, timeline) DO UPDATE
               SET last_read_id = EXCLUDED.last_read_id, version = markers.version + 1,
                   updated_at = now()
               RETURNING *""",
            account_id,
            timeline,
            last_read_id,
        )
    return saved
