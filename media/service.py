"""Media service: uploads checked at once and turned into stored renditions by a job, alt text and
focus, deleting bytes that nothing else uses, and profile pictures."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import logging
import math
import os
import secrets
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

from asyncpg import Record
from PIL import Image, ImageOps

from media.errors import MediaRejected
from media.processing import (
    EXTENSIONS,
    IMAGE_TYPES,
    TRUNCATED,
    VIDEO_TYPES,
    AnimatedImage,
    ImageLimits,
    MediaKind,
    ProcessedMedia,
    Rendition,
    VideoLimits,
    check_byte_size,
    derivative_profile,
    detect_type,
    is_animation,
    open_image,
    process_image,
    strip_jpeg_metadata,
    strip_webp_metadata,
)
from media.storage import S3Storage, Storage, content_key, storage_from_settings
from media.upload import process_upload
from media.video import check_animation_size, probe_video
from node import accounts, db
from node.errors import Invalid, NotFound, PinholeError
from node.ids import new_id
from node.jobs import enqueue
from node.moderation import is_media_hash_blocked
from node.settings import get_settings

log = logging.getLogger("pinhole.media")

DESCRIPTION_LIMIT = 1500
BLOCKED = "this file is blocked on this node"
# Raw uploads wait here for their job. They still carry the uploader's metadata (GPS), so they
# are never served (see node/api/media_files.py) and their names cannot be guessed.
INCOMING_PREFIX = "incoming/"
PROFILE_PREFIX = "profile/"
# Below the worker's job timeout (600 s), so a long conversion ends as a refusal, not a kill.
JOB_WORK_SECONDS = 540.0
PROFILE_SIZES: Mapping[str, tuple[int, int]] = {"avatar": (400, 400), "header": (1500, 500)}
PROFILE_JPEG_QUALITY = 90
# Advisory lock between code that writes shared bytes (shared) and code that deletes them
# (exclusive); see _confirm_stored.
_BYTES_LOCK = 7_340_020
# Rendition names that a custom thumbnail replaces on a video.
_STILL_NAMES = ("large", "small", "thumbnail", "large_jpeg", "small_jpeg", "thumbnail_jpeg")
_UPLOAD_THUMBNAIL = "upload_thumbnail"


class UploadRefused(PinholeError):
    """An upload we do not keep: a 422 whose message names the problem (and the limit)."""

    status = 422

    def __init__(self, message: str, field: str = "file") -> None:
        super().__init__(message, details={field: message})


class StorageUnavailable(PinholeError):
    """Media storage could not be reached: not the uploader's fault, try again later."""

    status = 503


@asynccontextmanager
async def _storage_unavailable_on_failure(action: str) -> AsyncIterator[None]:
    """For requests: a store that fails (OSError, as both backends raise) is a 503."""
    try:
        yield
    except OSError as error:
        log.warning("media storage failed to %s: %s", action, error)
        raise StorageUnavailable("media storage is unavailable, try again later") from None


# --- limits and storage ------------------------------------------------------------------------


def image_limits() -> ImageLimits:
    settings = get_settings()
    return ImageLimits(max_bytes=settings.image_max_bytes, max_pixels=settings.image_max_pixels)


def video_limits() -> VideoLimits:
    settings = get_settings()
    return VideoLimits(
        max_bytes=settings.video_max_bytes,
        max_seconds=settings.video_max_seconds,
        max_work_seconds=JOB_WORK_SECONDS,
    )


_prepared_buckets: set[int] = set()


async def media_storage() -> Storage:
    """The configured storage; an S3 bucket is created (public-read) on first use."""
    storage = storage_from_settings(get_settings())
    if isinstance(storage, S3Storage) and id(storage) not in _prepared_buckets:
        await storage.ensure_bucket()
        _prepared_buckets.add(id(storage))
    return storage


# --- the check made before answering an upload -----------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckedUpload:
    mime: str
    kind: MediaKind
    sha256: str


