"""Status edges: publish, read, edit, delete, threads, favourites, boosts, bookmarks, pins and
profile posts, in the Mastodon API's shapes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response, delete, get, post, put

from node import interactions, posts
from node.api import entities
from node.api.authn import require_user, viewer_id
from node.api.pagination import PageParams, link_header, page_params
from node.api.params import flag, read_params, text
from node.cursors import Window
from node.errors import Invalid, NotFound
from node.ids import parse_id
from node.post_views import hydrate, hydrate_one

# Far above the caption limit, so that the domain's rule (and its message) decides.
MAX_FIELD = 100_000


def _path_id(raw: str) -> int:
    value = parse_id(raw)
    if value is None:
        raise NotFound()
    return value


def _ids(params: dict[str, Any], name: str) -> list[int] | None:
    """Ids from `name[]=…`, `name=…` or a JSON list; a malformed one is a 422 naming it."""
    value = params.get(name, params.get(f"{name}[]"))
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    if len(items) > 1000:
        raise Invalid(name, "has too many ids")
    ids = []
    for item in items:
        if item == "":
            continue
        parsed = parse_id(item)
        if parsed is None:
            raise Invalid(name, f"{str(item)[:40]!r} is not an id")
        ids.append(parsed)
    return ids


def _optional_id(params: dict[str, Any], name: str) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    value = parse_id(raw)
    if value is None:
        raise NotFound()
    return value


def _window(page: PageParams) -> Window:
    return Window(max_id=page.max_id, since_id=page.since_id, min_id=page.min_id, limit=page.limit)


async def _status(post_id: int, viewer: int | None) -> dict[str, Any]:
    return entities.status(await hydrate_one(post_id, viewer))


async def _statuses(post_ids: list[int], viewer: int | None) -> list[dict[str, Any]]:
    return [entities.status(v) for v in await hydrate(post_ids, viewer)]


@post("/api/v1/statuses", status_code=200)
async def create_status(request: Request) -> dict[str, Any]:
    identity = await require_user(request, "write:statuses")
    params = await read_params(request)
    if params.get("scheduled_at"):
        raise Invalid("scheduled_at", "scheduled posts are not supported")
    if params.get("poll"):
        raise Invalid("poll", "polls are not supported")
    draft = posts.Draft(
        text=text(params, "status", default="", max_length=MAX_FIELD) or "",
        media_ids=_ids(params, "media_ids") or [],
        spoiler_text=text(params, "spoiler_text", default="", max_length=MAX_FIELD) or "",
        sensitive=bool(flag(params, "sensitive", default=False)),
        visibility=text(params, "visibility", default="public", max_length=20) or "public",
        in_reply_to_id=_optional_id(params, "in_reply_to_id"),
        language=text(params, "language", max_length=MAX_FIELD) or None,
        application_id=identity.app_id,
    )
    post_id = await posts.publish(
        identity.account_id, draft, idempotency_key=request.headers.get("idempotency-key")
    )
    return await _status(post_id, identity.account_id)


@get("/api/v1/statuses")
async def show_statuses(request: Request) -> list[dict[str, Any]]:
    viewer = await viewer_id(request, "read:statuses")
    params = await read_params(request)
    return await _statuses((_ids(params, "id") or [])[:40], viewer)


@get("/api/v1/statuses/{status_id:str}")
async def show_status(request: Request, status_id: str) -> dict[str, Any]:
    viewer = await viewer_id(request, "read:statuses")
    return await _status(_path_id(status_id), viewer)


def _media_changes(params: dict[str, Any]) -> list[posts.MediaChange]:
    raw = params.get("media_attributes", [])
    items = list(raw.values()) if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise Invalid("media_attributes", "must be a list of {id, description, focus}")
    changes = []
    for item in items:
        if not isinstance(item, dict):
            raise Invalid("media_attributes", "must be a list of {id, description, focus}")
        media_id = parse_id(item.get("id"))
        if media_id is None:
            raise Invalid("media_attributes", "each needs the id of a media of the post")
        description = item.get("description")
        if description is not None and not isinstance(description, str):
            raise Invalid("media_attributes", "description must be text")
        changes.append(posts.MediaChange(media_id, description, _focus(item.get("focus"))))
    return changes


def _focus(raw: object) -> tuple[float, float] | None:
    """A focal point "x,y" with both in -1..1."""
    if raw in (None, ""):
        return None
    try:
        x, y = (float(part) for part in str(raw).split(","))
    except ValueError:
        raise Invalid("media_attributes", 'focus must be "x,y" with both in -1..1') from None
    if not (-1 <= x <= 1 and -1 <= y <= 1):
        raise Invalid("media_attributes", 'focus must be "x,y" with both in -1..1')
    return x, y


@put("/api/v1/statuses/{status_id:str}")
async def edit_status(request: Request, status_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:statuses")
    params = await read_params(request)
    edit = posts.Edit(
        text=text(params, "status", max_length=MAX_FIELD),
        spoiler_text=text(params, "spoiler_text", max_length=MAX_FIELD),
        sensitive=flag(params, "sensitive"),
        language=text(params, "language", max_length=MAX_FIELD) or None,
        media_ids=_ids(params, "media_ids"),
        media_changes=_media_changes(params),
    )
    await posts.edit_post(identity.account_id, _path_id(status_id), edit)
    return await _status(_path_id(status_id), identity.account_id)


@delete("/api/v1/statuses/{status_id:str}", status_code=200)
async def delete_status(request: Request, status_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:statuses")
    params = await read_params(request)
    # As on Mastodon, `delete_media=false` keeps the album for a redraft; by default the
    # media go with the post.
    keep_media = flag(params, "delete_media", default=True) is False
    view = await posts.delete_post(identity.account_id, _path_id(status_id), keep_media=keep_media)
    return entities.status(view, with_source=True)


@get("/api/v1/statuses/{status_id:str}/context")
async def status_context(request: Request, status_id: str) -> dict[str, Any]:
    viewer = await viewer_id(request, "read:statuses")
    ancestors, descendants = await posts.context(_path_id(status_id), viewer)
    views = {v.post["id"]: v for v in await hydrate(ancestors + descendants, viewer)}
    return entities.context(
        [views[i] for i in ancestors if i in views], [views[i] for i in descendants if i in views]
    )


@get("/api/v1/statuses/{status_id:str}/history")
async def status_history(request: Request, status_id: str) -> list[dict[str, Any]]:
    viewer = await viewer_id(request, "read:statuses")
    author, versions = await posts.history(_path_id(status_id), viewer)
    return [entities.status_edit(version, author) for version in versions]


@get("/api/v1/statuses/{status_id:str}/source")
async def status_source(request: Request, status_id: str) -> dict[str, Any]:
    identity = await require_user(request, "read:statuses")
    return entities.status_source(await posts.source(_path_id(status_id), identity.account_id))


async def _act(
    request: Request, status_id: str, scope: str, action: Callable[[int, int], Awaitable[int]]
) -> dict[str, Any]:
    identity = await require_user(request, scope)
    post_id = await action(identity.account_id, _path_id(status_id))
    return await _status(post_id, identity.account_id)


@post("/api/v1/statuses/{status_id:str}/favourite", status_code=200)
async def favourite(request: Request, status_id: str) -> dict[str, Any]:
    return await _act(request, status_id, "write:favourites", interactions.favourite)


@post("/api/v1/statuses/{status_id:str}/unfavourite", status_code=200)
async def unfavourite(request: Request, status_id: str) -> dict[str, Any]:
    return await _act(request, status_id, "write:favourites", interactions.unfavourite)


@post("/api/v1/statuses/{status_id:str}/bookmark", status_code=200)
async def bookmark(request: Request, status_id: str) -> dict[str, Any]:
    return await _act(request, status_id, "write:bookmarks", interactions.bookmark)


@post("/api/v1/statuses/{status_id:str}/unbookmark", status_code=200)
async def unbookmark(request: Request, status_id: str) -> dict[str, Any]:
    return await _act(request, status_id, "write:bookmarks", interactions.unbookmark)


@post("/api/v1/statuses/{status_id:str}/pin", status_code=200)
async def pin(request: Request, status_id: str) -> dict[str, Any]:
    return await _act(request, status_id, "write:accounts", interactions.pin)


@post("/api/v1/statuses/{status_id:str}/unpin", status_code=200)
async def unpin(request: Request, status_id: str) -> dict[str, Any]:
    return await _act(request, status_id, "write:accounts", interactions.unpin)


@post("/api/v1/statuses/{status_id:str}/reblog", status_code=200)
async def reblog(request: Request, status_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:statuses")
    params = await read_params(request)
    visibility = text(params, "visibility", default="public", max_length=20) or "public"
    boost_id = await posts.boost(identity.account_id, _path_id(status_id), visibility=visibility)
    return await _status(boost_id, identity.account_id)


@post("/api/v1/statuses/{status_id:str}/unreblog", status_code=200)
async def unreblog(request: Request, status_id: str) -> dict[str, Any]:
    return await _act(request, status_id, "write:statuses", posts.unboost)


async def _who(request: Request, status_id: str, kind: str) -> Response:
    viewer = await viewer_id(request, "read:statuses")
    page = page_params(await read_params(request), default=40, maximum=80)
    result = await interactions.who(kind, _path_id(status_id), viewer, _window(page))
    return Response(
        [entities.account(row) for row in result.accounts],
        headers=link_header(request, result.cursor_ids, page.limit),
    )


@get("/api/v1/statuses/{status_id:str}/favourited_by")
async def favourited_by(request: Request, status_id: str) -> Response:
    return await _who(request, status_id, "favourited_by")


@get("/api/v1/statuses/{status_id:str}/reblogged_by")
async def reblogged_by(request: Request, status_id: str) -> Response:
    return await _who(request, status_id, "reblogged_by")


async def _own_list(
    request: Request, scope: str, read: Callable[[int, Window], Awaitable[interactions.PostPage]]
) -> Response:
    identity = await require_user(request, scope)
    page = page_params(await read_params(request))
    result = await read(identity.account_id, _window(page))
    return Response(
        await _statuses(result.post_ids, identity.account_id),
        headers=link_header(request, result.cursor_ids, page.limit),
    )


@get("/api/v1/favourites")
async def favourites(request: Request) -> Response:
    return await _own_list(request, "read:favourites", interactions.favourites)


@get("/api/v1/bookmarks")
async def bookmarks(request: Request) -> Response:
    return await _own_list(request, "read:bookmarks", interactions.bookmarks)


@get("/api/v1/accounts/{account_id:str}/statuses")
async def account_statuses(request: Request, account_id: str) -> Response:
    viewer = await viewer_id(request, "read:statuses")
    params = await read_params(request)
    page = page_params(params)
    filters = posts.ProfileFilter(
        only_media=bool(flag(params, "only_media", default=False)),
        exclude_replies=bool(flag(params, "exclude_replies", default=False)),
        exclude_reblogs=bool(flag(params, "exclude_reblogs", default=False)),
        pinned=bool(flag(params, "pinned", default=False)),
        tagged=text(params, "tagged", max_length=200) or None,
    )
    post_ids = await posts.account_posts(_path_id(account_id), viewer, filters, _window(page))
    return Response(
        await _statuses(post_ids, viewer), headers=link_header(request, post_ids, page.limit)
    )


ROUTES = [
    create_status,
    show_statuses,
    show_status,
    edit_status,
    delete_status,
    status_context,
    status_history,
    status_source,
    favourite,
    unfavourite,
    bookmark,
    unbookmark,
    pin,
    unpin,
    reblog,
    unreblog,
    favourited_by,
    reblogged_by,
    favourites,
    bookmarks,
    account_statuses,
]
