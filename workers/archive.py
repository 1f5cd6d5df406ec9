"""The job that builds a requested ActivityPub archive and keeps it in private storage."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from federation.archive import build_archive
from media.storage import storage_from_settings
from node import db
from node.settings import get_settings

log = logging.getLogger("pinhole.archive")

ARCHIVE_PREFIX = "exports/"


async def build_account_archive(ctx: dict[str, Any], account_id: int) -> None:
    """Builds the account's pending archive; earlier archives' files are removed once it is
    ready, so a person keeps one archive at a time."""
    pending = await db.fetchrow(
        """SELECT id FROM account_archives WHERE account_id = $1 AND state = 'pending'
           ORDER BY id DESC LIMIT 1""",
        account_id,
    )
    if pending is None:
        return
    storage = storage_from_settings(get_settings())
    # Random, so the file cannot be found by guessing; it is served only to its owner anyway.
    key = f"{ARCHIVE_PREFIX}{account_id}-{secrets.token_urlsafe(24)}.zip"
    try:
        data = await build_archive(account_id)
        await storage.put(key, data, "application/zip")
    except LookupError:
        await db.execute(
            "UPDATE account_archives SET state = 'failed', finished_at = now() WHERE id = $1",
            pending["id"],
        )
        return
    older = await db.fetch(
        """SELECT id, storage_key FROM account_archives
           WHERE account_id = $1 AND id <> $2 AND state <> 'pending'""",
        account_id,
        pending["id"],
    )
    await db.execute(
        """UPDATE account_archives SET state = 'ready', storage_key = $2, byte_size = $3,
           finished_at = now() WHERE id = $1""",
        pending["id"],
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
    log.info("archive of account %s ready: %d bytes", account_id, len(data))


FUNCTIONS = [build_account_archive]
