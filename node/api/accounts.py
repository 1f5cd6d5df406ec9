"""Account edges: sign-up, credentials, profiles, lookup and relationships."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, patch, post

from media import service as media_service
from node import accounts, auth, db, registration, social
from node.api import entities
from node.api.authn import require_app, require_user, viewer_id
from node.api.media import read_upload
from node.api.pagination import link_header, page_params
from node.api.params import flag, id_list, integer, read_params, text
from node.errors import Invalid, NotFound
from node.ids import parse_id
from node.jobs import enqueue
from node.settings import get_settings


def account_id_from_path(raw: str) -> int:
    value = parse_id(raw)
    if value is None:
        raise NotFound()
    return value


@post("/api/v1/accounts", status_code=200)
async def sign_up(request: Request) -> dict[str, Any]:
    identity = await require_app(request, "write:accounts")
    settings = get_settings()
    params = await read_params(request)
    if not flag(params, "agreement", default=False):
        raise Invalid("agreement", "must be accepted")
    # The registration mode (open, approval, invite, closed) decides whether and how.
    created = await registration.sign_up(
        text(params, "username", default="", max_length=100) or "",
        text(params, "email", default="", max_length=400) or "",
        text(params, "password", default="", max_length=1000) or "",
        locale=text(params, "locale", default="en", max_length=16) or "en",
        ip=request.client.host if request.client else "",
        confirmed=not settings.email_confirmation_required,
        invite_code=text(params, "invite_code", default="", max_length=100) or "",
        reason=text(params, "reason", default="", max_length=registration.MAX_REASON) or "",
    )
    if created.confirmation_token:
        await enqueue("send_confirmation_email", created.user_id)
    issued = await auth.issue_token(identity.app_id, created.user_id, identity.scopes)
    return {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "scope": " ".join(sorted(issued.scopes)),
        "created_at": int(issued.created_at.timestamp()),
    }


async def _credential_account(account_id: int) -> dict[str, Any]:
    row = await accounts.get_account(account_id)
    user = await accounts.user_for_account(account_id)
    requests = await db.fetchval(
        "SELECT count(*) FROM follow_requests WHERE target_account_id = $1", account_id
    )
    return entities.credential_account(row, user, requests)


@get("/api/v1/accounts/verify_credentials")
async def verify_credentials(request: Request) -> dict[str, Any]:
    identity = await require_user(request, "profile")
    return await _credential_account(identity.account_id)


@patch("/api/v1/accounts/update_credentials")
async def update_credentials(request: Request) -> dict[str, Any]:
    identity = await require_user(request, "write:accounts")
    params = await read_params(request)
    changes = accounts.ProfileChanges(
        display_name=text(params, "display_name", max_length=1000),
        note=text(params, "note", max_length=5000),
        locked=flag(params, "locked"),
        discoverable=flag(params, "discoverable"),
        bot=flag(params, "bot"),
        fields=params.get("fields_attributes"),
    )
    await media_service.update_profile(
        identity.account_id,
        changes,
        avatar=await read_upload(params, "avatar"),
        header=await read_upload(params, "header"),
    )
    return await _credential_account(identity.account_id)


@get("/api/v1/accounts/lookup")
async def lookup(request: Request) -> dict[str, Any]:
    await viewer_id(request, "read:accounts")
    params = await read_params(request)
    return entities.account(
        await accounts.lookup_account(text(params, "acct", max_length=400) or "")
    )


@get("/api/v1/accounts/relationships")
async def relationships(request: Request) -> list[dict[str, Any]]:
    identity = await require_user(request, "read:follows")
    params = await read_params(request)
    ids = id_list(params, "id")
    return [entities.relationship(r) for r in await social.relationships(identity.account_id, ids)]


@get("/api/v1/accounts/{account_id:str}")
async def show_account(request: Request, account_id: str) -> dict[str, Any]:
    await viewer_id(request, "read:accounts")
    return entities.account(await accounts.get_account(account_id_from_path(account_id)))


async def _account_page(request: Request, kind: str, owner_id: int) -> Response:
    params = await read_params(request)
    page = page_params(params, default=40, maximum=80)
    result = await social.account_list(
        kind,
        owner_id,
        max_id=page.max_id,
        since_id=page.since_id,
        min_id=page.min_id,
        limit=page.limit,
    )
    return Response(
        [entities.account(row) for row in result.accounts],
        headers=link_header(request, result.cursor_ids, page.limit),
    )


async def _visible_graph_owner(request: Request, account_id: str) -> int:
    """An account whose followers/following the caller may list (not when blocked by it)."""
    viewer = await viewer_id(request, "read:accounts")
    owner = (await accounts.get_account(account_id_from_path(account_id)))["id"]
    if viewer is not None and viewer != owner and await social.is_blocked_either_way(viewer, owner):
        raise NotFound()
    return owner


@get("/api/v1/accounts/{account_id:str}/followers")
async def followers(request: Request, account_id: str) -> Response:
    return await _account_page(
        request, "followers", await _visible_graph_owner(request, account_id)
    )


@get("/api/v1/accounts/{account_id:str}/following")
async def following(request: Request, account_id: str) -> Response:
    return await _account_page(
        request, "following", await _visible_graph_owner(request, account_id)
    )


@post("/api/v1/accounts/{account_id:str}/follow", status_code=200)
async def follow(request: Request, account_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:follows")
    params = await read_params(request)
    rel = await social.follow(
        identity.account_id,
        account_id_from_path(account_id),
        reblogs=bool(flag(params, "reblogs", default=True)),
        notify=bool(flag(params, "notify", default=False)),
    )
    return entities.relationship(rel)


@post("/api/v1/accounts/{account_id:str}/unfollow", status_code=200)
async def unfollow(request: Request, account_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:follows")
    rel = await social.unfollow(identity.account_id, account_id_from_path(account_id))
    return entities.relationship(rel)


@post("/api/v1/accounts/{account_id:str}/block", status_code=200)
async def block(request: Request, account_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:blocks")
    rel = await social.block(identity.account_id, account_id_from_path(account_id))
    return entities.relationship(rel)


@post("/api/v1/accounts/{account_id:str}/unblock", status_code=200)
async def unblock(request: Request, account_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:blocks")
    rel = await social.unblock(identity.account_id, account_id_from_path(account_id))
    return entities.relationship(rel)


@post("/api/v1/accounts/{account_id:str}/mute", status_code=200)
async def mute(request: Request, account_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:mutes")
    params = await read_params(request)
    rel = await social.mute(
        identity.account_id,
        account_id_from_path(account_id),
        notifications=bool(flag(params, "notifications", default=True)),
        duration_seconds=integer(params, "duration", default=0, low=0, high=10 * 365 * 86400) or 0,
    )
    return entities.relationship(rel)


@post("/api/v1/accounts/{account_id:str}/unmute", status_code=200)
async def unmute(request: Request, account_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:mutes")
    rel = await social.unmute(identity.account_id, account_id_from_path(account_id))
    return entities.relationship(rel)


@get("/api/v1/follow_requests")
async def follow_requests(request: Request) -> Response:
    identity = await require_user(request, "read:follows")
    return await _account_page(request, "follow_requests", identity.account_id)


@post("/api/v1/follow_requests/{account_id:str}/authorize", status_code=200)
async def authorize_follow_request(request: Request, account_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:follows")
    rel = await social.authorize_follow_request(
        identity.account_id, account_id_from_path(account_id)
    )
    return entities.relationship(rel)


@post("/api/v1/follow_requests/{account_id:str}/reject", status_code=200)
async def reject_follow_request(request: Request, account_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:follows")
    rel = await social.reject_follow_request(identity.account_id, account_id_from_path(account_id))
    return entities.relationship(rel)


@get("/api/v1/blocks")
async def blocks(request: Request) -> Response:
    identity = await require_user(request, "read:blocks")
    return await _account_page(request, "blocks", identity.account_id)


@get("/api/v1/mutes")
async def mutes(request: Request) -> Response:
    identity = await require_user(request, "read:mutes")
    return await _account_page(request, "mutes", identity.account_id)


@get("/auth/confirmation")
async def confirm_email(request: Request) -> Response:
    params = await read_params(request)
    confirmed = await accounts.confirm_email(
        text(params, "confirmation_token", max_length=200) or ""
    )
    if not confirmed:
        raise NotFound("This confirmation link is not valid (it may have been used already)")
    return Response(
        "<!doctype html><title>Email confirmed</title><p>Your email address is confirmed. "
        "You can sign in now.</p>",
        media_type="text/html",
    )


ROUTES = [
    sign_up,
    confirm_email,
    verify_credentials,
    update_credentials,
    lookup,
    relationships,
    show_account,
    followers,
    following,
    follow,
    unfollow,
    block,
    unblock,
    mute,
    unmute,
    follow_requests,
    authorize_follow_request,
    reject_follow_request,
    blocks,
    mutes,
]
