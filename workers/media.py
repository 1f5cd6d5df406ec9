"""Media jobs: process an upload into its renditions, and remove a deleted post's media."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from arq import Retry

from media import service

log = logging.getLogger("pinhole.media")

# Storage that cannot be reached is retried this many times (5 s, 10 s, 15 s apart) before
# the upload is marked failed; the worker's own max_tries (5) is above it.
STORAGE_TRIES = 4
# Below the worker's job timeout (600 s), which would end the job without a word: waiting for a
# processing slot counts too. Conversion itself stops at service.JOB_WORK_SECONDS.
JOB_SECONDS = 580


async def process_media(ctx: dict[str, Any], media_id: int) -> None:
    """After POST /api/v2/media: the attachment becomes 'ready' or 'failed'."""
    budget = asyncio.timeout(JOB_SECONDS)
    try:
        async with budget:
            await service.process_media(media_id)
    except OSError as error:  # TimeoutError is one too
        if budget.expired():
            await service.fail_media(media_id, "processing took too long, try a shorter file")
            return
        attempt = int(ctx.get("job_try") or 1)
        if attempt < STORAGE_TRIES:
            log.warning("media %s: storage failed (%s), trying again", media_id, error)
            raise Retry(defer=5 * attempt) from error
        await service.fail_media(media_id, "media storage is unavailable, upload the file again")


async def delete_post_media(ctx: dict[str, Any], post_id: int) -> None:
    """post.deleted: the post's attachments go, and the bytes no other attachment uses."""
    try:
        await service.delete_media_of_post(post_id)
    except OSError as error:  # the store is unreachable: the rows stay until it answers
        attempt = int(ctx.get("job_try") or 1)
        log.warning("media of post %s: storage failed (%s)", post_id, error)
        if attempt < STORAGE_TRIES:
            raise Retry(defer=60 * attempt) from error
        raise


FUNCTIONS = [process_media, delete_post_media]
