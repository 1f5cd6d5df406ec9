"""Actor edges: actor documents (with content negotiation), the instance actor, outboxes,
follower/following collections, and each post's dereferenceable id."""

from __future__ import annotations

from typing import Any

import msgspec
from asyncpg import Record
from litestar import Request, Response, get
from litestar.response import Redirect

from federation.actors import account_by_uri
from federation.convert import instance_actor_document, local_actor_document, with_context
from federation.instance_actor import instance_actor_uri, instance_keys
from federation.objects import object_for, outbox_items
from federation.verification import SignatureError, is_signed, verify_request
from federation.vocabulary import CONTEXT, media_type_is_activity
from node import db
from node.errors import NotFound, Unauthorized
from node.ids import parse_id
from node.post_views import hydrate, hydrate_one
from node.settings import get_settings

ACTIVITY_JSON = "application/activity+json; charset=utf-8"
PAGE_SIZE = 20


def activity_response(document: dict[str, Any], status: int = 200) -> Response:
    return Response(
        msgspec.json.encode(document),
        media_type=ACTIVITY_JSON,
        status_code=status,
        headers={"Vary": "Accept, Signature"},
    )


def wants_activity_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    if media_type_is_activity(accept):
        return True
    return "application/json" in accept and "text/html" not in accept


async def requesting_account_id(request: Request) -> int | None:
    """The account behind a signed GET (to show it what it may see); None when unsigned.

    With authorized fetch on, an unsigned or badly signed GET is refused (401)."""
    if not is_signed(request):
        if get_settings().authorized_fetch:
            raise Unauthorized("Request not signed")
        return None
    try:
        verified = await verify_request(request)
    except SignatureError as exc:
        if get_settings().authorized_fetch:
            raise Unauthorized(str(exc)) from None
        return None
    row = await account_by_uri(verified.owner)
    return row["id"] if row is not None else None


async def local_account(username: str) -> Record:
    row = await db.fetchrow(
        """SELECT * FROM accounts WHERE lower(username) = lower($1) AND domain = ''
           AND suspended_at IS NULL""",
        username,
    )
    if row is None:
        raise NotFound()
    return row


@get(["/users/{username:str}"])
async def actor(request: Request, username: str) -> Response:
    account = await local_account(username)
    if not wants_activity_json(request):
        return Redirect(path=f"/@{account['username']}", status_code=302)
    await requesting_account_id(request)
    return activity_response(local_actor_document(account))


@get(["/actor"])
async def instance_actor() -> Response:
    """Always served unsigned: peers fetch it to check our signatures, even in secure mode."""
    _, public_pem = await instance_keys()
    return activity_response(instance_actor_document(public_pem))


@get(["/actor/outbox"])
async def instance_outbox() -> Response:
    uri = instance_actor_uri() + "/outbox"
    return activity_response(
        {"@context": CONTEXT, "id": uri, "type": "OrderedCollection", "totalItems": 0}
    )


def _page_cursor(request: Request) -> tuple[bool, int | None]:
    params = request.query_params
    paged = params.get("page") is not None
    return paged, parse_id(params.get("max_id"))


@get(["/users/{username:str}/outbox"])
async def outbox(request: Request, username: str) -> Response:
    account = await local_account(username)
    await requesting_account_id(request)
    uri = account["outbox_url"]
    paged, max_id = _page_cursor(request)
    if not paged:
        total = await db.fetchval(
            """SELECT count(*) FROM posts WHERE account_id = $1 AND deleted_at IS NULL
               AND visibility IN ('public', 'unlisted')""",
            account["id"],
        )
        return activity_response(
            {
                "@context": CONTEXT,
                "id": uri,
                "type": "OrderedCollection",
                "totalItems": total,
                "first": f"{uri}?page=true",
                "last": f"{uri}?min_id=0&page=true",
            }
        )
    rows = await db.fetch(
        """SELECT id FROM posts WHERE account_id = $1 AND deleted_at IS NULL
             AND visibility IN ('public', 'unlisted') AND ($2::bigint IS NULL OR id < $2)
           ORDER BY id DESC LIMIT $3""",
        account["id"],
        max_id,
        PAGE_SIZE,
    )
    views = await hydrate([row["id"] for row in rows], None)
    page: dict[str, Any] = {
        "@context": CONTEXT,
        "id": f"{uri}?page=true" + (f"&max_id={max_id}" if max_id else ""),
        "type": "OrderedCollectionPage",
        "partOf": uri,
        "orderedItems": await outbox_items(views),
    }
    if len(rows) == PAGE_SIZE:
        page["next"] = f"{uri}?max_id={rows[-1]['id']}&page=true"
    return activity_response(page)


async def _graph_collection(request: Request, username: str, kind: str) -> Response:
    account = await local_account(username)
    await requesting_account_id(request)
    uri = account["followers_url" if kind == "followers" else "following_url"]
    owner, listed = (
        ("target_account_id", "account_id")
        if kind == "followers"
        else ("account_id", "target_account_id")
    )
    paged, max_id = _page_cursor(request)
    if not paged:
        total = account["followers_count" if kind == "followers" else "following_count"]
        return activity_response(
            {
                "@context": CONTEXT,
                "id": uri,
                "type": "OrderedCollection",
                "totalItems": total,
                "first": f"{uri}?page=true",
            }
        )
    rows = await db.fetch(
        f"""SELECT f.id, a.uri FROM follows f JOIN accounts a ON a.id = f.{listed}
            WHERE f.{owner} = $1 AND a.suspended_at IS NULL
              AND ($2::bigint IS NULL OR f.id < $2)
            ORDER BY f.id DESC LIMIT $3""",
        account["id"],
        max_id,
        PAGE_SIZE * 2,
    )
    page: dict[str, Any] = {
        "@context": CONTEXT,
        "id": f"{uri}?page=true" + (f"&max_id={max_id}" if max_id else ""),
        "type": "OrderedCollectionPage",
        "partOf": uri,
        "totalItems": account["followers_count" if kind == "followers" else "following_count"],
        "orderedItems": [row["uri"] for row in rows],
    }
    if len(rows) == PAGE_SIZE * 2:
        page["next"] = f"{uri}?max_id={rows[-1]['id']}&page=true"
    return activity_response(page)


@get(["/users/{username:str}/followers"])
async def followers(request: Request, username: str) -> Response:
    return await _graph_collection(request, username, "followers")


@get(["/users/{username:str}/following"])
async def following(request: Request, username: str) -> Response:
    return await _graph_collection(request, username, "following")


async def _local_post_view(request: Request, username: str, post_id: str) -> Any:
    account = await local_account(username)
    viewer = await requesting_account_id(request)
    view = await hydrate_one(parse_id(post_id), viewer)
    if view.account["id"] != account["id"] or not view.post["local"]:
        raise NotFound()
    return view


@get(["/users/{username:str}/statuses/{post_id:str}"])
async def post_object(request: Request, username: str, post_id: str) -> Response:
    if not wants_activity_json(request):
        account = await local_account(username)
        return Redirect(path=f"/@{account['username']}/{post_id}", status_code=302)
    view = await _local_post_view(request, username, post_id)
    return activity_response(await object_for(view))


@get(["/users/{username:str}/statuses/{post_id:str}/activity"])
async def post_activity(request: Request, username: str, post_id: str) -> Response:
    view = await _local_post_view(request, username, post_id)
    if view.reblog is not None:
        return activity_response(await object_for(view))
    items = await outbox_items([view])
    return activity_response(with_context(items[0]))


ROUTES = [
    actor,
    instance_actor,
    instance_outbox,
    outbox,
    followers,
    following,
    post_object,
    post_activity,
]
