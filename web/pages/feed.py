"""The home feed at / (the landing page when signed out)."""

from __future__ import annotations

from litestar import Request, Response, get

from node.ids import parse_id
from node.reply_previews import latest_replies
from timeline import home as home_timeline
from timeline import public as public_timeline
from timeline.page import Page
from web.presenters import cards
from web.render import page
from web.sessions import current_session

FEED_PAGE = 20
LANDING_GRID = 12


@get("/")
async def home(request: Request) -> Response:
    session = await current_session(request)
    if session is None:
        views = await public_timeline.public_page(
            None, Page(limit=LANDING_GRID), public_timeline.Scope(only_media=True)
        )
        return await page(request, "landing.html", grid=cards(views))
    window = Page(max_id=parse_id(request.query_params.get("max_id")), limit=FEED_PAGE)
    views = await home_timeline.home_page(session.account_id, window, user_id=session.user_id)
    comments = await latest_replies([(v.reblog or v).post["id"] for v in views], session.account_id)
    return await page(
        request,
        "home.html",
        title="Home",
        feed=cards(views, comments),
        next_max_id=views[-1].post["id"] if len(views) == FEED_PAGE else None,
    )


ROUTES = [home]
