"""Requests for a person's ActivityPub archive: recorded here, built by a job, kept private."""

from __future__ import annotations

import secrets

from asyncpg import Record

from media.storage import storage_from_settings
from node import db
from node.errors import NotFound
from node.ids import new_id
from node.jobs import enqueue
from node.settings import get_settings

BUILD_JOB = "build_account_archive"
ARCHIVE_PREFIX = "exports/"


async def request_archive(account_id: int) -> Record:
    """A pending archive for the account: the one already being built, else a new request."""
    pending = await db.fetchrow(
        """SELECT * FROM account_archives WHERE account_id = $1 AND state = 'pending'
           ORDER BY id DESC LIMIT 1""",
        account_id,
    )
    if pending is not None:
        return pending
    row = await db.fetchrow(
        "INSERT INTO account_archives (id, account_id) VALUES ($1, $2) RETURNING *",
        new_id(),
        account_id,
    )
    await enqueue(BUILD_JOB, account_id)
    return row


async def latest_archive(account_id: int) -> Record:
    row = await db.fetchrow(
        "SELECT * FROM account_archives WHERE account_id = $1 ORDER BY id DESC LIMIT 1",
        account_id,
    )
    if row is None:
        raise NotFound()
    return row


async def ready_archive_zip(archive_id: int, account_id: int) -> bytes:
    """The owner's finished archive, as zip bytes; NotFound for anyone else's (never revealing
    it exists) and for one whose bytes are gone from storage."""
    storage_key = await db.fetchval(
        """SELECT storage_key FROM account_archives WHERE id = $1 AND account_id = $2
           AND state = 'ready'""",
        archive_id,
        account_id,
    )
    if storage_key is None:
        raise NotFound()
    try:
        return await storage_from_settings(get_settings()).get(storage_key)
    except KeyError as missing:
        raise NotFound() from missing


async def pending_archive_id(account_id: int) -> int | None:
    """The account's archive waiting to be built, if any."""
    return await db.fetchval(
        """SELECT id FROM account_archives WHERE account_id = $1 AND state = 'pending'
           ORDER BY id DESC LIMIT 1""",
        account_id,
    )


async def keep_archive(archive_id: int, account_id: int, data: bytes) -> None:
    """Store a built archive privately and mark it ready; earlier archives' files are removed,
    so a person keeps one archive at a time."""
    storage = storage_from_settings(get_settings())
    # Random, so the file cannot be found by guessing; it is served only to its owner anyway.
    key = f"{ARCHIVE_PREFIX}{account_id}-{secrets.token_urlsafe(24)}.zip"
    await storage.put(key, data, "application/zip")
    older = await db.fetch(
        """SELECT id, storage_key FROM account_archives
           WHERE account_id = $1 AND id <> $2 AND state <> 'pending'""",
        account_id,
        archive_id,
    )
    await db.execute(
        """UPDATE account_archives SET state = 'ready', storage_key = $2, byte_size = $3,
           finished_at = now() WHERE id = $1""",
        archive_id,
        key,
        len(data),
    )
    for row in older:
        if row["storage_key"]:
            await storage.delete(row["storage_key"])
    if older:
        await db.execute(
            "DELETE FROM account_archives WHERE id = ANY($1::bigint[])", [r["id"] for r in older]
        )


async def archive_failed(archive_id: int) -> None:
    await db.execute(
        "UPDATE account_archives SET state = 'failed', finished_at = now() WHERE id = $1",
        archive_id,
    )
