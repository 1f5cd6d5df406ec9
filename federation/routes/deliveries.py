"""Delivery state for staff: where each activity we sent has (or has not yet) arrived."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from federation.delivery import delivery_states
from node import admin
from node.api.authn import require_user
from node.api.entities import iso
from node.api.params import integer, read_params, text
from node.errors import Invalid

STATES = ("pending", "delivered", "failed", "skipped")


@get(["/api/v1/admin/federation/deliveries"])
async def deliveries(request: Request) -> list[dict[str, Any]]:
    identity = await require_user(request, "admin:read")
    admin.require_role(identity.role, "moderator")
    params = await read_params(request)
    state = text(params, "state", max_length=16)
    if state is not None and state not in STATES:
        raise Invalid("state", f"must be one of {', '.join(STATES)}")
    rows = await delivery_states(
        activity_uri=text(params, "activity_uri", max_length=2000),
        domain=text(params, "domain", max_length=255),
        state=state,
        limit=integer(params, "limit", default=100, low=1, high=500) or 100,
    )
    return [
        {
            "id": str(row["id"]),
            "activity_uri": row["activity_uri"],
            "activity_type": row["activity_type"],
            "inbox_url": row["inbox_url"],
            "domain": row["domain"],
            "state": row["state"],
            "attempts": row["attempts"],
            "last_status": row["last_status"],
            "last_error": row["last_error"] or None,
            "next_attempt_at": iso(row["next_attempt_at"]),
            "created_at": iso(row["created_at"]),
            "delivered_at": iso(row["delivered_at"]),
        }
        for row in rows
    ]


ROUTES = [deliveries]
