"""Streaming edges: the Mastodon streaming WebSocket (`/api/v1/streaming`), its server-sent
events endpoints, and the health check. Events come from node.streaming's hub."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, get, websocket
from litestar.connection import WebSocket
from litestar.exceptions import WebSocketDisconnect
from litestar.response import Response, Stream

from node import conversations, streaming
from node.api.authn import bearer_token, optional_identity
from node.auth import Identity, identity_for_token
from node.errors import PinholeError, Unauthorized
from node.ids import parse_id

log = logging.getLogger("pinhole.streaming")

HEARTBEAT_SECONDS = 15.0  # SSE comment lines keep proxies from closing an idle stream
TYPING_INTERVAL_SECONDS = 1.0  # at most one typing indicator per conversation and second


# --- WebSocket -------------------------------------------------------------------------------


def _protocol_token(socket: WebSocket) -> str | None:
    """The token some clients send as the WebSocket subprotocol (Mastodon accepts it there)."""
    raw = socket.headers.get("sec-websocket-protocol", "")
    token = raw.split(",")[0].strip()
    return token or None


async def _refuse(socket: WebSocket, status: int, message: str) -> None:
    """Answer the upgrade with an HTTP error where the server can, else close it."""
    await socket.receive()  # websocket.connect
    if "websocket.http.response" in (socket.scope.get("extensions") or {}):
        body = json.dumps({"error": message}).encode()
        await socket.send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await socket.send({"type": "websocket.http.response.body", "body": body})
    else:
        await socket.send({"type": "websocket.close", "code": 4000 + status, "reason": message})


async def _send(socket: WebSocket, data: dict[str, Any]) -> None:
    await socket.send_text(json.dumps(data))


async def _pump(socket: WebSocket, session: streaming.Session) -> None:
    """Queued events to the client, each as Mastodon sends them: {stream, event, payload}."""
    while True:
        frame = await session.next_frame()
        if frame is None:
            return
        await socket.send_text(frame)


class _Commands:
    """What a client sends over the socket: subscribe, unsubscribe, and (ours) pinhole.typing and
    pinhole.read for direct-message conversations."""

    def __init__(self, socket: WebSocket, session: streaming.Session) -> None:
        self.socket = socket
        self.session = session
        self.typed_at: dict[int, float] = {}

    async def handle(self, raw: str) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            await _send(self.socket, {"error": "Malformed JSON", "status": 400})
            return
        if not isinstance(message, dict):
            await _send(self.socket, {"error": "Expected a JSON object", "status": 400})
            return
        try:
            await self._dispatch(message)
        except PinholeError as exc:
            await _send(self.socket, {"error": exc.message, "status": exc.status})

    async def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind in ("subscribe", "unsubscribe"):
            stream = str(message.get("stream") or "")
            tag = message.get("tag")
            list_id = message.get("list")
            act = self.session.subscribe if kind == "subscribe" else self.session.unsubscribe
            await act(
                stream,
                tag=str(tag) if tag is not None else None,
                list_id=str(list_id) if list_id is not None else None,
            )
        elif kind in (conversations.TYPING, conversations.READ):
            self.session.identity.require("write:conversations")
            conversation_id = parse_id(message.get("conversation_id"))
            if kind == conversations.READ:
                await conversations.mark_read(self.session.viewer_id, conversation_id)
                return
            now = time.monotonic()
            if conversation_id is not None and (
                now - self.typed_at.get(conversation_id, 0) >= TYPING_INTERVAL_SECONDS
            ):
                self.typed_at[conversation_id] = now
                await conversations.typing(self.session.viewer_id, conversation_id)
        else:
            await _send(self.socket, {"error": f"Unknown message type {kind!r}", "status": 400})


async def _listen(socket: WebSocket, commands: _Commands) -> None:
    while True:
        try:
            raw = await socket.receive_text()
        except WebSocketDisconnect:
            return
        await commands.handle(raw)


async def _identity(socket: WebSocket) -> tuple[Identity | None, str | None]:
    protocol = _protocol_token(socket)
    token = bearer_token(socket) or protocol  # type: ignore[arg-type]
    if not token:
        return None, None
    return await identity_for_token(token), (protocol if token == protocol else None)


@websocket(["/api/v1/streaming", "/api/v1/streaming/"])
async def streaming_socket(socket: WebSocket) -> None:
    identity, protocol = await _identity(socket)
    if identity is None or identity.account_id is None:
        await _refuse(socket, 401, "Missing or invalid access token")
        return
    session = streaming.Session(identity)
    await session.open()
    try:
        await socket.accept(subprotocols=protocol)
        commands = _Commands(socket, session)
        initial = socket.query_params.get("stream")
        if initial:
            await commands.handle(
                json.dumps(
                    {
                        "type": "subscribe",
                        "stream": initial,
                        "tag": socket.query_params.get("tag"),
                        "list": socket.query_params.get("list"),
                    }
                )
            )
        tasks = [
            asyncio.create_task(_pump(socket, session)),
            asyncio.create_task(_listen(socket, commands)),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, Exception):
                    await task
        if session.overflowed:
            with contextlib.suppress(Exception):
                await socket.close(code=1013, reason="Too many events waiting")
    finally:
        await session.close()


# --- server-sent events ----------------------------------------------------------------------


async def _events(session: streaming.Session) -> AsyncIterator[bytes]:
    try:
        yield b":)\n"
        while True:
            try:
                item = await asyncio.wait_for(session.next_event(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield b":thump\n"
                continue
            if item is None:
                return
            _, event, payload = item
            yield f"event: {event}\ndata: {payload}\n\n".encode()
    finally:
        await session.close()


async def _event_stream(request: Request, stream: str) -> Stream:
    identity = await optional_identity(request)
    if identity is None or identity.account_id is None:
        raise Unauthorized("Missing or invalid access token")
    session = streaming.Session(identity)
    await session.open()
    try:
        await session.subscribe(
            stream,
            tag=request.query_params.get("tag"),
            list_id=request.query_params.get("list"),
        )
    except BaseException:
        await session.close()
        raise
    return Stream(
        _events(session),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _media(request: Request, stream: str) -> str:
    only_media = request.query_params.get("only_media", "").lower() in ("1", "true")
    return f"{stream}:media" if only_media else stream


@get("/api/v1/streaming/user")
async def sse_user(request: Request) -> Stream:
    return await _event_stream(request, "user")


@get("/api/v1/streaming/user/notification")
async def sse_user_notification(request: Request) -> Stream:
    return await _event_stream(request, "user:notification")


@get("/api/v1/streaming/public")
async def sse_public(request: Request) -> Stream:
    return await _event_stream(request, _media(request, "public"))


@get("/api/v1/streaming/public/local")
async def sse_public_local(request: Request) -> Stream:
    return await _event_stream(request, _media(request, "public:local"))


@get("/api/v1/streaming/public/remote")
async def sse_public_remote(request: Request) -> Stream:
    return await _event_stream(request, _media(request, "public:remote"))


@get("/api/v1/streaming/hashtag")
async def sse_hashtag(request: Request) -> Stream:
    return await _event_stream(request, "hashtag")


@get("/api/v1/streaming/hashtag/local")
async def sse_hashtag_local(request: Request) -> Stream:
    return await _event_stream(request, "hashtag:local")


@get("/api/v1/streaming/list")
async def sse_list(request: Request) -> Stream:
    return await _event_stream(request, "list")


@get("/api/v1/streaming/direct")
async def sse_direct(request: Request) -> Stream:
    return await _event_stream(request, "direct")


@get("/api/v1/streaming/health")
async def streaming_health() -> Response:
    return Response("OK", media_type="text/plain")


ROUTES = [
    streaming_socket,
    sse_user,
    sse_user_notification,
    sse_public,
    sse_public_local,
    sse_public_remote,
    sse_hashtag,
    sse_hashtag_local,
    sse_list,
    sse_direct,
    streaming_health,
]
