"""The single place that assembles the web application: routes, error rendering, lifespan."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar, Request, Response, get
from litestar.config.cors import CORSConfig
from litestar.exceptions import HTTPException, ValidationException
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp

from federation import actors as federation_actors
from federation import remote_posts
from federation.routes import ROUTES as federation_routes
from federation.routes.inbox import FAST_LANES as federation_fast_lanes
from node import auth, db, push, search, streaming
from node.api import accounts as accounts_api
from node.api import admin as admin_api
from node.api import archive as archive_api
from node.api import conversations as conversations_api
from node.api import directory as directory_api
from node.api import health as health_api
from node.api import instance as instance_api
from node.api import media as media_api
from node.api import media_files
from node.api import notifications as notifications_api
from node.api import oauth as oauth_api
from node.api import push as push_api
from node.api import reports as reports_api
from node.api import search as search_api
from node.api import statuses as statuses_api
from node.api import streaming as streaming_api
from node.api import suggestions as suggestions_api
from node.api import tags as tags_api
from node.api import timelines as timelines_api
from node.api import trends as trends_api
from node.api.middleware import FastLanes, RateLimiting, RequestObservation
from node.errors import PinholeError, TooMany, error_document
from node.jobs import close_jobs
from node.redis import close_redis
from node.settings import get_settings
from web.render import TEMPLATE_CONFIG
from web.site import web_router

log = logging.getLogger("pinhole")

STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"
MAX_BODY_BYTES = 250 * 1024 * 1024  # the largest upload (video) plus form overhead


def _error(message: str, status: int, **extra: object) -> Response:
    return Response({"error": message, **extra}, status_code=status)


def pinhole_error(_: Request, exc: PinholeError) -> Response:
    response = Response(error_document(exc), status_code=exc.status)
    if isinstance(exc, TooMany):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def http_error(_: Request, exc: HTTPException) -> Response:
    message = exc.detail or "Error"
    if exc.status_code == 404:
        message = "Record not found"
    if isinstance(exc, ValidationException):
        return _error(f"Validation failed: {message}", 422)
    return _error(message, exc.status_code, **({} if not exc.headers else {}))


def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error("Internal server error", 500)


@get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@asynccontextmanager
async def lifespan(_: Litestar) -> AsyncIterator[None]:
    await db.open_pool(max_size=get_settings().database_pool_size)
    await push.ensure_vapid_keys()  # the first process to start makes the node's VAPID keys
    await auth.identities.start()
    # Everything made so far (routes, templates, settings) lives as long as the process: keep
    # it out of the collector's full passes, which otherwise stall requests for milliseconds.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        await auth.identities.stop()
        await streaming.close_hub()
        await close_jobs()
        await close_redis()
        await db.close_pool()


def create_app() -> ASGIApp:
    """The Litestar app, behind the fast lanes of the federation inboxes."""
    # Search's resolve=true reaches other servers through federation (node/ cannot import it).
    search.use_remote_lookups(
        search.RemoteLookups(
            account_by_acct=federation_actors.resolve_account,
            account_by_url=federation_actors.get_actor,
            post_by_url=remote_posts.resolve_post,
        )
    )
    app = Litestar(
        route_handlers=[
            *oauth_api.ROUTES,
            *accounts_api.ROUTES,
            *statuses_api.ROUTES,
            *media_api.ROUTES,
            *media_files.ROUTES,
            *search_api.ROUTES,
            *tags_api.ROUTES,
            *trends_api.ROUTES,
            *suggestions_api.ROUTES,
            *directory_api.ROUTES,
            *timelines_api.ROUTES,
            *instance_api.ROUTES,
            *notifications_api.ROUTES,
            *conversations_api.ROUTES,
            *streaming_api.ROUTES,
            *push_api.ROUTES,
            *federation_routes,
            *health_api.ROUTES,
            *reports_api.ROUTES,
            *admin_api.ROUTES,
            *archive_api.ROUTES,
            live,
            create_static_files_router(path="/static", directories=[STATIC_DIR]),
            web_router(),  # its /{handle} pages yield to every static path above
        ],
        template_config=TEMPLATE_CONFIG,
        lifespan=[lifespan],
        middleware=[RequestObservation(), RateLimiting()],
        logging_config=None,  # node.observability configures logging (plain or JSON lines)
        exception_handlers={
            PinholeError: pinhole_error,
            HTTPException: http_error,
            Exception: unexpected_error,
        },
        cors_config=CORSConfig(
            allow_origins=["*"],
            allow_headers=["*"],
            expose_headers=[
                "Link",
                "Retry-After",
                "X-Request-Id",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
            ],
        ),
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=None,
        debug=False,
    )
    return FastLanes(app, federation_fast_lanes)
