"""Follow suggestion edges: `GET /api/v2/suggestions`, `GET /api/v1/suggestions` and
`DELETE /api/v1/suggestions/:account_id` (never suggest that account again)."""

from __future__ import annotations

from typing import Any

from litestar import Request, delete, get

from node import suggestions
from node.api import entities
from node.api.authn import require_user
from node.api.params import integer, read_params
from node.errors import NotFound
from node.ids import parse_id


async def _limit(request: Request) -> int:
    params = await read_params(request)
    return min(integer(params, "limit", default=40, low=1) or 40, 80)


@get("/api/v2/suggestions")
async def suggestions_v2(request: Request) -> list[dict[str, Any]]:
    identity = await require_user(request, "read")
    found = await suggestions.suggestions(identity.account_id, limit=await _limit(request))
    return [entities.suggestion(s) for s in found]


@get("/api/v1/suggestions")
async def suggestions_v1(request: Request) -> list[dict[str, Any]]:
    identity = await require_user(request, "read")
    found = await suggestions.suggestions(identity.account_id, limit=await _limit(request))
    return [entities.account(s.account) for s in found]


@delete("/api/v1/suggestions/{account_id:str}", status_code=200)
async def dismiss_suggestion(request: Request, account_id: str) -> dict[str, Any]:
    identity = await require_user(request, "read")
    target = parse_id(account_id)
    if target is None:
        raise NotFound()
    await suggestions.dismiss(identity.account_id, target)
    return {}


ROUTES = [suggestions_v2, suggestions_v1, dismiss_suggestion]
