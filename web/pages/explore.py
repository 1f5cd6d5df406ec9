"""Explore (a grid of recent public photos and the tags in use) and hashtag pages /tags/{name}."""

from __future__ import annotations

from litestar import Request, Response, get

from node import trends
from node.captions import normalize_tag
from node.errors import NotFound
from node.ids import parse_id
from node.post_views import hydrate
from timeline import public as public_timeline
from timeline.page import Page
from web.presenters import cards
from web.render import page
from web.sessions import current_session

GRID_PAGE = 30
TRENDING_TAGS = 12
MAX_OFFSET = 600


def _page(request: Request) -> Page:
    return Page(max_id=parse_id(request.query_params.get("max_id")), limit=GRID_PAGE)


def _next_max_id(views: list) -> int | None:
    return views[-1].post["id"] if len(views) == GRID_PAGE else None


@get("/explore")
async def explore(request: Request) -> Response:
    """Trending photos and videos first, then the newest public ones (offset pages)."""
    session = await current_session(request)
    viewer_id = session.account_id if session else None
    raw_offset = request.query_params.get("offset", "0")
    offset = min(int(raw_offset), MAX_OFFSET) if raw_offset.isdigit() else 0
    ids = await trends.explore_post_ids(viewer_id, limit=GRID_PAGE, offset=offset)
    tags = await trends.trending_tags(viewer_id, limit=TRENDING_TAGS) if offset == 0 else []
    return await page(
        request,
        "explore.html",
        title="Explore",
        grid=cards(await hydrate(ids, viewer_id)),
        next_offset=offset + GRID_PAGE if len(ids) == GRID_PAGE else None,
        trending=[
            {"name": t.tag["name"], "uses": sum(day.uses for day in t.history)} for t in tags
        ],
    )


@get("/tags/{name:str}")
async def tag(request: Request, name: str) -> Response:
    session = await current_session(request)
    viewer_id = session.account_id if session else None
    tag_name = normalize_tag(name.lstrip("#"))
    if not tag_name or len(tag_name) > 100:
        raise NotFound()
    views = await public_timeline.tag_page(
        viewer_id, _page(request), public_timeline.Scope(), tag=tag_name
    )
    return await page(
        request,
        "tag.html",
        title=f"#{tag_name}",
        tag=tag_name,
        grid=cards(views),
        next_max_id=_next_max_id(views),
    )


ROUTES = [explore, tag]
