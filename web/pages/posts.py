"""The post page /@username/{id}: album, comments, likes, and the author's edit and delete."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.response import Redirect

from node import interactions, posts
from node.cursors import Window
from node.errors import Invalid, NotFound
from node.ids import parse_id
from node.post_views import PostView, hydrate, hydrate_one
from web.forms import field, read_form
from web.pages.profiles import handle_of
from web.presenters import acct, card, og_meta, post_path
from web.render import (
    json_response,
    page,
    redirect,
    safe_next,
    wants_activity_json,
    wants_json,
)
from web.sessions import current_session, require_session

LIKES_SHOWN = 40


def _post_id(raw: str) -> int:
    value = parse_id(raw)
    if value is None:
        raise NotFound()
    return value


async def _view(request: Request, handle: str, raw_id: str) -> tuple[PostView, int | None]:
    """The post at this address as the viewer may see it; the handle must be its author's."""
    handle_of(handle)
    session = await current_session(request)
    viewer_id = session.account_id if session else None
    view = await hydrate_one(_post_id(raw_id), viewer_id)
    return view, viewer_id


@get("/{handle:str}/{post_id:str}")
async def show(request: Request, handle: str, post_id: str) -> Response:
    view, viewer_id = await _view(request, handle, post_id)
    if wants_activity_json(request) and view.post["local"] and view.post["uri"]:
        # The same address serves peers: send them to the object document.
        return Redirect(view.post["uri"], status_code=303)
    shown = view.reblog or view
    canonical = post_path(shown.account, shown.post["id"])
    if request.url.path != canonical:
        return redirect(canonical)
    _, descendant_ids = await posts.context(shown.post["id"], viewer_id)
    comments = await hydrate(descendant_ids, viewer_id)
    likes = await interactions.who(
        "favourited_by", shown.post["id"], viewer_id, Window(limit=LIKES_SHOWN)
    )
    parent = None
    if shown.post["in_reply_to_id"] is not None:
        parents = await hydrate([shown.post["in_reply_to_id"]], viewer_id)
        parent = parents[0] if parents else None
    post_card = card(shown)
    return await page(
        request,
        "post.html",
        title=f"@{acct(shown.account)}: {post_card.summary[:60]}" if post_card.summary else "",
        card=post_card,
        comments=comments,
        likes=likes.accounts,
        parent=parent,
        og=og_meta(post_card),
    )


async def _react(request: Request, handle: str, raw_id: str, liked: bool) -> Response:
    session = await require_session(request)
    await read_form(request)
    handle_of(handle)
    act = interactions.favourite if liked else interactions.unfavourite
    target_id = await act(session.account_id, _post_id(raw_id))
    view = await hydrate_one(target_id, session.account_id)
    if wants_json(request):
        return json_response({"liked": liked, "count": view.post["favourites_count"]})
    return redirect(_back(request, post_path(view.account, target_id)))


def _back(request: Request, fallback: str) -> str:
    """Back to the page the form was on (the feed, a profile), else the post."""
    referer = request.headers.get("referer", "")
    prefix = str(request.base_url).rstrip("/")
    if referer.startswith(prefix + "/"):
        return safe_next(referer[len(prefix) :], fallback)
    return fallback


@post("/{handle:str}/{post_id:str}/like")
async def like(request: Request, handle: str, post_id: str) -> Response:
    return await _react(request, handle, post_id, True)


@post("/{handle:str}/{post_id:str}/unlike")
async def unlike(request: Request, handle: str, post_id: str) -> Response:
    return await _react(request, handle, post_id, False)


@post("/{handle:str}/{post_id:str}/comment")
async def comment(request: Request, handle: str, post_id: str) -> Response:
    session = await require_session(request)
    form = await read_form(request)
    view, _ = await _view(request, handle, post_id)
    shown = view.reblog or view
    target = post_path(shown.account, shown.post["id"])
    try:
        comment_id = await posts.publish(
            session.account_id,
            posts.Draft(
                text=field(form, "text", max_length=posts.MAX_CAPTION),
                in_reply_to_id=shown.post["id"],
                # A comment is never seen more widely than the post it answers.
                visibility=shown.post["visibility"],
            ),
        )
    except Invalid as exc:
        if wants_json(request):
            raise
        return redirect(f"{target}#comment", flash=f"Comment not posted: {exc.message}")
    if wants_json(request):
        return json_response({"id": str(comment_id)})
    return redirect(f"{target}#comment-{comment_id}")


@post("/{handle:str}/{post_id:str}/delete")
async def delete(request: Request, handle: str, post_id: str) -> Response:
    session = await require_session(request)
    await read_form(request)
    view, _ = await _view(request, handle, post_id)
    parent_id = view.post["in_reply_to_id"]
    await posts.delete_post(session.account_id, view.post["id"])
    if parent_id is not None:
        parents = await hydrate([parent_id], session.account_id)
        if parents:
            return redirect(post_path(parents[0].account, parent_id), flash="Comment deleted.")
    return redirect(f"/@{session.username}", flash="Post deleted.")


@get("/{handle:str}/{post_id:str}/edit")
async def edit_page(request: Request, handle: str, post_id: str) -> Response:
    session = await require_session(request)
    view, _ = await _view(request, handle, post_id)
    source = await posts.source(view.post["id"], session.account_id)
    return await page(
        request, "edit_post.html", title="Edit post", card=card(view), source=source, errors={}
    )


@post("/{handle:str}/{post_id:str}/edit")
async def edit(request: Request, handle: str, post_id: str) -> Response:
    session = await require_session(request)
    form = await read_form(request)
    view, _ = await _view(request, handle, post_id)
    changes = [
        posts.MediaChange(
            media_id=row["id"],
            description=field(form, f"description_{row['id']}", max_length=posts.MAX_DESCRIPTION),
        )
        for row in view.media
        if f"description_{row['id']}" in form
    ]
    try:
        await posts.edit_post(
            session.account_id,
            view.post["id"],
            posts.Edit(
                text=field(form, "text", max_length=posts.MAX_CAPTION),
                spoiler_text=field(form, "spoiler_text", max_length=posts.MAX_SPOILER),
                media_changes=changes,
            ),
        )
    except Invalid as exc:
        source = await posts.source(view.post["id"], session.account_id)
        return await page(
            request,
            "edit_post.html",
            status=422,
            title="Edit post",
            card=card(view),
            source=source,
            errors={exc.field: exc.details[exc.field]},
        )
    return redirect(post_path(view.account, view.post["id"]), flash="Post updated.")


ROUTES = [show, like, unlike, comment, delete, edit_page, edit]
