"""Inbox edges: the shared inbox and each account's inbox answer 202 once a delivery is stored."""

from __future__ import annotations

from litestar import Request, Response, post

from federation.inbox.receive import MAX_INBOX_BYTES, accept_delivery
from federation.routes.actors import local_account
from federation.verification import incoming_request, signature_checker


async def _receive(request: Request, recipient_account_id: int | None) -> Response:
    body = await request.body()  # bounded by request_max_body_size: larger is a 413
    await accept_delivery(incoming_request(request, body), signature_checker, recipient_account_id)
    return Response(b"", status_code=202, media_type="text/plain")


@post(["/inbox"], status_code=202, request_max_body_size=MAX_INBOX_BYTES)
async def shared_inbox(request: Request) -> Response:
    return await _receive(request, None)


@post(["/users/{username:str}/inbox"], status_code=202, request_max_body_size=MAX_INBOX_BYTES)
async def account_inbox(request: Request, username: str) -> Response:
    account = await local_account(username)
    return await _receive(request, account["id"])


@post(["/actor/inbox"], status_code=202, request_max_body_size=MAX_INBOX_BYTES)
async def instance_inbox(request: Request) -> Response:
    return await _receive(request, None)


ROUTES = [shared_inbox, account_inbox, instance_inbox]
