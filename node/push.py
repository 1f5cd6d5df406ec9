"""Web Push: the node's VAPID key pair, one subscription per access token (Mastodon's shape:
endpoint, p256dh/auth keys, alerts per type, a policy), and encrypted delivery (aes128gcm)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
import json
import logging
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import httpx
from asyncpg import Record
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from pywebpush import WebPusher

from node import db
from node.errors import Invalid, NotFound
from node.ids import new_id
from node.notifications import TYPES, NotificationView
from node.settings import get_settings

log = logging.getLogger("pinhole.push")

POLICIES = ("all", "followed", "follower", "none")
TTL_SECONDS = 48 * 3600  # a push service keeps an undelivered message this long
TIMEOUT_SECONDS = 15.0
MAX_ENDPOINT = 2048
BODY_CHARACTERS = 140
_TAGS_RE = re.compile(r"<[^>]+>")

_keys: tuple[str, str] | None = None  # (private PEM, public key as base64url)


# --- VAPID -----------------------------------------------------------------------------------


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _new_key_pair() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return private_pem, _b64url(public)


async def ensure_vapid_keys() -> tuple[str, str]:
    """The node's VAPID key pair (private PEM, public base64url): made and stored in the
    database by the first process that asks, so every web process and worker uses the same.
    Read each time (one small row), so no process can hold a key the others do not."""
    global _keys
    row = await db.fetchrow("SELECT private_key_pem, public_key FROM push_vapid_keys")
    if row is None:
        private_pem, public_key = _new_key_pair()
        await db.execute(
            """INSERT INTO push_vapid_keys (id, private_key_pem, public_key) VALUES (1, $1, $2)
               ON CONFLICT (id) DO NOTHING""",
            private_pem,
            public_key,
        )
        row = await db.fetchrow("SELECT private_key_pem, public_key FROM push_vapid_keys")
    _keys = (row["private_key_pem"], row["public_key"])
    return _keys


async def vapid_public_key() -> str:
    return (await ensure_vapid_keys())[1]


def known_vapid_public_key() -> str:
    """The public key as this process last read it (at start at the latest), for renderers
    that cannot wait on the database."""
    return _keys[1] if _keys else ""


# --- subscriptions ---------------------------------------------------------------------------


def _is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_global and not ip.is_multicast


def _check_endpoint(endpoint: str) -> str:
    endpoint = (endpoint or "").strip()
    parts = urlsplit(endpoint)
    allow_private = get_settings().allow_private_addresses
    schemes = ("https", "http") if allow_private else ("https",)
    if not endpoint or len(endpoint) > MAX_ENDPOINT or parts.scheme not in schemes:
        raise Invalid("subscription[endpoint]", "must be an https URL")
    if not parts.hostname:
        raise Invalid("subscription[endpoint]", "must be an https URL")
    return endpoint


def _check_key(value: str | None, field: str, size: int) -> str:
    value = (value or "").strip()
    try:
        raw = _b64url_decode(value.replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError):
        raise Invalid(field, "must be base64url") from None
    if len(raw) != size or (size == 65 and raw[0] != 4):
        raise Invalid(field, "is not a valid key")
    return _b64url(raw)


def _alerts(raw: dict[str, Any] | None, current: dict[str, bool] | None = None) -> dict[str, bool]:
    """Alerts per notification type; those not given keep their value (false when new)."""
    alerts = {t: False for t in TYPES} | (current or {})
    for name, value in (raw or {}).items():
        if name in alerts:
            alerts[name] = value in (True, "true", "1", 1, "on")
    return alerts


def _policy(raw: str | None, current: str = "all") -> str:
    if raw in (None, ""):
        return current
    if raw not in POLICIES:
        raise Invalid("policy", f"must be one of {', '.join(POLICIES)}")
    return raw


@dataclass(frozen=True)
class SubscriptionRequest:
    endpoint: str
    p256dh: str
    auth: str
    alerts: dict[str, Any] | None = None
    policy: str | None = None


async def subscribe(token_id: int, account_id: int, request: SubscriptionRequest) -> Record:
    """Subscribe this access token to Web Push, replacing the token's earlier subscription."""
    endpoint = _check_endpoint(request.endpoint)
    p256dh = _check_key(request.p256dh, "subscription[keys][p256dh]", 65)
    auth = _check_key(request.auth, "subscription[keys][auth]", 16)
    return await db.fetchrow(
        """INSERT INTO push_subscriptions (id, token_id, account_id, endpoint, p256dh, auth,
                                           alerts, policy)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)
           ON CONFLICT (token_id) DO UPDATE SET
               id = EXCLUDED.id, endpoint = EXCLUDED.endpoint, p256dh = EXCLUDED.p256dh,
               auth = EXCLUDED.auth, alerts = EXCLUDED.alerts, policy = EXCLUDED.policy,
               created_at = now(), updated_at = now()
           RETURNING *""",
        new_id(),
        token_id,
        account_id,
        endpoint,
        p256dh,
        auth,
        json.dumps(_alerts(request.alerts)),
        _policy(request.policy),
    )


async def subscription(token_id: int) -> Record:
    row = await db.fetchrow("SELECT * FROM push_subscriptions WHERE token_id = $1", token_id)
    if row is None:
        raise NotFound("Record not found")
    return row


async def update(token_id: int, alerts: dict[str, Any] | None, policy: str | None) -> Record:
    """Change the alerts and policy of the token's subscription (the endpoint stays)."""
    current = await subscription(token_id)
    return await db.fetchrow(
        """UPDATE push_subscriptions SET alerts = $2::jsonb, policy = $3, updated_at = now()
           WHERE token_id = $1 RETURNING *""",
        token_id,
        json.dumps(_alerts(alerts, alerts_of(current))),
        _policy(policy, current["policy"]),
    )


