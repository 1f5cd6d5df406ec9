"""Media bytes served by the node itself (local backend): type, length, a strong ETag, immutable
caching and single byte ranges for video seeking. With S3 the path redirects to the bucket."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
from litestar import Request, Response, route
from litestar.enums import HttpMethod
from litestar.response import Redirect, Stream

from media.processing import EXTENSIONS
from media.service import INCOMING_PREFIX
from media.storage import IMMUTABLE_CACHE_CONTROL, LocalStorage, checked_key, storage_from_settings
from node.errors import NotFound
from node.settings import get_settings

CHUNK_BYTES = 256 * 1024
CONTENT_TYPES = {extension: mime for mime, extension in EXTENSIONS.items()}
# Never served: raw uploads (still carrying their metadata), the readiness probe's file and
# account archives (node/api/archive.py serves those to their owner only).
HIDDEN_PREFIXES = (INCOMING_PREFIX, "health/", "exports/")
_CONTENT_DIGEST = re.compile(r"([0-9a-f]{64})\.[a-z0-9]{1,8}$")


class RangeNotSatisfiable(Exception):
    """A Range header we cannot answer: 416 with the size of the file."""


def requested_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) bytes, inclusive, of a single `bytes=` range. None means send the
    whole file: no Range, another unit, or several ranges (answering those with the whole
    file is allowed, and players ask for one). RangeNotSatisfiable for a malformed range or
    one that starts past the end."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes":
        return None
    if "," in spec:
        return None
    first, dash, last = (part.strip() for part in spec.strip().partition("-"))
    if not dash or (first and not first.isdigit()) or (last and not last.isdigit()):
        raise RangeNotSatisfiable(header)
    if not first:  # a suffix: the last N bytes
        if not last or int(last) == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return max(0, size - int(last)), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(header)
    return start, min(end, size - 1)


def _etag_of(key: str, path: Path) -> str:
    """Keys name their content: the digest in the name is a strong ETag. Other files (none
    are written today) get one from their size and time of writing."""
    found = _CONTENT_DIGEST.search(key)
    if found:
        return f'"{found.group(1)}"'
    stat = path.stat()
    return f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags


def _local_file(storage: LocalStorage, key: str) -> Path:
    """The file of a key, or NotFound: never outside the media folder, never a hidden one."""
    try:
        key = checked_key(key)
    except ValueError:
        raise NotFound() from None
    if key.startswith(HIDDEN_PREFIXES):
        raise NotFound()
    root = storage.root.resolve()
    path = (root / key).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound()
    return path


async def _chunks(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as file:
        await file.seek(start)
        remaining = length
        while remaining > 0:
            chunk = await file.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


@route("/media/{key:path}", http_method=[HttpMethod.GET, HttpMethod.HEAD])
async def media_file(request: Request, key: str) -> Response:
    key = key.lstrip("/")
    settings = get_settings()
    storage = storage_from_settings(settings)
    if not isinstance(storage, LocalStorage):
        # Media lives in a bucket (URLs point there); old links to the node still work.
        if key.startswith(HIDDEN_PREFIXES):
            raise NotFound()
        return Redirect(f"{settings.s3_bucket_url}/{key}", status_code=301)
    path = _local_file(storage, key)
    size = path.stat().st_size
    etag = _etag_of(key, path)
    headers = {
        "ETag": etag,
        "Cache-Control": IMMUTABLE_CACHE_CONTROL,
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
    }
    media_type = CONTENT_TYPES.get(path.suffix.lstrip(".").lower(), "application/octet-stream")
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(b"", status_code=304, headers=headers)
    # If-Range: a range of the version the client holds, else the whole (current) file.
    if_range = request.headers.get("if-range")
    range_header = None if if_range and if_range.strip() != etag else request.headers.get("range")
    try:
        wanted = requested_range(range_header, size)
    except RangeNotSatisfiable:
        return Response(
            b"",
            status_code=416,
            headers={**headers, "Content-Range": f"bytes */{size}"},
            media_type=media_type,
        )
    start, end = wanted if wanted is not None else (0, size - 1)
    length = max(0, end - start + 1)
    headers["Content-Length"] = str(length)
    status = 200
    if wanted is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if request.method == HttpMethod.HEAD or length == 0:
        return Response(b"", status_code=status, headers=headers, media_type=media_type)
    return Stream(
        _chunks(path, start, length), status_code=status, headers=headers, media_type=media_type
    )


ROUTES = [media_file]
