"""Remote media stays at its origin; its thumbnails are cached through our storage backend so
feeds do not hotlink every grid image (the cache is trimmed by age and size elsewhere)."""

from __future__ import annotations

import asyncio
import json
import logging

from federation.client import FetchError, signed_get
from federation.vocabulary import host_of
from media.errors import MediaRejected
from media.processing import AnimatedImage, ImageLimits, process_image
from media.storage import content_key, storage_from_settings
from node import db
from node.jobs import enqueue
from node.settings import get_settings

log = logging.getLogger("pinhole.federation.media")

CACHE_JOB = "cache_remote_media"
CACHED_RENDITIONS = ("small", "thumbnail")  # what grids and previews show


async def queue_thumbnails(media_ids: list[int]) -> None:
    for media_id in media_ids:
        await enqueue(CACHE_JOB, media_id, job_id=f"remote-media:{media_id}")


async def _media_rejected(url: str) -> bool:
    """A domain whose media an admin chose not to keep (domain block with reject_media)."""
    return bool(
        await db.fetchval(
            "SELECT reject_media OR severity = 'suspend' FROM pinhole_domain_block($1)",
            host_of(url).split(":")[0],
        )
    )


async def cache_thumbnails(media_id: int) -> str:
    """Fetch a remote image once, keep its small and thumbnail renditions in our storage, and
    fill in what the sender left out (size, blurhash). Idempotent; failures leave the remote
    URL in use."""
    row = await db.fetchrow(
        """SELECT * FROM media_attachments
           WHERE id = $1 AND remote_url <> '' AND renditions = '{}'::jsonb""",
        media_id,
    )
    if row is None or row["type"] != "image":
        return "nothing to cache"
    if await _media_rejected(row["remote_url"]):
        return "media from this domain is rejected"
    settings = get_settings()
    try:
        _, data = await signed_get(
            row["remote_url"], accept="image/*", max_bytes=settings.image_max_bytes
        )
        limits = ImageLimits(
            max_bytes=settings.image_max_bytes, max_pixels=settings.image_max_pixels
        )
        processed = await asyncio.to_thread(process_image, data, limits)
    except FetchError as exc:
        return f"not cached: {exc.message}"
    except (MediaRejected, AnimatedImage) as exc:
        return f"not cached: {exc}"
    storage = storage_from_settings(settings)
    renditions, size = {}, 0
    for name in CACHED_RENDITIONS:
        rendition = processed.renditions[name]
        key = content_key(rendition.data, rendition.extension)
        await storage.put(key, rendition.data, rendition.mime)
        renditions[name] = {
            "key": key,
            "mime": rendition.mime,
            "width": rendition.width,
            "height": rendition.height,
            "size": len(rendition.data),
        }
        size += len(rendition.data)
    await db.execute(
        """UPDATE media_attachments
           SET renditions = $2::jsonb, file_size = $3, blurhash = coalesce(blurhash, $4),
               width = coalesce(width, $5), height = coalesce(height, $6)
           WHERE id = $1 AND renditions = '{}'::jsonb""",
        media_id,
        json.dumps(renditions),
        size,
        processed.blurhash,
        processed.width,
        processed.height,
    )
    return f"cached {size} bytes"
