"""The composer at /compose: caption, content warning, visibility and an album of uploads."""

from __future__ import annotations

from litestar import Request, Response, get, post

from node import posts
from node.errors import Invalid
from node.ids import parse_id
from web.forms import field, read_form
from web.presenters import post_path
from web.render import page, redirect
from web.sessions import require_session

VISIBILITIES = ("public", "unlisted", "private")


async def _form_page(
    request: Request, form: dict[str, str], error: str = "", status: int = 200
) -> Response:
    return await page(
        request,
        "compose.html",
        status=status,
        title="New post",
        form=form,
        error=error,
        media=[],
        uploads=False,
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
        post_id = await posts.publish(
            session.account_id,
            posts.Draft(
                text=values["text"],
                media_ids=media_ids,
                spoiler_text=values["spoiler_text"],
                visibility=values["visibility"],
            ),
        )
    except Invalid as exc:
        return await _form_page(request, values, exc.message, status=422)
    return redirect(post_path(session.account, post_id), flash="Shared.")


ROUTES = [compose_page, publish]
