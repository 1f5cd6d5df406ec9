"""Web Push subscription edges (one per access token): create, show, change alerts, remove."""

from __future__ import annotations

from typing import Any

from litestar import Request, delete, get, post, put

from node import push
from node.api import entities
from node.api.authn import require_user
from node.api.params import read_params
from node.errors import Invalid


def _mapping(value: object, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(name, "must be an object")
    return value


def _data(params: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """data[alerts][…] and data[policy] (policy also accepted at the top level)."""
    data = _mapping(params.get("data"), "data")
    alerts = data.get("alerts")
    policy = data.get("policy", params.get("policy"))
    if policy is not None and not isinstance(policy, str):
        raise Invalid("policy", "must be a string")
    return (_mapping(alerts, "data[alerts]") if alerts is not None else None), policy


@post("/api/v1/push/subscription", status_code=200)
async def create_subscription(request: Request) -> dict[str, Any]:
    identity = await require_user(request, "push")
    params = await read_params(request)
    subscription = _mapping(params.get("subscription"), "subscription")
    keys = _mapping(subscription.get("keys"), "subscription[keys]")
    alerts, policy = _data(params)
    row = await push.subscribe(
        identity.token_id,
        identity.account_id,
        push.SubscriptionRequest(
            endpoint=str(subscription.get("endpoint") or ""),
            p256dh=str(keys.get("p256dh") or ""),
            auth=str(keys.get("auth") or ""),
            alerts=alerts,
            policy=policy,
        ),
    )
    return entities.push_subscription(row, await push.vapid_public_key())


@get("/api/v1/push/subscription")
async def show_subscription(request: Request) -> dict[str, Any]:
    identity = await require_user(request, "push")
    row = await push.subscription(identity.token_id)
    return entities.push_subscription(row, await push.vapid_public_key())


@put("/api/v1/push/subscription")
async def update_subscription(request: Request) -> dict[str, Any]:
    identity = await require_user(request, "push")
    alerts, policy = _data(await read_params(request))
    row = await push.update(identity.token_id, alerts, policy)
    return entities.push_subscription(row, await push.vapid_public_key())


@delete("/api/v1/push/subscription", status_code=200)
async def delete_subscription(request: Request) -> dict[str, Any]:
    identity = await require_user(request, "push")
    await push.unsubscribe(identity.token_id)
    return {}


ROUTES = [create_subscription, show_subscription, update_subscription, delete_subscription]
