"""Profiles at /@username (and /@user@domain for remote ones): header, grid, follow buttons, lists."""

from __future__ import annotations

from dataclasses import dataclass

from asyncpg import Record
from litestar import Request, Response, get, post
from litestar.response import Redirect

from node import accounts, posts, search, social
from node.cursors import Window
from node.errors import NotFound
from node.ids import parse_id
from node.post_views import hydrate
from node.social import Relationship
from web.forms import read_form
from web.presenters import cards, profile_path
from web.render import json_response, page, redirect, wants_activity_json, wants_json
from web.sessions import WebSession, current_session, require_session

GRID_PAGE = 24
LIST_PAGE = 40


def handle_of(raw: str) -> str:
    """`@alice` or `@alice@example.com` from the path; anything else is not a profile."""
    if not raw.startswith("@") or len(raw) < 2:
        raise NotFound()
    return raw[1:]


async def account_for(raw: str, session: WebSession | None = None) -> Record:
    """The account at /@user or /@user@domain; a signed-in visitor's first look at a remote
    account not known here yet fetches it from its server (as search does)."""
    acct = handle_of(raw)
    try:
        return await accounts.lookup_account(acct)
    except NotFound:
        if session is None or "@" not in acct:
            raise
    found = await search.search(
        search.SearchRequest(
            q=f"@{acct}",
            viewer_id=session.account_id,
            types=("accounts",),
            limit=1,
            resolve=True,
        )
    )
    if not found.accounts:
        raise NotFound()
    return await accounts.lookup_account(acct)


@dataclass(frozen=True)
class ProfileAccess:
    relationship: Relationship | None
    is_self: bool
    may_see_posts: bool  # a locked account shows its posts to followers only


async def profile_access(session: WebSession | None, account: Record) -> ProfileAccess:
    if session is None:
        return ProfileAccess(None, False, not account["locked"])
    if session.account_id == account["id"]:
        return ProfileAccess(None, True, True)
    relationship = await social.relationship(session.account_id, account["id"])
    if relationship.blocked_by:
        raise NotFound()
    may_see = not relationship.blocking and (not account["locked"] or relationship.following)
    return ProfileAccess(relationship, False, may_see)


def _window(request: Request, limit: int) -> Window:
    return Window(max_id=parse_id(request.query_params.get("max_id")), limit=limit)


@get("/{handle:str}")
async def profile(request: Request, handle: str) -> Response:
    session = await current_session(request)
    account = await account_for(handle, session)
    if wants_activity_json(request) and account["domain"] == "" and account["uri"]:
        # The same address serves peers: send them to the actor document.
        return Redirect(account["uri"], status_code=303)
    access = await profile_access(session, account)
    viewer_id = session.account_id if session else None
    grid = []
    next_max_id = None
    if access.may_see_posts:
        window = _window(request, GRID_PAGE)
        ids = await posts.account_posts(
            account["id"],
            viewer_id,
            posts.ProfileFilter(exclude_replies=True, exclude_reblogs=True),
            window,
        )
        grid = cards(await hydrate(ids, viewer_id))
        if len(ids) == window.limit:
            next_max_id = ids[-1]
    return await page(
        request,
        "profile.html",
        title=f"{account['display_name'] or account['username']} (@{handle_of(handle)})",
        account=account,
        access=access,
        grid=grid,
        next_max_id=next_max_id,
    )


async def _relation_list(request: Request, handle: str, kind: str) -> Response:
    account = await account_for(handle)
    session = await current_session(request)
    access = await profile_access(session, account)
    result = None
    if access.may_see_posts:
        window = _window(request, LIST_PAGE)
        result = await social.account_list(
            kind, account["id"], max_id=window.max_id, since_id=None, min_id=None, limit=LIST_PAGE
        )
    title = "Followers" if kind == "followers" else "Following"
    return await page(
        request,
        "account_list.html",
        title=f"{title} of @{handle_of(handle)}",
        heading=title,
        account=account,
        access=access,
        accounts=result.accounts if result else [],
        next_max_id=result.cursor_ids[-1]
        if result and len(result.cursor_ids) == LIST_PAGE
        else None,
    )


@get("/{handle:str}/followers")
async def followers(request: Request, handle: str) -> Response:
    return await _relation_list(request, handle, "followers")


@get("/{handle:str}/following")
async def following(request: Request, handle: str) -> Response:
    return await _relation_list(request, handle, "following")


async def _relationship_action(request: Request, handle: str, action: str) -> Response:
    session = await require_session(request)
    await read_form(request)
    account = await account_for(handle)
    verbs = {
        "follow": social.follow,
        "unfollow": social.unfollow,
        "block": social.block,
        "unblock": social.unblock,
        "mute": social.mute,
        "unmute": social.unmute,
    }
    relationship = await verbs[action](session.account_id, account["id"])
    if wants_json(request):
        return json_response(
            {
                "following": relationship.following,
                "requested": relationship.requested,
                "blocking": relationship.blocking,
                "muting": relationship.muting,
            }
        )
    return redirect(profile_path(account))


@post("/{handle:str}/follow")
async def follow(request: Request, handle: str) -> Response:
    return await _relationship_action(request, handle, "follow")


@post("/{handle:str}/unfollow")
async def unfollow(request: Request, handle: str) -> Response:
    return await _relationship_action(request, handle, "unfollow")


@post("/{handle:str}/block")
async def block(request: Request, handle: str) -> Response:
    return await _relationship_action(request, handle, "block")


@post("/{handle:str}/unblock")
async def unblock(request: Request, handle: str) -> Response:
    return await _relationship_action(request, handle, "unblock")


@post("/{handle:str}/mute")
async def mute(request: Request, handle: str) -> Response:
    return await _relationship_action(request, handle, "mute")


@post("/{handle:str}/unmute")
async def unmute(request: Request, handle: str) -> Response:
    return await _relationship_action(request, handle, "unmute")


ROUTES = [profile, followers, following, follow, unfollow, block, unblock, mute, unmute]
