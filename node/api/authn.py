"""Who is calling: the bearer token of a request, checked against the scope an endpoint needs."""

from __future__ import annotations

from litestar import Request

from node.auth import Identity, identity_for_token
from node.errors import Unauthorized


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.query_params.get("access_token") or None


async def optional_identity(request: Request) -> Identity | None:
    """The caller, or None without a token; a token that is not valid is still a 401."""
    cached = request.scope.get("pinhole_identity")
    if cached is not None:
        return cached
    token = bearer_token(request)
    if token is None:
        return None
    identity = await identity_for_token(token)
    if identity is None:
        raise Unauthorized("The access token is invalid")
    request.scope["pinhole_identity"] = identity  # type: ignore[typeddict-unknown-key]
    return identity


async def require_app(request: Request, scope: str) -> Identity:
    identity = await optional_identity(request)
    if identity is None:
        raise Unauthorized("The access token is invalid")
    identity.require(scope)
    return identity


async def require_user(request: Request, scope: str) -> Identity:
    """A caller acting as a user, holding `scope`."""
    identity = await require_app(request, scope)
    if identity.account_id is None:
        raise Unauthorized("This method requires an authenticated user")
    return identity


async def viewer_id(request: Request, scope: str = "read") -> int | None:
    """The account id of the caller when signed in; public endpoints accept no token."""
    identity = await optional_identity(request)
    if identity is None:
        return None
    identity.require(scope)
    return identity.account_id
