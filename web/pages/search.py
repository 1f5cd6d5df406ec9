"""The search page: people, hashtags and posts for one query."""

from __future__ import annotations

from litestar import Request, Response, get

from node import search
from node.errors import Invalid
from node.post_views import hydrate
from web.presenters import cards
from web.render import page
from web.sessions import current_session

RESULTS = 20


@get("/search")
async def search_page(request: Request) -> Response:
    session = await current_session(request)
    viewer_id = session.account_id if session else None
    query = request.query_params.get("q", "")[:500]
    results = None
    error = ""
    if query.strip():
        try:
            results = await search.search(
                search.SearchRequest(
                    q=query,
                    viewer_id=viewer_id,
                    limit=RESULTS,
                    # Looking up accounts on other servers is for signed-in people only.
                    resolve=session is not None,
                )
            )
        except Invalid as exc:
            error = exc.message
    return await page(
        request,
        "search.html",
        title=f"Search: {query}" if query else "Search",
        query=query,
        error=error,
        accounts=results.accounts if results else [],
        tags=results.tags if results else [],
        posts=cards(await hydrate(results.post_ids, viewer_id)) if results else [],
        searched=results is not None,
    )


ROUTES = [search_page]
