"""Housekeeping the cron jobs run: expired credentials, orphaned uploads, the remote media
cache, and the data of accounts whose suspension grace period is over."""

from __future__ import annotations

import json
import logging
from typing import Any

from asyncpg import Record

from node import db
from node.settings import get_settings

log = logging.getLogger("pinhole.cleanup")

BATCH = 200


async def delete_expired_credentials() -> dict[str, int]:
    """Authorization codes a day past expiry or use, and tokens a week after revocation."""
    codes = await db.fetchval(
        """WITH gone AS (
               DELETE FROM oauth_codes
               WHERE expires_at < now() - interval '1 day' OR used_at < now() - interval '1 day'
               RETURNING 1)
           SELECT count(*) FROM gone"""
    )
    tokens = await db.fetchval(
        """WITH gone AS (
               DELETE FROM oauth_tokens WHERE revoked_at < now() - interval '7 days' RETURNING 1)
           SELECT count(*) FROM gone"""
    )
    invites = await db.fetchval(
        """WITH gone AS (
               DELETE FROM invites
               WHERE (expires_at < now() - interval '30 days'
                      OR revoked_at < now() - interval '30 days')
                 AND NOT EXISTS (SELECT 1 FROM users WHERE users.invite_id = invites.id)
               RETURNING 1)
           SELECT count(*) FROM gone"""
    )
    return {"codes": codes, "tokens": tokens, "invites": invites}


def _keys_of(row: Record) -> set[str]:
    """Every storage key a media_attachments row points at (upload and renditions)."""
    renditions: Any = row["renditions"]
    if isinstance(renditions, str):
        renditions = json.loads(renditions)
    keys = {row["upload_key"]} if row["upload_key"] else set()
    for rendition in (renditions or {}).values():
        if isinstance(rendition, dict) and rendition.get("key"):
            keys.add(str(rendition["key"]))
    return keys


async def _unreferenced(keys: set[str], leaving_ids: list[int]) -> set[str]:
    """The keys no other attachment uses: keys name content, so two rows can share one."""
    if not keys:
        return set()
    rows = await db.fetch(
        """SELECT DISTINCT k.key FROM media_attachments m
           CROSS JOIN LATERAL (
               SELECT m.upload_key AS key
               UNION ALL SELECT r.value ->> 'key' FROM jsonb_each(m.renditions) r
           ) k
           WHERE m.id <> ALL($2::bigint[]) AND k.key = ANY($1::text[])""",
        list(keys),
        leaving_ids,
    )
    return keys - {row["key"] for row in rows}


async def _delete_bytes(keys: set[str]) -> None:
    from media.storage import storage_from_settings

    storage = storage_from_settings(get_settings())
    for object_key in sorted(keys):
        try:
            await storage.delete(object_key)
        except (OSError, ValueError) as exc:  # one bad key must not stop the sweep
            log.warning("could not delete media %s: %s", object_key, exc)


async def delete_media_rows(rows: list[Record]) -> int:
    """Delete attachments and whatever bytes of theirs nothing else uses."""
    if not rows:
        return 0
    ids = [row["id"] for row in rows]
    keys = set().union(*(_keys_of(row) for row in rows))
    orphaned = await _unreferenced(keys, ids)
    await db.execute("DELETE FROM media_attachments WHERE id = ANY($1::bigint[])", ids)
    await _delete_bytes(orphaned)
    return len(ids)


async def delete_orphaned_uploads() -> int:
    """Local uploads never attached to a post within a day."""
    rows = await db.fetch(
        """SELECT * FROM media_attachments
           WHERE post_id IS NULL AND remote_url = '' AND created_at < now() - interval '1 day'
           ORDER BY id LIMIT $1""",
        BATCH,
    )
    return await delete_media_rows(rows)


async def _uncache(rows: list[Record]) -> int:
    """Drop cached copies of remote media; the attachment falls back to its remote URL."""
    if not rows:
        return 0
    ids = [row["id"] for row in rows]
    keys = set().union(*(_keys_of(row) for row in rows))
    orphaned = await _unreferenced(keys, ids)
    await db.execute(
        """UPDATE media_attachments SET renditions = '{}'::jsonb, upload_key = ''
           WHERE id = ANY($1::bigint[])""",
        ids,
    )
    await _delete_bytes(orphaned)
    return len(ids)


_CACHED_REMOTE = "remote_url <> '' AND (renditions <> '{}'::jsonb OR upload_key <> '')"


