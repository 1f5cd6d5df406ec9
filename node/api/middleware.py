"""Request middleware: request ids, access logs and latency metrics; rate limits per family;
fast lanes that serve hot machine-to-machine endpoints in front of the app."""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from node import ratelimit
from node.auth import identity_for_token
from node.errors import PinholeError, error_document
from node.observability import new_request_id, observe_request, request_id_var
from node.settings import get_settings

access_log = logging.getLogger("pinhole.access")


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return ""


class RequestObservation(ASGIMiddleware):
    """Gives each request an id (X-Request-Id in and out), logs it and times it per route."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request_id = new_request_id(_header(scope, b"x-request-id"))
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await next_app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            observe_request(scope["method"], route, status, elapsed)
            access_log.info(
                "%s %s %s %.1f ms",
                scope["method"],
                scope["path"],
                status,
                elapsed * 1000,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "client": (scope.get("client") or ("", 0))[0],
                },
            )
            request_id_var.reset(token)


_KEY_ID = re.compile(r'keyid\s*=\s*"([^"]+)"', re.IGNORECASE)


def _family_of(method: str, path: str) -> tuple[str, list[str]] | None:
    """Which subject (user, ip, domain) and which limit families a request counts against."""
    path = path.rstrip("/") or "/"
    if method == "POST" and path == "/api/v1/accounts":
        return "ip", ["sign_up"]
    if method == "POST" and path in ("/oauth/token", "/oauth/authorize"):
        return "ip", ["sign_in"]
    if method == "POST" and path.endswith("/inbox"):
        return "domain", ["inbox"]
    if not path.startswith("/api/"):
        return None
    if path == "/api/v1/streaming" or path.startswith("/api/v1/streaming/"):
        return None
    if method == "POST" and path in ("/api/v1/media", "/api/v2/media"):
        return "user", ["api", "uploads"]
    if method == "GET" and path.startswith("/api/v1/timelines/"):
        return "user", ["api", "feeds"]
    return "user", ["api"]


def _signing_domain(scope: Scope) -> str:
    """The host of the key that claims to have signed an inbox delivery (draft-cavage or
    RFC 9421). Unverified here, which is enough for sharing out a budget."""
    header = _header(scope, b"signature") + " " + _header(scope, b"signature-input")
    match = _KEY_ID.search(header)
    return urlsplit(match.group(1)).netloc.lower() if match else ""


def _bearer(scope: Scope) -> str:
    scheme, _, token = _header(scope, b"authorization").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    query = scope.get("query_string", b"").decode("latin-1")
    match = re.search(r"(?:^|&)access_token=([^&]+)", query)
    return match.group(1) if match else ""


async def _subject(scope: Scope, kind: str) -> str:
    client_ip = (scope.get("client") or ("unknown", 0))[0]
    if kind == "domain":
        domain = _signing_domain(scope)
        return f"domain:{domain}" if domain else f"ip:{client_ip}"
    if kind == "user" and (token := _bearer(scope)):
        identity = await identity_for_token(token)
        if identity is not None:
            # The handler's authentication reads this instead of looking the token up again.
            scope["pinhole_identity"] = identity  # type: ignore[typeddict-unknown-key]
            if identity.user_id is not None:
                return f"user:{identity.user_id}"
            return f"token:{identity.token_id}"
    return f"ip:{client_ip}"


def _rate_headers(verdict: ratelimit.Verdict) -> list[tuple[bytes, bytes]]:
    reset = datetime.fromtimestamp(verdict.reset_at, UTC).isoformat(timespec="milliseconds")
    return [
        (b"x-ratelimit-limit", str(verdict.limit).encode()),
        (b"x-ratelimit-remaining", str(verdict.remaining).encode()),
        (b"x-ratelimit-reset", reset.replace("+00:00", "Z").encode()),
    ]


class RateLimiting(ASGIMiddleware):
    """Token buckets per user (or IP, or remote domain) and endpoint family; 429 when empty."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        family = _family_of(scope["method"], scope["path"])
        if family is None or not get_settings().rate_limit_enabled:
            await next_app(scope, receive, send)
            return
        kind, families = family
        subject = await _subject(scope, kind)
        verdict = await ratelimit.take(subject, [ratelimit.limit_for(f) for f in families])
        if verdict is None:
            await next_app(scope, receive, send)
            return
        headers = _rate_headers(verdict)
        if not verdict.allowed:
            body = json.dumps({"error": "Too many requests"}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"retry-after", str(max(1, verdict.retry_after)).encode()),
                        *headers,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await next_app(scope, receive, send_with_limits)


class FastLanes:
    """Serves a few hot machine-to-machine endpoints (the federation inboxes) in front of the
    Litestar app: they skip its router and its CORS and exception layers, which together cost
    more than such a request's own work, yet pass through the same request middleware (ids,
    access log, metrics, rate limits) and answer errors in the same JSON. Every other request,
    and every other scope, goes to the app.

    A lane is an ASGI callable for one (method, path); it raises PinholeError to refuse."""

    def __init__(self, app: ASGIApp, lanes: dict[tuple[str, str], ASGIApp]) -> None:
        self.app = app
        self.lanes = lanes
        self.observation = RequestObservation()
        self.rate_limiting = RateLimiting()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            lane = self.lanes.get((scope["method"], scope["path"]))
            if lane is not None:
                scope["path_template"] = scope["path"]  # what metrics and logs name the route

                async def limited(scope: Scope, receive: Receive, send: Send) -> None:
                    await self.rate_limiting.handle(scope, receive, send, _answering_errors(lane))

                await self.observation.handle(scope, receive, send, limited)
                return
        await self.app(scope, receive, send)


_lane_log = logging.getLogger("pinhole")


def _answering_errors(lane: ASGIApp) -> ASGIApp:
    """The lane, answering a PinholeError with its status and error document, and anything
    unexpected with a logged 500 (as the app's exception handlers do)."""

    async def answered(scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await lane(scope, receive, tracking_send)
        except PinholeError as exc:
            if started:
                raise
            await _send_json(send, exc.status, error_document(exc))
        except Exception:
            if started:
                raise
            _lane_log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            await _send_json(send, 500, {"error": "Internal server error"})

    return answered


async def _send_json(send: Send, status: int, document: dict[str, object]) -> None:
    body = json.dumps(document, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