def inspect_upload(
    data: bytes, images: ImageLimits = ImageLimits(), videos: VideoLimits = VideoLimits()
) -> CheckedUpload:
    """What an upload is, refusing at once what processing would refuse for sure: an empty,
    oversized, unknown, truncated file, or one whose header declares too many pixels.

    Reads headers and file structure, not pixels (a photo cut short is found from its
    structure; a decode decides only when the structure looks odd), so it costs milliseconds.
    Pure and blocking: call it from a thread.
    """
    if not data:
        raise MediaRejected("file is empty")
    mime = detect_type(data)
    digest = hashlib.sha256(data).hexdigest()
    if mime in VIDEO_TYPES:
        check_byte_size(data, videos.max_bytes)
        probe_video(data, mime, videos)
        return CheckedUpload(mime, "video", digest)
    check_byte_size(data, images.max_bytes)
    image = open_image(data, mime, images)
    if is_animation(image):
        check_animation_size(image, images)
        return CheckedUpload(mime, "gifv", digest)
    _check_complete(data, mime, images)
    return CheckedUpload(mime, "image", digest)


def inspect_still(data: bytes, images: ImageLimits = ImageLimits()) -> CheckedUpload:
    """Like inspect_upload, for a picture that must be a still photo (thumbnails, avatars)."""
    checked = inspect_upload(data, images, VideoLimits(max_bytes=0))
    if checked.kind != "image":
        raise MediaRejected("expected a still picture, got an animation")
    return checked


