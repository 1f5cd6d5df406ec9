"""Inbox edges: the shared inbox and each account's inbox answer 202 once a delivery is stored.

The shared and instance inboxes, where servers send nearly everything, are plain ASGI callables
that the app also serves as fast lanes (node.api.middleware.FastLanes): a delivery then skips
Litestar's routing, request and response objects, which cost more than checking its signature.
(Litestar cannot route an ASGI handler with a path parameter, so an account's inbox is an
ordinary handler.)"""

from __future__ import annotations

from litestar import Request, Response, asgi, post
from litestar.exceptions import MethodNotAllowedException
from litestar.types import ASGIApp, Receive, Scope, Send

from federation.inbox.receive import MAX_INBOX_BYTES, accept_delivery
from federation.routes.actors import local_account
from federation.verification import incoming_request_of_scope, signature_checker
from node.errors import BadRequest, TooLarge

_ACCEPTED_HEADERS = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"0")]


def _too_large() -> TooLarge:
    return TooLarge(f"The body is larger than {MAX_INBOX_BYTES} bytes")


async def read_bounded_body(scope: Scope, receive: Receive) -> bytes:
    """The request body, refused (413) as soon as it is known to pass MAX_INBOX_BYTES."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > MAX_INBOX_BYTES:
            raise _too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the sender went away
            raise BadRequest("The request body is incomplete")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_INBOX_BYTES:
            raise _too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def receive_delivery(scope: Scope, receive: Receive, send: Send) -> None:
    """A POST to the shared (or instance) inbox, as an ASGI callable."""
    body = await read_bounded_body(scope, receive)
    await accept_delivery(incoming_request_of_scope(scope, body), signature_checker, None)
    await send({"type": "http.response.start", "status": 202, "headers": _ACCEPTED_HEADERS})
    await send({"type": "http.response.body", "body": b""})


@asgi("/inbox", copy_scope=False)
async def shared_inbox(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["method"] != "POST":
        raise _not_allowed()
    await receive_delivery(scope, receive, send)


@asgi("/actor/inbox", copy_scope=False)
async def instance_inbox(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["method"] != "POST":
        raise _not_allowed()
    await receive_delivery(scope, receive, send)


def _not_allowed() -> MethodNotAllowedException:
    return MethodNotAllowedException(detail="Inboxes take POST only")


@post(["/users/{username:str}/inbox"], status_code=202, request_max_body_size=MAX_INBOX_BYTES)
async def account_inbox(request: Request, username: str) -> Response:
    account = await local_account(username)
    body = await request.body()  # bounded by request_max_body_size: larger is a 413
    await accept_delivery(
        incoming_request_of_scope(request.scope, body), signature_checker, account["id"]
    )
    return Response(b"", status_code=202, media_type="text/plain")


ROUTES = [shared_inbox, account_inbox, instance_inbox]
# (method, path) -> ASGI callable, served in front of the app (node.api.middleware.FastLanes).
FAST_LANES: dict[tuple[str, str], ASGIApp] = {
    ("POST", "/inbox"): receive_delivery,
    ("POST", "/actor/inbox"): receive_delivery,
}
