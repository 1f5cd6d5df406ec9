"""The profile directory edge: `GET /api/v1/directory?order=active|new&local=&offset=&limit=`."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from node import suggestions
from node.api import entities
from node.api.authn import viewer_id
from node.api.params import flag, integer, read_params, text
from node.errors import Invalid

ORDERS = ("active", "new")


@get("/api/v1/directory")
async def directory(request: Request) -> list[dict[str, Any]]:
    viewer = await viewer_id(request, "read:accounts")
    params = await read_params(request)
    order = text(params, "order", default="active", max_length=20) or "active"
    if order not in ORDERS:
        raise Invalid("order", "must be active or new")
    rows = await suggestions.directory(
        viewer,
        order=order,
        local_only=bool(flag(params, "local", default=False)),
        limit=min(integer(params, "limit", default=40, low=1) or 40, 80),
        offset=integer(params, "offset", default=0, low=0, high=100_000) or 0,
    )
    return [entities.account(row) for row in rows]


ROUTES = [directory]
