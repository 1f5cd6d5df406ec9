"""Notification edges: list, show, dismiss, clear, unread count, and grouped notifications
(/api/v2/notifications, Mastodon 4.3)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from node import notifications
from node.api import entities
from node.api.authn import require_user
from node.api.pagination import link_header, page_params
from node.api.params import integer, read_params
from node.cursors import Window
from node.errors import Invalid, NotFound
from node.ids import parse_id

DEFAULT_LIMIT = 40
MAX_LIMIT = 80


def _strings(params: dict[str, Any], name: str) -> list[str]:
    value = params.get(name, params.get(f"{name}[]"))
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if len(items) > 50:
        raise Invalid(name, "has too many values")
    return [str(item) for item in items if isinstance(item, str | int)]


def _filter(params: dict[str, Any]) -> notifications.Filter:
    account = params.get("account_id")
    account_id = None
    if account not in (None, ""):
        account_id = parse_id(account)
        if account_id is None:
            raise Invalid("account_id", "must be an id")
    return notifications.Filter(
        types=notifications.known_types(_strings(params, "types")),
        exclude_types=notifications.known_types(_strings(params, "exclude_types")),
        account_id=account_id,
    )


def _id(raw: str) -> int:
    value = parse_id(raw)
    if value is None:
        raise NotFound()
    return value


@get("/api/v1/notifications")
async def list_notifications(request: Request) -> Response:
    identity = await require_user(request, "read:notifications")
    params = await read_params(request)
    page = page_params(params, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    filters = _filter(params)
    window = Window(page.max_id, page.since_id, page.min_id, page.limit)
    rows = await notifications.page(identity.account_id, filters, window)
    shown = await notifications.views(rows, identity.account_id)
    return Response(
        [entities.notification(v) for v in shown],
        headers=link_header(request, [r["id"] for r in rows], page.limit),
    )


@get("/api/v1/notifications/unread_count")
async def unread_count(request: Request) -> dict[str, int]:
    identity = await require_user(request, "read:notifications")
    params = await read_params(request)
    limit = integer(params, "limit", default=100, low=1, high=1000) or 100
    count = await notifications.unread_count(identity.account_id, _filter(params), limit)
    return {"count": count}


@get("/api/v1/notifications/{notification_id:str}")
async def show_notification(request: Request, notification_id: str) -> dict[str, Any]:
    identity = await require_user(request, "read:notifications")
    return entities.notification(
        await notifications.view(identity.account_id, _id(notification_id))
    )


@post("/api/v1/notifications/{notification_id:str}/dismiss", status_code=200)
async def dismiss_notification(request: Request, notification_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:notifications")
    await notifications.dismiss(identity.account_id, _id(notification_id))
    return {}


@post("/api/v1/notifications/dismiss", status_code=200)
async def dismiss_notification_legacy(request: Request) -> dict[str, Any]:
    """The pre-3.0 spelling: the id in the body."""
    identity = await require_user(request, "write:notifications")
    params = await read_params(request)
    await notifications.dismiss(identity.account_id, parse_id(params.get("id")))
    return {}


@post("/api/v1/notifications/clear", status_code=200)
async def clear_notifications(request: Request) -> dict[str, Any]:
    identity = await require_user(request, "write:notifications")
    await notifications.clear(identity.account_id)
    return {}


def _grouped_types(params: dict[str, Any]) -> tuple[str, ...]:
    if "grouped_types" not in params and "grouped_types[]" not in params:
        return notifications.GROUPED_TYPES
    return tuple(
        t
        for t in notifications.known_types(_strings(params, "grouped_types"))
        if t in notifications.GROUPED_TYPES
    )


@get("/api/v2/notifications")
async def grouped_notifications(request: Request) -> Response:
    identity = await require_user(request, "read:notifications")
    params = await read_params(request)
    page = page_params(params, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    window = Window(page.max_id, page.since_id, page.min_id, page.limit)
    found = await notifications.group_page(
        identity.account_id, _filter(params), window, _grouped_types(params)
    )
    cursors = [g.page_min_id for g in found.groups] + [g.page_max_id for g in found.groups]
    return Response(
        entities.grouped_notifications(found),
        headers=link_header(request, cursors, page.limit),
    )


@get("/api/v2/notifications/unread_count")
async def grouped_unread_count(request: Request) -> dict[str, int]:
    identity = await require_user(request, "read:notifications")
    params = await read_params(request)
    limit = integer(params, "limit", default=100, low=1, high=1000) or 100
    count = await notifications.unread_count(
        identity.account_id, _filter(params), limit, grouped_types=_grouped_types(params)
    )
    return {"count": count}


@get("/api/v2/notifications/{group_key:str}")
async def show_group(request: Request, group_key: str) -> dict[str, Any]:
    identity = await require_user(request, "read:notifications")
    found = await notifications.group(
        identity.account_id, notifications.validate_group_key(group_key)
    )
    return entities.grouped_notifications(found)


@post("/api/v2/notifications/{group_key:str}/dismiss", status_code=200)
async def dismiss_group(request: Request, group_key: str) -> dict[str, Any]:
    identity = await require_user(request, "write:notifications")
    await notifications.dismiss_group(
        identity.account_id, notifications.validate_group_key(group_key)
    )
    return {}


@get("/api/v2/notifications/{group_key:str}/accounts")
async def group_accounts(request: Request, group_key: str) -> list[dict[str, Any]]:
    identity = await require_user(request, "read:notifications")
    rows = await notifications.group_accounts(
        identity.account_id, notifications.validate_group_key(group_key)
    )
    return [entities.account(row) for row in rows]


ROUTES = [
    list_notifications,
    unread_count,
    show_notification,
    dismiss_notification,
    dismiss_notification_legacy,
    clear_notifications,
    grouped_notifications,
    grouped_unread_count,
    show_group,
    dismiss_group,
    group_accounts,
]
