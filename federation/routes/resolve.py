"""Finding remote accounts and posts from a client: `user@host` by WebFinger, or a profile or
post URL fetched from its origin (what search's `resolve=true` needs)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from federation.actors import ActorUnavailable, get_actor, resolve_account
from federation.remote_posts import resolve_post
from node.api import entities
from node.api.authn import require_user
from node.api.params import read_params, text
from node.errors import Invalid, NotFound
from node.post_views import hydrate_one


@get(["/api/v1/federation/resolve"])
async def resolve(request: Request) -> dict[str, Any]:
    """`?q=user@host` or `?q=<URL>`: {"accounts": [...], "statuses": [...]} as found."""
    identity = await require_user(request, "read:search")
    params = await read_params(request)
    query = (text(params, "q", max_length=2000) or "").strip()
    if not query:
        raise Invalid("q", "can't be blank")
    if query.startswith(("http://", "https://")):
        try:
            account = await get_actor(query)
            return {"accounts": [entities.account(account)], "statuses": []}
        except ActorUnavailable:
            post_id = await resolve_post(query)
        if post_id is None:
            raise NotFound()
        view = await hydrate_one(post_id, identity.account_id)
        return {"accounts": [], "statuses": [entities.status(view)]}
    try:
        account = await resolve_account(query)
    except ActorUnavailable:
        raise NotFound() from None
    return {"accounts": [entities.account(account)], "statuses": []}


ROUTES = [resolve]
