"""Direct-message edges: conversations (Mastodon's), plus message requests (ours): `requests=true`
lists them, `accept` moves one among the conversations, `settings` turns requests on or off."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, patch, post

from node import conversations
from node.api import entities
from node.api.authn import require_user
from node.api.pagination import link_header, page_params
from node.api.params import flag, read_params
from node.cursors import Window
from node.errors import Invalid, NotFound
from node.ids import parse_id


def _id(raw: str) -> int:
    value = parse_id(raw)
    if value is None:
        raise NotFound()
    return value


@get("/api/v1/conversations")
async def list_conversations(request: Request) -> Response:
    identity = await require_user(request, "read:statuses")
    params = await read_params(request)
    page = page_params(params, default=20, maximum=40)
    rows = await conversations.page(
        identity.account_id,
        requests=bool(flag(params, "requests", default=False)),
        window=Window(page.max_id, page.since_id, page.min_id, page.limit),
    )
    shown = await conversations.views(rows, identity.account_id)
    return Response(
        [entities.conversation(v) for v in shown],
        headers=link_header(request, [r["last_post_id"] for r in rows], page.limit),
    )


@get("/api/v1/conversations/settings")
async def show_settings(request: Request) -> dict[str, Any]:
    identity = await require_user(request, "read:accounts")
    enabled = await conversations.message_requests_enabled(identity.account_id)
    return {"message_requests": enabled}


@patch("/api/v1/conversations/settings")
async def change_settings(request: Request) -> dict[str, Any]:
    identity = await require_user(request, "write:accounts")
    params = await read_params(request)
    enabled = flag(params, "message_requests")
    if enabled is None:
        raise Invalid("message_requests", "must be true or false")
    return {
        "message_requests": await conversations.set_message_requests(identity.account_id, enabled)
    }


@post("/api/v1/conversations/{conversation_id:str}/read", status_code=200)
async def read_conversation(request: Request, conversation_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:conversations")
    view = await conversations.mark_read(identity.account_id, _id(conversation_id))
    return entities.conversation(view)


@post("/api/v1/conversations/{conversation_id:str}/accept", status_code=200)
async def accept_conversation(request: Request, conversation_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:conversations")
    view = await conversations.accept(identity.account_id, _id(conversation_id))
    return entities.conversation(view)


@delete("/api/v1/conversations/{conversation_id:str}", status_code=200)
async def remove_conversation(request: Request, conversation_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:conversations")
    await conversations.remove(identity.account_id, _id(conversation_id))
    return {}


ROUTES = [
    list_conversations,
    show_settings,
    change_settings,
    read_conversation,
    accept_conversation,
    remove_conversation,
]
