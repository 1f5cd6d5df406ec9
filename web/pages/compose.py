"""The composer at /compose: caption, content warning, visibility and an album of uploads.

With scripts, each file is uploaded as soon as it is picked (POST /compose/media, with a
progress bar) and the page waits for its processing; without, the files come with the form
and the post is published once they are processed.
"""

from __future__ import annotations

import asyncio

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile

from media import service as media
from node import posts, ratelimit
from node.errors import Invalid, TooMany
from node.ids import parse_id
from node.settings import get_settings
from web.forms import field, files, read_form
from web.presenters import media_item, post_path
from web.render import json_response, page, redirect
from web.sessions import WebSession, require_session

VISIBILITIES = ("public", "unlisted", "private")
# Without scripts the form waits this long for its uploads to be processed.
PROCESSING_WAIT_SECONDS = 60.0


async def _form_page(
    request: Request,
    form: dict[str, str],
    error: str = "",
    status: int = 200,
    media_items: list | None = None,
) -> Response:
    return await page(
        request,
        "compose.html",
        status=status,
        title="New post",
        form=form,
        error=error,
        media=media_items or [],
        uploads=True,
        max_media=posts.MAX_MEDIA,
        max_caption=posts.MAX_CAPTION,
    )


@get("/compose")
async def compose_page(request: Request) -> Response:
    await require_session(request)
    return await _form_page(request, {"visibility": "public", "text": "", "spoiler_text": ""})


@post("/compose")
async def publish(request: Request) -> Response:
    session = await require_session(request)
    form = await read_form(request)
    values = {
        "text": field(form, "text", max_length=posts.MAX_CAPTION),
        "spoiler_text": field(form, "spoiler_text", max_length=posts.MAX_SPOILER),
        "visibility": field(form, "visibility", max_length=16) or "public",
    }
    if values["visibility"] not in VISIBILITIES:
        values["visibility"] = "public"
    media_ids = [i for i in (parse_id(v) for v in form.getall("media_ids", [])) if i]
    try:
        media_ids += await _upload_form_files(session, files(form, "files"), form)
        for media_id in media_ids:
            name = f"description_{media_id}"
            if name in form:
                await media.describe_media(
                    session.account_id,
                    media_id,
                    description=field(form, name, max_length=media.DESCRIPTION_LIMIT),
                )
        if not await _processed(media_ids):
            rows = [await media.own_media(session.account_id, i) for i in media_ids]
            return await _form_page(
                request,
                values,
                "Your photos are still being processed. Share again in a moment.",
                status=422,
                media_items=[media_item(row) for row in rows],
            )
        post_id = await posts.publish(
            session.account_id,
            posts.Draft(
                text=values["text"],
                media_ids=media_ids,
                spoiler_text=values["spoiler_text"],
                visibility=values["visibility"],
            ),
        )
    except (Invalid, media.UploadRefused) as exc:
        return await _form_page(request, values, exc.message, status=422)
    return redirect(post_path(session.account, post_id), flash="Shared.")


async def _upload_form_files(session: WebSession, uploads: list[UploadFile], form) -> list[int]:
    """Files posted with the form itself (no scripts): alt text comes one line per file."""
    if not uploads:
        return []
    await _spend_upload_allowance(session, len(uploads))
    lines = field(form, "descriptions", max_length=20_000).splitlines()
    ids = []
    for n, upload in enumerate(uploads):
        row = await media.upload_media(
            session.account_id,
            await upload.read(),
            description=lines[n].strip() if n < len(lines) else None,
        )
        ids.append(row["id"])
    return ids


async def _processed(media_ids: list[int]) -> bool:
    """Wait for the processing jobs of these uploads (the form-only path)."""
    deadline = asyncio.get_running_loop().time() + PROCESSING_WAIT_SECONDS
    while True:
        rows = [await media.get_row(i) for i in media_ids]
        if all(row is None or row["state"] != "processing" for row in rows):
            return True
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.2)


async def _spend_upload_allowance(session: WebSession, count: int = 1) -> None:
    """The same per-user upload allowance the client API spends."""
    if not get_settings().rate_limit_enabled:
        return
    verdict = await ratelimit.take(
        f"user:{session.user_id}", [ratelimit.limit_for("uploads")], cost=count
    )
    if verdict is not None and not verdict.allowed:
        raise TooMany("Too many uploads. Wait a moment and try again.", verdict.retry_after)


def _media_state(row) -> dict[str, str]:
    item = media_item(row)
    return {
        "id": str(row["id"]),
        "state": row["state"],
        "error": row["error"] or "",
        "thumbnail": item.thumbnail if item.ready else "",
    }


@post("/compose/media")
async def upload(request: Request) -> Response:
    """One file from the composer's script; processing goes on in a job."""
    session = await require_session(request)
    form = await read_form(request)
    picked = files(form, "file")
    if not picked:
        raise Invalid("file", "is missing")
    await _spend_upload_allowance(session)
    row = await media.upload_media(
        session.account_id,
        await picked[0].read(),
        description=field(form, "description", max_length=media.DESCRIPTION_LIMIT) or None,
    )
    return json_response(_media_state(row), status=202)


@get("/compose/media/{media_id:str}")
async def upload_state(request: Request, media_id: str) -> Response:
    session = await require_session(request)
    return json_response(
        _media_state(await media.own_media(session.account_id, parse_id(media_id)))
    )


ROUTES = [compose_page, publish, upload, upload_state]