def _check_complete(data: bytes, mime: str, images: ImageLimits) -> None:
    if _structure_complete(data, mime):
        return
    # Decoders accept some oddities our structure checks do not: a decode decides (at 1/8
    # scale for a JPEG, which libjpeg does for little more than the cost of reading it).
    image = open_image(data, mime, images)
    try:
        if mime == "image/jpeg":
            image.draft(None, (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError, RuntimeError):
        raise MediaRejected(TRUNCATED) from None


def _structure_complete(data: bytes, mime: str) -> bool:
    """Whether the file's own structure says it is whole (each segment, chunk or box ends
    within the file and the end marker is there); no pixel is decoded."""
    try:
        if mime == "image/jpeg":
            strip_jpeg_metadata(data)  # walks every segment up to the end-of-image marker
            return True
        if mime == "image/png":
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                image.verify()  # every chunk and its CRC, up to IEND
            return True
        if mime == "image/webp":
            declared = 8 + int.from_bytes(data[4:8], "little")
            strip_webp_metadata(data)  # every RIFF chunk ends within the file
            return declared <= len(data)
        if mime in ("image/heic", "image/heif", "image/avif"):
            return _iso_boxes_complete(data)
    except (MediaRejected, OSError, SyntaxError, ValueError, EOFError):
        return False
    return False  # GIF: no structure check; small enough to decode


def _iso_boxes_complete(data: bytes) -> bool:
    """Whether the top-level boxes of an ISO media file (HEIC, AVIF) add up to its length."""
    position, size = 0, len(data)
    while position < size:
        if position + 8 > size:
            return False
        length = int.from_bytes(data[position : position + 4], "big")
        if length == 1:
            if position + 16 > size:
                return False
            length = int.from_bytes(data[position + 8 : position + 16], "big")
        elif length == 0:
            return True  # the last box runs to the end of the file
        if length < 8:
            return False
        position += length
    return position == size


def _checked_description(description: str | None) -> str | None:
    if description is None:
        return None
    if len(description) > DESCRIPTION_LIMIT:
        raise Invalid("description", f"is too long (maximum is {DESCRIPTION_LIMIT} characters)")
    return description.strip()


def _checked_focus(focus: tuple[float, float] | None) -> tuple[float, float] | None:
    if focus is None:
        return None
    x, y = focus
    if not (-1 <= x <= 1 and -1 <= y <= 1) or math.isnan(x) or math.isnan(y):
        raise Invalid("focus", 'must be "x,y" with both between -1 and 1')
    return x, y


# --- uploads -----------------------------------------------------------------------------------


async def _inspect(data: bytes, field: str = "file", *, still: bool = False) -> CheckedUpload:
    limits = image_limits()
    try:
        if still:
            return await asyncio.to_thread(inspect_still, data, limits)
        return await asyncio.to_thread(inspect_upload, data, limits, video_limits())
    except MediaRejected as rejected:
        raise UploadRefused(rejected.message, field) from None


def _incoming_key(media_id: int, mime: str, role: str = "file") -> str:
    return f"{INCOMING_PREFIX}{media_id}-{role}-{secrets.token_hex(16)}.{EXTENSIONS[mime]}"


async def _create(
    account_id: int,
    data: bytes,
    *,
    description: str | None,
    focus: tuple[float, float] | None,
    thumbnail: bytes | None,
) -> Record:
    """Check the upload, keep its bytes for the job and add the attachment, 'processing'."""
    description = _checked_description(description) or ""
    focus_x, focus_y = _checked_focus(focus) or (0.0, 0.0)
    checked = await _inspect(data)
    thumb = None
    if thumbnail is not None and checked.kind != "image":  # a photo is its own thumbnail
        thumb = await _inspect(thumbnail, "thumbnail", still=True)
    for digest, field in ((checked.sha256, "file"), (thumb and thumb.sha256, "thumbnail")):
        if digest and await is_media_hash_blocked(digest):
            raise UploadRefused(BLOCKED, field)
    media_id = new_id()
    upload_key = _incoming_key(media_id, checked.mime)
    pending: dict[str, Any] = {}
    written: list[str] = []
    async with _storage_unavailable_on_failure("keep an upload"):
        storage = await media_storage()
        try:
            await storage.put(upload_key, data, checked.mime)
            written.append(upload_key)
            if thumb is not None and thumbnail is not None:
                thumb_key = _incoming_key(media_id, thumb.mime, "thumbnail")
                await storage.put(thumb_key, thumbnail, thumb.mime)
                written.append(thumb_key)
                pending[_UPLOAD_THUMBNAIL] = {"key": thumb_key, "mime": thumb.mime}
        except BaseException:
            await _delete_keys(storage, written)
            raise
    try:
        return await db.fetchrow(
            """INSERT INTO media_attachments (id, account_id, type, state, description, focus_x,
                   focus_y, mime_type, file_size, sha256, upload_key, renditions)
               VALUES ($1, $2, $3, 'processing', $4, $5, $6, $7, $8, $9, $10, $11::jsonb)
               RETURNING *""",
            media_id,
            account_id,
            checked.kind,
            description,
            focus_x,
            focus_y,
            checked.mime,
            len(data),
            checked.sha256,
            upload_key,
            json.dumps(pending),
        )
    except BaseException:
        await _delete_keys(storage, written)
        raise


async def upload_media(
    account_id: int,
    data: bytes,
    *,
    description: str | None = None,
    focus: tuple[float, float] | None = None,
    thumbnail: bytes | None = None,
) -> Record:
    """An upload checked and kept: the attachment is 'processing' until its job is done."""
    row = await _create(account_id, data, description=description, focus=focus, thumbnail=thumbnail)
    await enqueue("process_media", row["id"], job_id=f"process_media:{row['id']}")
    return row


async def upload_media_now(
    account_id: int,
    data: bytes,
    *,
    description: str | None = None,
    focus: tuple[float, float] | None = None,
    thumbnail: bytes | None = None,
) -> Record:
    """An upload processed before returning (the v1 API): the attachment ready, or a refusal
    that leaves nothing behind."""
    row = await _create(account_id, data, description=description, focus=focus, thumbnail=thumbnail)
    try:
        async with _storage_unavailable_on_failure("store renditions"):
            done = await process_media(row["id"], upload=data)
    except BaseException:
        # Best effort: what storage keeps of a failed attempt the orphan sweep removes.
        with contextlib.suppress(OSError):
            await delete_attachments([row["id"]])
        raise
    if done is None:
        raise NotFound()
    if done["state"] != "ready":
        await delete_attachments([done["id"]])
        raise UploadRefused(done["error"] or "file could not be processed")
    return done


# --- processing (the job) ----------------------------------------------------------------------

_cpu_slots: dict[str, asyncio.Semaphore] = {}


@asynccontextmanager
async def _cpu_slot(kind: str) -> AsyncIterator[None]:
    """Photos take one slot per core; conversions of videos one slot between them, so a long
    video never holds up everyone's photos."""
    name = "image" if kind == "image" else "video"
    slot = _cpu_slots.get(name)
    if slot is None:
        size = max(1, os.cpu_count() or 1) if name == "image" else 1
        slot = _cpu_slots[name] = asyncio.Semaphore(size)
    async with slot:
        yield


def _renditions_of(row: Mapping[str, Any]) -> dict[str, Any]:
    raw = row["renditions"]
    if isinstance(raw, str):
        raw = json.loads(raw or "{}")
    return dict(raw or {})


def _incoming_keys(row: Mapping[str, Any]) -> list[str]:
    keys = [row["upload_key"]] if row["upload_key"] else []
    thumb = _renditions_of(row).get(_UPLOAD_THUMBNAIL)
    if isinstance(thumb, dict) and thumb.get("key"):
        keys.append(str(thumb["key"]))
    return keys


async def get_row(media_id: int) -> Record | None:
    return await db.fetchrow("SELECT * FROM media_attachments WHERE id = $1", media_id)


def _process_blocking(
    data: bytes, thumbnail: bytes | None, images: ImageLimits, videos: VideoLimits
) -> tuple[ProcessedMedia, ProcessedMedia | None]:
    processed = process_upload(data, images, videos)
    poster = None
    if thumbnail is not None and processed.kind != "image":
        try:
            poster = process_image(thumbnail, images)
        except AnimatedImage:
            raise MediaRejected("thumbnail must be a still picture") from None
    return processed, poster


async def process_media(media_id: int, *, upload: bytes | None = None) -> Record | None:
    """Turn a 'processing' attachment into a 'ready' one: the scrubbed original, the sizes and a
    blurhash stored under content keys; or into a 'failed' one with the reason, keeping no
    bytes. Anything not 'processing' is left alone, so the job can run twice. Storage
    failures raise OSError (the job tries again later)."""
    row = await get_row(media_id)
    if row is None or row["state"] != "processing":
        return row
    storage = await media_storage()
    thumb_key = (_renditions_of(row).get(_UPLOAD_THUMBNAIL) or {}).get("key")
    try:
        data = upload if upload is not None else await storage.get(row["upload_key"])
        thumbnail = await storage.get(thumb_key) if thumb_key else None
    except KeyError:
        return await fail_media(media_id, "the uploaded file is gone, upload it again")
    try:
        async with _cpu_slot(row["type"]):
            processed, poster = await asyncio.to_thread(
                _process_blocking, data, thumbnail, image_limits(), video_limits()
            )
    except MediaRejected as rejected:
        return await fail_media(media_id, rejected.message)
    except Exception:  # a decoder's bug on hostile input must not leave the upload hanging
        log.exception("processing media %s failed", media_id)
        return await fail_media(media_id, "file could not be processed")
    original_digest = hashlib.sha256(processed.original.data).hexdigest()
    if await is_media_hash_blocked(original_digest):
        return await fail_media(media_id, BLOCKED)
    return await _finish(row, processed, poster, storage)


def _stored_renditions(
    processed: ProcessedMedia, poster: ProcessedMedia | None
) -> tuple[dict[str, dict[str, Any]], dict[str, Rendition]]:
    """(renditions as the row records them, the bytes to write by key)."""
    chosen = dict(processed.renditions)
    if poster is not None:
        # All of the frame's stills go, including any the custom picture does not have (its
        # large JPEG, when it is a JPEG or PNG small enough to stand in for it).
        chosen = {name: r for name, r in chosen.items() if name not in _STILL_NAMES}
        chosen.update({n: r for n, r in poster.renditions.items() if n in _STILL_NAMES})
    blobs: dict[str, Rendition] = {}
    recorded: dict[str, dict[str, Any]] = {}
    for name, rendition in chosen.items():
        key = content_key(rendition.data, rendition.extension)
        blobs[key] = rendition
        recorded[name] = {
            "key": key,
            "mime": rendition.mime,
            "width": rendition.width,
            "height": rendition.height,
            "size": len(rendition.data),
        }
    if processed.kind in ("video", "gifv"):
        # The still a player shows before it starts (the entity's preview_url).
        recorded["poster"] = recorded["large"]
        if "large_jpeg" in recorded:
            recorded["poster_jpeg"] = recorded["large_jpeg"]
    return recorded, blobs


async def _put_all(storage: Storage, blobs: Mapping[str, Rendition]) -> None:
    await asyncio.gather(
        *(storage.put(key, rendition.data, rendition.mime) for key, rendition in blobs.items())
    )


async def _deletion_count() -> int:
    row = await db.fetchrow("SELECT last_value, is_called FROM media_byte_deletions")
    return int(row["last_value"]) if row["is_called"] else 0


async def _confirm_stored(storage: Storage, blobs: Mapping[str, Rendition], count: int) -> None:
    """Bytes are shared by key, so a deletion that ran while we were writing (and did not yet
    see our reference) may have taken some: if any deletion ran since `count`, write back
    what is missing. Deleters hold the lock exclusively until they have counted themselves,
    and our reference is committed before we take it, so no deletion slips between."""
    async with db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock_shared($1)", _BYTES_LOCK)
        if await _deletion_count() == count:
            return
        for key, rendition in blobs.items():
            if not await storage.exists(key):
                await storage.put(key, rendition.data, rendition.mime)


async def _finish(
    row: Record, processed: ProcessedMedia, poster: ProcessedMedia | None, storage: Storage
) -> Record | None:
    recorded, blobs = _stored_renditions(processed, poster)
    count = await _deletion_count()
    await _put_all(storage, blobs)
    # The raw upload still carries its metadata: gone before anyone can see 'ready'. (Should
    # we stop right here, a retry finds no upload and marks the attachment failed.)
    await _delete_keys(storage, _incoming_keys(row))
    original = processed.original
    updated = await db.fetchrow(
        """UPDATE media_attachments
           SET state = 'ready', error = '', type = $2, mime_type = $3, file_size = $4,
               renditions = $5::jsonb, blurhash = $6, width = $7, height = $8, duration = $9,
               upload_key = ''
           WHERE id = $1 AND state = 'processing'
           RETURNING *""",
        row["id"],
        processed.kind,
        original.mime,
        len(original.data),
        json.dumps(recorded),
        (poster or processed).blurhash,
        original.width,
        original.height,
        processed.duration,
    )
    if updated is not None:
        await _confirm_stored(storage, blobs, count)
    if updated is None:
        # Deleted (or finished by another run) while we worked: take back what we wrote.
        await _delete_unreferenced(storage, set(blobs))
        return await get_row(row["id"])
    return updated


async def fail_media(media_id: int, error: str) -> Record | None:
    """Mark a processing attachment failed with the reason, its uploaded bytes gone first."""
    row = await get_row(media_id)
    if row is None or row["state"] != "processing":
        return row
    await _delete_keys(await media_storage(), _incoming_keys(row))
    return await db.fetchrow(
        """UPDATE media_attachments SET state = 'failed', error = $2, upload_key = '',
               renditions = '{}'::jsonb
           WHERE id = $1 AND state = 'processing' RETURNING *""",
        media_id,
        error,
    ) or await get_row(media_id)


# --- reading, describing, deleting -------------------------------------------------------------


async def own_media(account_id: int, media_id: int | None) -> Record:
    """One's own attachment; anyone else's is not found."""
    row = await get_row(media_id) if media_id is not None else None
    if row is None or row["account_id"] != account_id:
        raise NotFound()
    return row


_ATTACHED = "is attached to a post: change its alt text and focus by editing the post"


async def describe_media(
    account_id: int,
    media_id: int | None,
    *,
    description: str | None = None,
    focus: tuple[float, float] | None = None,
) -> Record:
    """New alt text and/or focal point for an attachment not yet on a post (on a post they
    are part of the post's edit history: PUT /api/v1/statuses/:id changes them there)."""
    row = await own_media(account_id, media_id)
    description = _checked_description(description)
    focus = _checked_focus(focus)
    updated = await db.fetchrow(
        """UPDATE media_attachments SET description = coalesce($2, description),
               focus_x = coalesce($3, focus_x), focus_y = coalesce($4, focus_y)
           WHERE id = $1 AND post_id IS NULL RETURNING *""",
        row["id"],
        description,
        focus[0] if focus else None,
        focus[1] if focus else None,
    )
    if updated is None:
        raise Invalid("media", _ATTACHED)
    return updated


async def delete_unattached_media(account_id: int, media_id: int | None) -> None:
    """Delete one's own upload that is on no post, with its bytes unless others use them."""
    row = await own_media(account_id, media_id)
    deleted = []
    if row["post_id"] is None:
        async with _storage_unavailable_on_failure("delete an upload"):
            deleted = await delete_attachments([row["id"]], unattached_only=True)
    if not deleted:
        raise Invalid("media", "is attached to a post: delete the post instead")


async def delete_media_of_post(post_id: int) -> int:
    """After a post is deleted: its attachments and the bytes no other attachment uses."""
    ids = await db.fetch(
        """SELECT m.id FROM media_attachments m JOIN posts p ON p.id = m.post_id
           WHERE m.post_id = $1 AND p.deleted_at IS NOT NULL""",
        post_id,
    )
    return len(await delete_attachments([row["id"] for row in ids]))


def _keys_of(row: Mapping[str, Any]) -> set[str]:
    keys = set(_incoming_keys(row))
    for rendition in _renditions_of(row).values():
        if isinstance(rendition, dict) and rendition.get("key"):
            keys.add(str(rendition["key"]))
    return keys


async def _referenced(keys: Iterable[str]) -> set[str]:
    """Which of these keys some attachment still uses (through the GIN index of keys)."""
    keys = sorted(keys)
    if not keys:
        return set()
    rows = await db.fetch(
        """SELECT DISTINCT k.key
           FROM media_attachments m
           CROSS JOIN LATERAL jsonb_array_elements_text(
               jsonb_path_query_array(m.renditions, '$.*.key')) AS k(key)
           WHERE jsonb_path_query_array(m.renditions, '$.*.key') ?| $1::text[]
             AND k.key = ANY($1::text[])""",
        keys,
    )
    return {row["key"] for row in rows}


async def delete_attachments(ids: list[int], *, unattached_only: bool = False) -> list[Record]:
    """Delete attachments and whatever bytes of theirs no remaining attachment uses. Returns
    the rows deleted."""
    if not ids:
        return []
    storage = await media_storage()
    async with db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock($1)", _BYTES_LOCK)
        deleted = await db.fetch(
            f"""DELETE FROM media_attachments WHERE id = ANY($1::bigint[])
                {"AND post_id IS NULL" if unattached_only else ""} RETURNING *""",
            ids,
        )
        keys = set().union(*(_keys_of(row) for row in deleted)) if deleted else set()
        await _delete_locked(storage, keys - await _referenced(keys))
    return deleted


async def _delete_unreferenced(storage: Storage, keys: set[str]) -> None:
    async with db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock($1)", _BYTES_LOCK)
        await _delete_locked(storage, keys - await _referenced(keys))


async def _delete_locked(storage: Storage, keys: Iterable[str]) -> None:
    """Delete bytes while holding the lock exclusively, then count the deletion (last, so a
    writer that sees the old count knows no deletion of ours can still be under way)."""
    keys = sorted(keys)
    if not keys:
        return
    await _delete_keys(storage, keys)
    await db.fetchval("SELECT nextval('media_byte_deletions')")


async def _delete_keys(storage: Storage, keys: Iterable[str]) -> None:
    for key in keys:
        try:
            await storage.delete(key)
        except (OSError, ValueError) as error:  # one bad key must not stop the others
            log.warning("could not delete media %s: %s", key, error)


# --- profile pictures --------------------------------------------------------------------------


def render_profile_picture(
    data: bytes, kind: str, images: ImageLimits = ImageLimits()
) -> Rendition:
    """An avatar (400 px square) or header (1500x500) cropped from the middle of a photo,
    upright, never upscaled, without metadata: JPEG, or PNG when it has transparency. An
    animation gives its first frame. Pure and blocking."""
    width, height = PROFILE_SIZES[kind]
    check_byte_size(data, images.max_bytes)
    mime = detect_type(data)
    if mime not in IMAGE_TYPES:
        raise MediaRejected(f"expected a picture, got {mime}")
    image = open_image(data, mime, images)
    if mime == "image/jpeg":
        # Decode at the smallest DCT scale that still covers the crop.
        scale = max(width, height) / min(image.size)
        image.draft(None, (math.ceil(image.width * scale), math.ceil(image.height * scale)))
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError, RuntimeError):
        raise MediaRejected(TRUNCATED) from None
    icc_profile = derivative_profile(image.info.get("icc_profile"))
    # A broken EXIF block must not stop the picture; it is dropped anyway.
    with contextlib.suppress(Exception):
        image = ImageOps.exif_transpose(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    image = image.convert("RGBA" if has_alpha else "RGB")
    image.info = {}
    picture = _crop_to(image, width, height)
    out = io.BytesIO()
    if has_alpha:
        picture.save(out, "PNG", optimize=True, icc_profile=icc_profile)
        return Rendition(out.getvalue(), "image/png", picture.width, picture.height)
    picture.save(
        out,
        "JPEG",
        quality=PROFILE_JPEG_QUALITY,
        optimize=True,
        icc_profile=icc_profile,
        comment=b"",
    )
    return Rendition(out.getvalue(), "image/jpeg", picture.width, picture.height)


def _crop_to(image: Image.Image, width: int, height: int) -> Image.Image:
    """The largest centred part of the aspect width:height, shrunk to width x height if bigger."""
    aspect = width / height
    if image.width / image.height > aspect:
        kept = max(1, round(image.height * aspect))
        left = (image.width - kept) // 2
        image = image.crop((left, 0, left + kept, image.height))
    else:
        kept = max(1, round(image.width / aspect))
        top = (image.height - kept) // 2
        image = image.crop((0, top, image.width, top + kept))
    if image.width > width:
        image = image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return image


def _profile_key(url: str | None) -> str | None:
    base = get_settings().public_media_url + "/"
    if url and url.startswith(base + PROFILE_PREFIX):
        return url[len(base) :]
    return None


async def _store_profile_picture(kind: str, data: bytes) -> tuple[str, Rendition]:
    limits = image_limits()
    if await is_media_hash_blocked(hashlib.sha256(data).hexdigest()):
        raise UploadRefused(BLOCKED, kind)
    try:
        rendition = await asyncio.to_thread(render_profile_picture, data, kind, limits)
    except MediaRejected as rejected:
        raise UploadRefused(f"{kind}: {rejected.message}", kind) from None
    key = PROFILE_PREFIX + content_key(rendition.data, rendition.extension)
    async with _storage_unavailable_on_failure(f"store an {kind}"):
        await (await media_storage()).put(key, rendition.data, rendition.mime)
    return key, rendition


async def update_profile(
    account_id: int,
    changes: accounts.ProfileChanges,
    *,
    avatar: bytes | None = None,
    header: bytes | None = None,
) -> Record:
    """accounts.update_profile with new profile pictures: each is cropped, scrubbed and stored,
    its public URL set, and the picture it replaces deleted unless another account uses it."""
    if avatar is None and header is None:
        return await accounts.update_profile(account_id, changes)
    before = await accounts.get_account(account_id)
    async with _storage_unavailable_on_failure("reach the media store"):
        storage = await media_storage()
    count = await _deletion_count()
    blobs: dict[str, Rendition] = {}
    for kind, data in (("avatar", avatar), ("header", header)):
        if data is not None:
            key, rendition = await _store_profile_picture(kind, data)
            blobs[key] = rendition
            changes = replace(changes, **{f"{kind}_url": storage.url(key)})
    row = await accounts.update_profile(account_id, changes)
    async with _storage_unavailable_on_failure("store a profile picture"):
        await _confirm_stored(storage, blobs, count)
    for column in ("avatar_url", "header_url"):
        replaced = _profile_key(before[column])
        if replaced is not None and before[column] != row[column]:
            await _delete_profile_picture(storage, replaced, before[column])
    return row


async def _delete_profile_picture(storage: Storage, key: str, url: str) -> None:
    async with db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock($1)", _BYTES_LOCK)
        used = await db.fetchval(
            "SELECT true FROM accounts WHERE avatar_url = $1 OR header_url = $1 LIMIT 1", url
        )
        if not used:
            await _delete_locked(storage, [key])