async def trim_remote_media_cache() -> int:
    """Keep the remote media cache within its age and size bounds, oldest first."""
    settings = get_settings()
    removed = 0
    if settings.remote_media_max_age_days > 0:
        rows = await db.fetch(
            f"""SELECT * FROM media_attachments
                WHERE {_CACHED_REMOTE}
                  AND created_at < now() - make_interval(days => $1)
                ORDER BY id LIMIT $2""",
            settings.remote_media_max_age_days,
            BATCH,
        )
        removed += await _uncache(rows)
    if settings.remote_media_max_bytes > 0:
        total = await db.fetchval(
            f"SELECT coalesce(sum(file_size), 0) FROM media_attachments WHERE {_CACHED_REMOTE}"
        )
        while total > settings.remote_media_max_bytes:
            rows = await db.fetch(
                f"SELECT * FROM media_attachments WHERE {_CACHED_REMOTE} ORDER BY id LIMIT $1",
                BATCH,
            )
            if not rows:
                break
            # Only as many of the oldest as it takes to get under the bound.
            excess, chosen = total - settings.remote_media_max_bytes, []
            for row in rows:
                chosen.append(row)
                excess -= row["file_size"]
                total -= row["file_size"]
                if excess <= 0:
                    break
            removed += await _uncache(chosen)
    return removed


async def delete_account_data(account_id: int) -> bool:
    """After a suspension's grace period: delete the account's posts, media, relationships,
    interactions and user; keep a scrubbed account row so its name and URI are never reused.
    Counters of the accounts and posts it touched are recounted. False if not due."""
    async with db.transaction():
        account = await db.fetchrow(
            """SELECT * FROM accounts
               WHERE id = $1 AND suspended_at IS NOT NULL AND data_deleted_at IS NULL
               FOR UPDATE""",
            account_id,
        )
        if account is None:
            return False
        touched_accounts = [
            row["id"]
            for row in await db.fetch(
                """SELECT target_account_id AS id FROM follows WHERE account_id = $1
                   UNION SELECT account_id FROM follows WHERE target_account_id = $1""",
                account_id,
            )
        ]
        touched_posts = [
            row["id"]
            for row in await db.fetch(
                """SELECT post_id AS id FROM favourites WHERE account_id = $1
                   UNION SELECT reblog_of_id FROM posts
                         WHERE account_id = $1 AND reblog_of_id IS NOT NULL
                   UNION SELECT in_reply_to_id FROM posts
                         WHERE account_id = $1 AND in_reply_to_id IS NOT NULL""",
                account_id,
            )
        ]
        media = await db.fetch("SELECT * FROM media_attachments WHERE account_id = $1", account_id)
        media_ids = [row["id"] for row in media]
        orphaned = await _unreferenced(set().union(set(), *(_keys_of(r) for r in media)), media_ids)
        await db.execute("DELETE FROM media_attachments WHERE account_id = $1", account_id)
        await db.execute("DELETE FROM posts WHERE account_id = $1", account_id)
        for table in ("favourites", "bookmarks", "pins"):
            await db.execute(f"DELETE FROM {table} WHERE account_id = $1", account_id)
        for table in ("follows", "follow_requests", "blocks", "mutes"):
            await db.execute(
                f"DELETE FROM {table} WHERE account_id = $1 OR target_account_id = $1",
                account_id,
            )
        await db.execute("DELETE FROM users WHERE account_id = $1", account_id)
        await db.execute(
            """UPDATE accounts SET display_name = '', note = '', note_source = '',
                   avatar_url = '', header_url = '', fields = '[]'::jsonb,
                   followers_count = 0, following_count = 0, statuses_count = 0,
                   private_key_pem = '', data_deleted_at = now()
               WHERE id = $1""",
            account_id,
        )
        await db.execute(
            """UPDATE accounts a SET
                   followers_count = (SELECT count(*) FROM follows WHERE target_account_id = a.id),
                   following_count = (SELECT count(*) FROM follows WHERE account_id = a.id)
               WHERE a.id = ANY($1::bigint[])""",
            touched_accounts,
        )
        await db.execute(
            """UPDATE posts p SET
                   favourites_count = (SELECT count(*) FROM favourites f WHERE f.post_id = p.id),
                   reblogs_count = (SELECT count(*) FROM posts b
                                    WHERE b.reblog_of_id = p.id AND b.deleted_at IS NULL),
                   replies_count = (SELECT count(*) FROM posts r
                                    WHERE r.in_reply_to_id = p.id AND r.deleted_at IS NULL)
               WHERE p.id = ANY($1::bigint[])""",
            touched_posts,
        )
    await _delete_bytes(orphaned)
    return True
