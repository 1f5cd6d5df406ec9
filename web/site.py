"""The web UI's router: every page, its security headers and its HTML error pages."""

from __future__ import annotations

import logging
from urllib.parse import quote, urlsplit

from litestar import Request, Response, Router
from litestar.exceptions import HTTPException
from litestar.response import Template
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from node.errors import PinholeError, TooMany
from node.settings import get_settings
from web.pages import ROUTES
from web.render import redirect, wants_json
from web.sessions import SignInRequired

log = logging.getLogger("pinhole.web")


def content_security_policy() -> str:
    """Scripts and styles only from this node (no inline code at all); images and video also
    from the media base URL and, for remote posts, other servers."""
    settings = get_settings()
    media = urlsplit(settings.public_media_url)
    media_origin = f"{media.scheme}://{media.netloc}" if media.netloc else ""
    remote = "https:" if settings.https else "https: http:"
    socket = f"{'wss' if settings.https else 'ws'}://{settings.domain}"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob: {media_origin} {remote}",
            f"media-src 'self' blob: {media_origin} {remote}",
            f"connect-src 'self' {socket}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(app: ASGIApp) -> ASGIApp:
    """Add the CSP and friends to every response of the web UI, error pages included."""
    headers = [
        (b"content-security-policy", content_security_policy().encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped


def _error_page(request: Request, status: int, message: str) -> Response:
    if wants_json(request) or not _accepts_html(request):
        return Response({"error": message}, status_code=status)
    session = getattr(request.state, "web_session", None)
    return Template(
        template_name="error.html",
        context={
            "viewer": session,
            "me": session.account if session else None,
            "csrf": "",
            "site_name": get_settings().site_name,
            "status": status,
            "message": message,
            "title": message,
            "path": request.url.path,
        },
        status_code=status,
        media_type="text/html",
    )


def _accepts_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return not accept or "text/html" in accept or "*/*" in accept


def sign_in_required(request: Request, _: SignInRequired) -> Response:
    if wants_json(request):
        return Response({"error": "Sign in first"}, status_code=401)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(f"/auth/sign_in?next={quote(target, safe='')}")


def pinhole_error_page(request: Request, exc: PinholeError) -> Response:
    message = exc.message
    if exc.status == 404:
        message = "This page isn't available. The link may be broken, or the page removed."
    response = _error_page(request, exc.status, message)
    if isinstance(exc, TooMany):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def http_error_page(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 404:
        return _error_page(
            request, 404, "This page isn't available. The link may be broken, or the page removed."
        )
    return _error_page(request, exc.status_code, exc.detail or "Something went wrong")


def unexpected_error_page(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_page(request, 500, "Something went wrong on our side. Try again in a moment.")


def web_router() -> Router:
    return Router(
        path="/",
        route_handlers=ROUTES,
        middleware=[security_headers],
        exception_handlers={
            SignInRequired: sign_in_required,
            PinholeError: pinhole_error_page,
            HTTPException: http_error_page,
            Exception: unexpected_error_page,
        },
        include_in_schema=False,
    )
