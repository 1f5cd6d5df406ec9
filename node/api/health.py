"""Operations endpoints: readiness of the node's dependencies and Prometheus metrics."""

from __future__ import annotations

import secrets

from litestar import Request, Response, get

from node.errors import Unauthorized
from node.observability import readiness, render_metrics
from node.settings import get_settings


@get("/health/ready")
async def ready() -> Response:
    """200 when Postgres, Redis and media storage all answer; 503 naming what does not."""
    checks = await readiness()
    healthy = all(state == "ok" for state in checks.values())
    return Response(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status_code=200 if healthy else 503,
        headers={"Cache-Control": "no-store"},
    )


@get("/metrics")
async def metrics(request: Request) -> Response:
    expected = get_settings().metrics_token
    if expected:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip(), expected):
            raise Unauthorized("The metrics token is missing or wrong")
    return Response(
        await render_metrics(),
        media_type="text/plain; version=0.0.4; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )


ROUTES = [ready, metrics]
