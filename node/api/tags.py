"""Hashtag edges: a hashtag with its usage history, and featured hashtags on profiles.

(Following hashtags — POST /api/v1/tags/:name/follow|unfollow, GET /api/v1/followed_tags — is in
node/api/timelines.py, beside the feeds they change.)"""

from __future__ import annotations

from typing import Any

from litestar import Request, delete, get, post

from node import featured_tags, trends
from node.api import entities
from node.api.authn import require_user, viewer_id
from node.api.params import read_params, text
from node.errors import NotFound
from node.ids import parse_id


def _path_id(raw: str) -> int:
    value = parse_id(raw)
    if value is None:
        raise NotFound()
    return value


@get("/api/v1/tags/{name:str}")
async def show_tag(request: Request, name: str) -> dict[str, Any]:
    viewer = await viewer_id(request, "read")
    return entities.hashtag(await trends.get_tag(name, viewer))


@get("/api/v1/featured_tags")
async def list_featured_tags(request: Request) -> list[dict[str, Any]]:
    identity = await require_user(request, "read:accounts")
    return [
        entities.featured_tag(f) for f in await featured_tags.featured_tags(identity.account_id)
    ]


@post("/api/v1/featured_tags", status_code=200)
async def feature_tag(request: Request) -> dict[str, Any]:
    identity = await require_user(request, "write:accounts")
    params = await read_params(request)
    name = text(params, "name", default="", max_length=200) or ""
    return entities.featured_tag(await featured_tags.feature_tag(identity.account_id, name))


@delete("/api/v1/featured_tags/{featured_id:str}", status_code=200)
async def unfeature_tag(request: Request, featured_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:accounts")
    await featured_tags.unfeature_tag(identity.account_id, _path_id(featured_id))
    return {}


@get("/api/v1/featured_tags/suggestions")
async def featured_tag_suggestions(request: Request) -> list[dict[str, Any]]:
    identity = await require_user(request, "read:accounts")
    rows = await featured_tags.suggested_tags(identity.account_id)
    return [entities.hashtag(view) for view in await trends.tag_views(rows, identity.account_id)]


@get("/api/v1/accounts/{account_id:str}/featured_tags")
async def account_featured_tags(request: Request, account_id: str) -> list[dict[str, Any]]:
    await viewer_id(request, "read:accounts")
    return [
        entities.featured_tag(f) for f in await featured_tags.featured_tags(_path_id(account_id))
    ]


ROUTES = [
    show_tag,
    list_featured_tags,
    feature_tag,
    unfeature_tag,
    featured_tag_suggestions,
    account_featured_tags,
]
