"""Trends and explore edges: trending hashtags and posts (`/api/v1/trends/*`), the explore grid
(`/api/v1/pinhole/explore`, ours), and the staff review of trends
(`/api/v1/admin/trends/{tags,statuses}[/:id/approve|reject]`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post

from node import admin, trends
from node.api import entities
from node.api.authn import require_user, viewer_id
from node.api.params import flag, integer, read_params
from node.auth import Identity
from node.errors import NotFound
from node.ids import parse_id
from node.post_views import hydrate
from node.settings import get_settings

MAX_OFFSET = 10_000


def _path_id(raw: str) -> int:
    value = parse_id(raw)
    if value is None:
        raise NotFound()
    return value


def _window(params: dict[str, Any], default: int, maximum: int) -> tuple[int, int]:
    limit = min(integer(params, "limit", default=default, low=1) or default, maximum)
    offset = integer(params, "offset", default=0, low=0, high=MAX_OFFSET) or 0
    return limit, offset


def _next_link(request: Request, limit: int, offset: int, count: int) -> dict[str, str]:
    """Offset paging as Mastodon's trends do: a `next` link while pages are full."""
    if count < limit:
        return {}
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "limit")]
    query = urlencode([*kept, ("limit", limit), ("offset", offset + limit)])
    return {"Link": f'<{get_settings().base_url}{request.url.path}?{query}>; rel="next"'}


async def _statuses(post_ids: list[int], viewer: int | None) -> list[dict[str, Any]]:
    return [entities.status(view) for view in await hydrate(post_ids, viewer)]


@get(["/api/v1/trends/tags", "/api/v1/trends"])
async def trending_tags(request: Request) -> Response:
    viewer = await viewer_id(request, "read")
    limit, offset = _window(await read_params(request), 10, 20)
    views = await trends.trending_tags(viewer, limit=limit, offset=offset)
    return Response(
        [entities.hashtag(view) for view in views],
        headers=_next_link(request, limit, offset, len(views)),
    )


@get("/api/v1/trends/statuses")
async def trending_statuses(request: Request) -> Response:
    viewer = await viewer_id(request, "read")
    limit, offset = _window(await read_params(request), 20, 40)
    ids = await trends.trending_post_ids(viewer, limit=limit, offset=offset)
    return Response(
        await _statuses(ids, viewer), headers=_next_link(request, limit, offset, len(ids))
    )


@get("/api/v1/trends/links")
async def trending_links(request: Request) -> list[Any]:
    await viewer_id(request, "read")
    return []  # link previews (cards) are not made here, so no link can trend


@get("/api/v1/pinhole/explore")
async def explore(request: Request) -> Response:
    """The explore grid: trending photo and video posts, then the newest public ones.
    `local=true` keeps to this node's posts; `limit` (≤ 40) and `offset` page through it."""
    viewer = await viewer_id(request, "read")
    params = await read_params(request)
    limit, offset = _window(params, 30, 40)
    ids = await trends.explore_post_ids(
        viewer, limit=limit, offset=offset, local_only=bool(flag(params, "local", default=False))
    )
    return Response(
        await _statuses(ids, viewer), headers=_next_link(request, limit, offset, len(ids))
    )


# --- staff review ----------------------------------------------------------------------------


async def _staff(request: Request, scope: str) -> Identity:
    identity = await require_user(request, scope)
    admin.require_role(identity.role, "moderator")
    return identity


@get("/api/v1/admin/trends/tags")
async def admin_trending_tags(request: Request) -> list[dict[str, Any]]:
    await _staff(request, "admin:read")
    limit, _ = _window(await read_params(request), 20, 200)
    return [entities.admin_tag(tag) for tag in await trends.admin_trending_tags(limit=limit)]


@post("/api/v1/admin/trends/tags/{tag_id:str}/approve", status_code=200)
async def approve_tag(request: Request, tag_id: str) -> dict[str, Any]:
    identity = await _staff(request, "admin:write")
    reviewed = await trends.review_tag(
        _path_id(tag_id), approve=True, actor_account_id=identity.account_id
    )
    return entities.admin_tag(reviewed)


@post("/api/v1/admin/trends/tags/{tag_id:str}/reject", status_code=200)
async def reject_tag(request: Request, tag_id: str) -> dict[str, Any]:
    identity = await _staff(request, "admin:write")
    reviewed = await trends.review_tag(
        _path_id(tag_id), approve=False, actor_account_id=identity.account_id
    )
    return entities.admin_tag(reviewed)


@get("/api/v1/admin/trends/statuses")
async def admin_trending_statuses(request: Request) -> list[dict[str, Any]]:
    identity = await _staff(request, "admin:read")
    limit, _ = _window(await read_params(request), 20, 200)
    return await _statuses(await trends.admin_trending_post_ids(limit=limit), identity.account_id)


@post("/api/v1/admin/trends/statuses/{post_id:str}/approve", status_code=200)
async def approve_status(request: Request, post_id: str) -> dict[str, Any]:
    return await _review_status(request, post_id, approve=True)


@post("/api/v1/admin/trends/statuses/{post_id:str}/reject", status_code=200)
async def reject_status(request: Request, post_id: str) -> dict[str, Any]:
    return await _review_status(request, post_id, approve=False)


async def _review_status(request: Request, raw_id: str, *, approve: bool) -> dict[str, Any]:
    identity = await _staff(request, "admin:write")
    post_id = await trends.review_post(
        _path_id(raw_id), approve=approve, actor_account_id=identity.account_id
    )
    shown = await _statuses([post_id], identity.account_id)
    if not shown:
        raise NotFound()
    return shown[0]


ROUTES = [
    trending_tags,
    trending_statuses,
    trending_links,
    explore,
    admin_trending_tags,
    approve_tag,
    reject_tag,
    admin_trending_statuses,
    approve_status,
    reject_status,
]
