"""Media edges: uploads (v2 answered at once and processed by a job, v1 processed before the
answer), reading, describing and deleting one's uploads, in the Mastodon API's shapes."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post, put

from media import service
from node.api import entities
from node.api.authn import require_user
from node.api.params import read_params, text, upload
from node.errors import Invalid
from node.ids import parse_id

# Far above the alt text limit, so that the domain's rule (and its message) decides.
MAX_FIELD = 100_000


async def read_upload(params: dict[str, Any], name: str) -> bytes | None:
    """The bytes of a multipart file field, or None when it was not sent."""
    file = upload(params, name)
    return None if file is None else await file.read()


def _focus(params: dict[str, Any]) -> tuple[float, float] | None:
    """A focal point "x,y" (Mastodon's form), or None when not given; the range is the
    domain's rule."""
    raw = params.get("focus")
    if raw in (None, ""):
        return None
    try:
        x, y = (float(part) for part in str(raw).split(","))
    except ValueError:
        raise Invalid("focus", 'must be "x,y" with both between -1 and 1') from None
    return x, y


async def _upload_fields(request: Request) -> tuple[int, bytes, dict[str, Any]]:
    identity = await require_user(request, "write:media")
    params = await read_params(request)
    data = await read_upload(params, "file")
    if data is None:
        raise Invalid("file", "is missing: send the photo or video as the multipart field file")
    fields = {
        "description": text(params, "description", max_length=MAX_FIELD),
        "focus": _focus(params),
        "thumbnail": await read_upload(params, "thumbnail"),
    }
    return identity.account_id, data, fields


@post("/api/v2/media", status_code=202)
async def upload_media(request: Request) -> dict[str, Any]:
    """202 with the attachment (`url` null) while a job processes it."""
    account_id, data, fields = await _upload_fields(request)
    return entities.media_attachment(await service.upload_media(account_id, data, **fields))


@post("/api/v1/media", status_code=200)
async def upload_media_v1(request: Request) -> dict[str, Any]:
    """The older, synchronous upload: the answer waits until the attachment is ready."""
    account_id, data, fields = await _upload_fields(request)
    return entities.media_attachment(await service.upload_media_now(account_id, data, **fields))


@get("/api/v1/media/{media_id:str}")
async def show_media(request: Request, media_id: str) -> Response:
    """200 when ready, 206 while processing (as Mastodon), 422 with the reason when it failed."""
    identity = await require_user(request, "write:media")
    row = await service.own_media(identity.account_id, parse_id(media_id))
    if row["state"] == "failed":
        return Response({"error": row["error"] or "file could not be processed"}, status_code=422)
    status = 206 if row["state"] == "processing" else 200
    return Response(entities.media_attachment(row), status_code=status)


@put("/api/v1/media/{media_id:str}")
async def update_media(request: Request, media_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:media")
    params = await read_params(request)
    row = await service.describe_media(
        identity.account_id,
        parse_id(media_id),
        description=text(params, "description", max_length=MAX_FIELD),
        focus=_focus(params),
    )
    return entities.media_attachment(row)


@delete("/api/v1/media/{media_id:str}", status_code=200)
async def delete_media(request: Request, media_id: str) -> dict[str, Any]:
    """Delete an upload that is on no post (Mastodon 4.4); its bytes go unless shared."""
    identity = await require_user(request, "write:media")
    await service.delete_unattached_media(identity.account_id, parse_id(media_id))
    return {}


ROUTES = [upload_media, upload_media_v1, show_media, update_media, delete_media]
