"""Direct messages: the conversation list, message requests, a chat view, and its live socket."""

from __future__ import annotations

import asyncio
import contextlib

from litestar import Request, Response, WebSocket, get, post, websocket

from node import accounts, chat, conversations, streaming
from node.auth import Identity
from node.cursors import Window
from node.errors import Invalid, NotFound
from node.ids import parse_id
from node.settings import get_settings
from web.forms import field, read_form
from web.presenters import acct
from web.render import json_response, page, redirect, wants_json
from web.sessions import current_session, require_session

LIST_PAGE = 40
CHAT_PAGE = 50


def _conversation_id(raw: str) -> int:
    value = parse_id(raw)
    if value is None:
        raise NotFound()
    return value


async def _conversation_list(owner_id: int, *, requests: bool) -> list:
    rows = await conversations.page(owner_id, requests=requests, window=Window(limit=LIST_PAGE))
    return await conversations.views(rows, owner_id)


async def _request_count(owner_id: int) -> int:
    rows = await conversations.page(owner_id, requests=True, window=Window(limit=LIST_PAGE))
    return len(rows)


@get("/messages")
async def inbox(request: Request) -> Response:
    session = await require_session(request)
    requests = request.query_params.get("requests") == "1"
    return await page(
        request,
        "messages.html",
        title="Messages",
        conversations=await _conversation_list(session.account_id, requests=requests),
        showing_requests=requests,
        request_count=await _request_count(session.account_id),
        current=None,
    )


@get("/messages/new")
async def new_message_page(request: Request) -> Response:
    session = await require_session(request)
    to = request.query_params.get("to", "")[:400]
    recipient = await accounts.lookup_account(to) if to else None
    return await page(
        request,
        "message_new.html",
        title="New message",
        recipient=recipient,
        to=to,
        conversations=await _conversation_list(session.account_id, requests=False),
        error="",
    )


@post("/messages/new")
async def send_first_message(request: Request) -> Response:
    session = await require_session(request)
    form = await read_form(request)
    to = field(form, "to", max_length=400).strip().lstrip("@")
    try:
        recipient = await accounts.lookup_account(to)
    except NotFound:
        recipient = None
    try:
        if recipient is None:
            raise Invalid("to", "is not an account known here")
        post_id = await chat.send(session.account_id, [recipient], field(form, "text"))
    except Invalid as exc:
        return await page(
            request,
            "message_new.html",
            status=422,
            title="New message",
            recipient=recipient,
            to=to,
            conversations=await _conversation_list(session.account_id, requests=False),
            error=exc.message,
        )
    conversation_id = await chat.conversation_of(session.account_id, post_id)
    return redirect(f"/messages/{conversation_id}" if conversation_id else "/messages")


@get("/messages/{conversation_id:str}")
async def conversation_page(request: Request, conversation_id: str) -> Response:
    session = await require_session(request)
    view = await conversations.view(session.account_id, _conversation_id(conversation_id))
    window = Window(max_id=parse_id(request.query_params.get("max_id")), limit=CHAT_PAGE)
    log = await chat.messages(session.account_id, view.row["id"], window)
    if view.row["unread"]:
        view = await conversations.mark_read(session.account_id, view.row["id"])
    # "Seen": the newest of my messages that every other local participant has read.
    others = await conversations.counterparts(view.row)
    read_up_to = min((o["last_read_post_id"] or 0 for o in others), default=0)
    mine = [m.post["id"] for m in log if m.account["id"] == session.account_id]
    seen_id = max((i for i in mine if i <= read_up_to), default=None) if others else None
    return await page(
        request,
        "messages.html",
        title="Chat with " + ", ".join(f"@{acct(a)}" for a in view.accounts),
        conversations=await _conversation_list(
            session.account_id, requests=bool(view.row["request"])
        ),
        showing_requests=bool(view.row["request"]),
        request_count=await _request_count(session.account_id),
        current=view,
        log=log,
        seen_id=seen_id,
        older_max_id=log[0].post["id"] if len(log) == CHAT_PAGE else None,
    )


@post("/messages/{conversation_id:str}")
async def send_message(request: Request, conversation_id: str) -> Response:
    session = await require_session(request)
    form = await read_form(request)
    view = await conversations.view(session.account_id, _conversation_id(conversation_id))
    target = f"/messages/{view.row['id']}"
    try:
        post_id = await chat.send(session.account_id, view.accounts, field(form, "text"))
    except Invalid as exc:
        if wants_json(request):
            raise
        return redirect(target, flash=f"Message not sent: {exc.message}")
    if wants_json(request):
        return json_response({"id": str(post_id)})
    return redirect(f"{target}#message-{post_id}")


@post("/messages/{conversation_id:str}/typing")
async def typing(request: Request, conversation_id: str) -> Response:
    session = await require_session(request)
    await read_form(request)
    await conversations.typing(session.account_id, _conversation_id(conversation_id))
    return json_response({})


@post("/messages/{conversation_id:str}/accept")
async def accept_request(request: Request, conversation_id: str) -> Response:
    session = await require_session(request)
    await read_form(request)
    view = await conversations.accept(session.account_id, _conversation_id(conversation_id))
    return redirect(f"/messages/{view.row['id']}")


@post("/messages/{conversation_id:str}/delete")
async def remove_conversation(request: Request, conversation_id: str) -> Response:
    session = await require_session(request)
    await read_form(request)
    await conversations.remove(session.account_id, _conversation_id(conversation_id))
    return redirect("/messages", flash="Conversation removed.")


async def _until_closed(socket: WebSocket) -> None:
    with contextlib.suppress(Exception):
        while True:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                return


@websocket("/messages/live")
async def live(socket: WebSocket) -> None:
    """The signed-in browser's direct-message events (new messages, typing, read receipts).

    Authenticated by the session cookie, so the Origin must be this site: another site's page
    cannot open it with the visitor's cookie."""
    session = await current_session(socket)  # type: ignore[arg-type]
    if session is None or socket.headers.get("origin") != get_settings().base_url:
        await socket.close(code=4403)
        return
    stream = streaming.Session(
        Identity(
            token_id=0,
            scopes={"read:statuses"},
            app_id=None,
            user_id=session.user_id,
            account_id=session.account_id,
            role=session.role,
        )
    )
    # Subscribed before the socket opens: once the page sees it open, no message is missed.
    await stream.open()
    try:
        await stream.subscribe("direct")
        await socket.accept()
    except BaseException:
        await stream.close()
        raise
    closed = asyncio.create_task(_until_closed(socket))
    try:
        while True:
            following = asyncio.create_task(stream.next_event())
            done, _ = await asyncio.wait({closed, following}, return_when=asyncio.FIRST_COMPLETED)
            if closed in done:
                following.cancel()
                break
            item = following.result()
            if item is None:
                break
            _, event, payload = item
            await socket.send_json({"event": event, "payload": payload})
    finally:
        closed.cancel()
        await stream.close()
        with contextlib.suppress(Exception):
            await socket.close()


ROUTES = [
    inbox,
    new_message_page,
    send_first_message,
    conversation_page,
    send_message,
    typing,
    accept_request,
    remove_conversation,
    live,
]
