"""The home feed at / (the landing page when signed out)."""

from __future__ import annotations

from litestar import Request, Response, get

from node.ids import parse_id
from node.post_views import hydrate
from node.reply_previews import latest_replies
from timeline.home import home_post_ids
from timeline.page import Page
from timeline.public import Scope, public_post_ids
from web.presenters import cards
from web.render import page
from web.sessions import current_session

FEED_PAGE = 20
LANDING_GRID = 12


@get("/")
async def home(request: Request) -> Response:
    session = await current_session(request)
    if session is None:
        ids = await public_post_ids(None, Page(limit=LANDING_GRID), Scope(only_media=True))
        return await page(request, "landing.html", grid=cards(await hydrate(ids, None)))
    window = Page(max_id=parse_id(request.query_params.get("max_id")), limit=FEED_PAGE)
    ids = await home_post_ids(session.account_id, window, user_id=session.user_id)
    views = await hydrate(ids, session.account_id)
    shown_ids = [(v.reblog or v).post["id"] for v in views]
    comments = await latest_replies(shown_ids, session.account_id)
    return await page(
        request,
        "home.html",
        title="Home",
        feed=cards(views, comments),
        next_max_id=ids[-1] if len(ids) == FEED_PAGE else None,
    )


ROUTES = [home]