async def unsubscribe(token_id: int) -> None:
    await db.execute("DELETE FROM push_subscriptions WHERE token_id = $1", token_id)


def alerts_of(row: Record) -> dict[str, bool]:
    value = row["alerts"]
    return json.loads(value) if isinstance(value, str) else dict(value)


async def subscriptions_for(notification_id: int) -> list[int]:
    """Subscriptions that want this notification: of its recipient, through a token still
    valid, with the type's alert on, and a policy the sender passes (all; followed: the
    recipient follows the sender; follower: the sender follows the recipient; none)."""
    rows = await db.fetch(
        """SELECT s.id FROM notifications n
           JOIN push_subscriptions s ON s.account_id = n.account_id
           JOIN oauth_tokens t ON t.id = s.token_id AND t.revoked_at IS NULL
           WHERE n.id = $1 AND coalesce((s.alerts ->> n.type)::boolean, false)
             AND (s.policy = 'all'
                  OR (s.policy = 'followed' AND EXISTS (
                        SELECT 1 FROM follows f WHERE f.account_id = n.account_id
                          AND f.target_account_id = n.from_account_id))
                  OR (s.policy = 'follower' AND EXISTS (
                        SELECT 1 FROM follows f WHERE f.account_id = n.from_account_id
                          AND f.target_account_id = n.account_id)))
           ORDER BY s.id""",
        notification_id,
    )
    return [r["id"] for r in rows]


# --- delivery --------------------------------------------------------------------------------

_TITLES = {
    "mention": "{name} mentioned you",
    "status": "{name} just posted",
    "reblog": "{name} boosted your post",
    "follow": "{name} followed you",
    "follow_request": "{name} asked to follow you",
    "favourite": "{name} liked your post",
    "poll": "A poll you voted in has ended",
    "update": "{name} edited a post",
    "admin.sign_up": "{name} signed up",
    "admin.report": "{name} filed a report",
}


def _plain(html: str) -> str:
    text = _TAGS_RE.sub(" ", html.replace("<br>", "\n").replace("</p>", "\n"))
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'")):
        text = text.replace(entity, char)
    text = " ".join(text.replace("&amp;", "&").split())
    return text if len(text) <= BODY_CHARACTERS else text[: BODY_CHARACTERS - 1] + "…"


def payload_for(view: NotificationView, locale: str = "en") -> dict[str, Any]:
    """What the device is shown, in Mastodon's Web Push payload shape (without the access
    token, which this node does not keep)."""
    account = view.account
    name = account["display_name"] or account["username"]
    if view.status is not None:
        post = view.status.post
        body = _plain(post["spoiler_text"] or post["content"]) or "(photo)"
    else:
        body = _plain(account["note"])
    settings = get_settings()
    return {
        "notification_id": str(view.row["id"]),
        "notification_type": view.row["type"],
        "preferred_locale": locale,
        "icon": account["avatar_url"] or f"{settings.base_url}/static/avatar.png",
        "title": _TITLES[view.row["type"]].format(name=name),
        "body": body,
    }


class Outcome(Enum):
    SENT = "sent"
    GONE = "gone"  # the push service forgot the subscription (404/410): it was removed
    RETRY = "retry"  # a temporary failure: try again later
    DROPPED = "dropped"  # refused for good (another 4xx, a forbidden address)


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    status: int | None = None
    retry_after: float | None = None


async def _address_allowed(host: str, port: int) -> bool:
    if get_settings().allow_private_addresses:
        return True
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port)
    except OSError:
        return False
    return bool(infos) and all(_is_public_address(info[4][0]) for info in infos)


def _vapid_headers(endpoint: str, private_pem: str) -> dict[str, str]:
    settings = get_settings()
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    vapid = Vapid02(private_key=key, conf={"no-strict": True})
    parts = urlsplit(endpoint)
    claims = {
        "aud": f"{parts.scheme}://{parts.netloc}",
        "sub": f"mailto:{settings.contact_email}" if settings.contact_email else settings.base_url,
    }
    return vapid.sign(claims)


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after", "")
    return float(raw) if raw.isdigit() else None


async def send(subscription_id: int, payload: dict[str, Any]) -> Result:
    """Encrypt (RFC 8291, aes128gcm) and POST one message to a subscription's endpoint."""
    row = await db.fetchrow("SELECT * FROM push_subscriptions WHERE id = $1", subscription_id)
    if row is None:
        return Result(Outcome.GONE)
    parts = urlsplit(row["endpoint"])
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not await _address_allowed(parts.hostname or "", port):
        log.warning("push endpoint %s is a private address; not sent", parts.hostname)
        return Result(Outcome.DROPPED)
    private_pem, _ = await ensure_vapid_keys()
    pusher = WebPusher(
        {"endpoint": row["endpoint"], "keys": {"p256dh": row["p256dh"], "auth": row["auth"]}}
    )
    body = pusher.encode(json.dumps(payload).encode(), "aes128gcm")["body"]
    headers = {
        "TTL": str(TTL_SECONDS),
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "Urgency": "normal",
        **_vapid_headers(row["endpoint"], private_pem),
    }
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            response = await client.post(row["endpoint"], content=body, headers=headers)
    except httpx.HTTPError as exc:
        log.info("push to %s failed: %s", parts.hostname, exc)
        return Result(Outcome.RETRY)
    status = response.status_code
    if status < 300:
        return Result(Outcome.SENT, status)
    if status in (404, 410):
        await db.execute("DELETE FROM push_subscriptions WHERE id = $1", subscription_id)
        return Result(Outcome.GONE, status)
    if status in (408, 429) or status >= 500:
        return Result(Outcome.RETRY, status, _retry_after(response))
    return Result(Outcome.DROPPED, status)
