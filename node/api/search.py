"""Search edges: `GET /api/v2/search` (accounts, hashtags, statuses) and
`GET /api/v1/accounts/search`, in the Mastodon API's shapes."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from node import search, trends
from node.api import entities
from node.api.authn import require_user, viewer_id
from node.api.params import flag, integer, read_params, text
from node.errors import BadRequest, Invalid, Unauthorized
from node.ids import parse_id
from node.post_views import hydrate

MAX_LIMIT = 40
MAX_OFFSET = 10_000


def _query(params: dict[str, Any]) -> str:
    q = text(params, "q", max_length=search.MAX_QUERY_LENGTH)
    if q is None or not q.strip():
        raise BadRequest("param is missing or the value is empty: q")
    return q


def _limit(params: dict[str, Any], default: int, maximum: int) -> int:
    # Below 1 is an error; above the maximum is capped, as Mastodon does.
    return min(integer(params, "limit", default=default, low=1) or default, maximum)


def _optional_id(params: dict[str, Any], name: str) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    value = parse_id(raw)
    if value is None:
        raise Invalid(name, "must be an id")
    return value


def _signed_in_only(viewer: int | None, offset: int, resolve: bool) -> None:
    """Mastodon refuses paging and remote lookups to signed-out callers (both cost work)."""
    if viewer is not None:
        return
    if offset:
        raise Unauthorized("Search queries pagination is not supported without authentication")
    if resolve:
        raise Unauthorized(
            "Search queries that resolve remote resources are not supported without authentication"
        )


@get("/api/v2/search")
async def search_v2(request: Request) -> dict[str, Any]:
    viewer = await viewer_id(request, "read:search")
    params = await read_params(request)
    q = _query(params)
    kind = text(params, "type", max_length=40)
    if kind not in (None, "", *search.TYPES):
        raise Invalid("type", f"must be one of {', '.join(search.TYPES)}")
    offset = integer(params, "offset", default=0, low=0, high=MAX_OFFSET) or 0
    resolve = bool(flag(params, "resolve", default=False))
    _signed_in_only(viewer, offset, resolve)
    results = await search.search(
        search.SearchRequest(
            q=q,
            viewer_id=viewer,
            types=(kind,) if kind else search.TYPES,
            limit=_limit(params, 20, MAX_LIMIT),
            offset=offset,
            resolve=resolve,
            following=bool(flag(params, "following", default=False)),
            account_id=_optional_id(params, "account_id"),
            exclude_unreviewed=bool(flag(params, "exclude_unreviewed", default=False)),
            min_id=_optional_id(params, "min_id"),
            max_id=_optional_id(params, "max_id"),
        )
    )
    return {
        "accounts": [entities.account(row) for row in results.accounts],
        "statuses": [entities.status(view) for view in await hydrate(results.post_ids, viewer)],
        "hashtags": [
            entities.hashtag(view) for view in await trends.tag_views(results.tags, viewer)
        ],
    }


@get("/api/v1/accounts/search")
async def search_accounts(request: Request) -> list[dict[str, Any]]:
    identity = await require_user(request, "read:accounts")
    params = await read_params(request)
    q = _query(params)
    rows = await search.search_accounts(
        q,
        identity.account_id,
        limit=_limit(params, 40, 80),
        offset=integer(params, "offset", default=0, low=0, high=MAX_OFFSET) or 0,
        following=bool(flag(params, "following", default=False)),
        resolve=bool(flag(params, "resolve", default=False)),
    )
    return [entities.account(row) for row in rows]


ROUTES = [search_v2, search_accounts]
