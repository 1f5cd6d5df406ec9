"""The job that builds a requested ActivityPub archive and keeps it in private storage."""

from __future__ import annotations

import logging
from typing import Any

from federation.archive import build_archive
from node import archives

log = logging.getLogger("pinhole.archive")


async def build_account_archive(ctx: dict[str, Any], account_id: int) -> None:
    """Builds the account's pending archive and keeps it (node.archives)."""
    archive_id = await archives.pending_archive_id(account_id)
    if archive_id is None:
        return
    try:
        data = await build_archive(account_id)
    except LookupError:
        await archives.archive_failed(archive_id)
        return
    await archives.keep_archive(archive_id, account_id, data)
    log.info("archive of account %s ready: %d bytes", account_id, len(data))


FUNCTIONS = [build_account_archive]
