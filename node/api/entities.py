"""Domain rows to Mastodon API JSON: the single place where the client API's shapes are made."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from asyncpg import Record

from node.settings import get_settings
from node.social import Relationship

DEFAULT_AVATAR = "/static/avatar.png"
DEFAULT_HEADER = "/static/header.png"


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def acct(row: Record) -> str:
    return row["username"] if not row["domain"] else f"{row['username']}@{row['domain']}"


def account(row: Record) -> dict[str, Any]:
    settings = get_settings()
    avatar = row["avatar_url"] or settings.base_url + DEFAULT_AVATAR
    header = row["header_url"] or settings.base_url + DEFAULT_HEADER
    fields = row["fields"]
    if isinstance(fields, str):
        fields = json.loads(fields)
    return {
        "id": str(row["id"]),
        "username": row["username"],
        "acct": acct(row),
        "display_name": row["display_name"],
        "locked": row["locked"],
        "bot": row["bot"],
        "discoverable": row["discoverable"],
        "indexable": row["discoverable"],
        "group": False,
        "created_at": iso(row["created_at"].replace(hour=0, minute=0, second=0, microsecond=0)),
        "note": row["note"],
        "url": row["url"] or row["uri"],
        "uri": row["uri"],
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": row["followers_count"],
        "following_count": row["following_count"],
        "statuses_count": row["statuses_count"],
        "last_status_at": row["last_status_at"].date().isoformat()
        if row["last_status_at"]
        else None,
        "hide_collections": False,
        "noindex": not row["discoverable"],
        "emojis": [],
        "roles": [],
        "fields": [{"name": f["name"], "value": f["value"], "verified_at": None} for f in fields],
    }


def credential_account(row: Record, user: Record, follow_requests_count: int) -> dict[str, Any]:
    entity = account(row)
    fields = row["fields"]
    if isinstance(fields, str):
        fields = json.loads(fields)
    entity["source"] = {
        "privacy": "public",
        "sensitive": False,
        "language": user["locale"],
        "note": row["note_source"],
        "fields": [{"name": f["name"], "value": f["value"], "verified_at": None} for f in fields],
        "follow_requests_count": follow_requests_count,
    }
    entity["role"] = {
        "id": {"user": "-99", "moderator": "2", "admin": "3"}[user["role"]],
        "name": user["role"].capitalize() if user["role"] != "user" else "",
        "permissions": {"user": "0", "moderator": "1308", "admin": "1"}[user["role"]],
        "color": "",
        "highlighted": user["role"] != "user",
    }
    return entity


def relationship(rel: Relationship) -> dict[str, Any]:
    return {
        "id": str(rel.id),
        "following": rel.following,
        "showing_reblogs": rel.showing_reblogs,
        "notifying": rel.notifying,
        "languages": None,
        "followed_by": rel.followed_by,
        "blocking": rel.blocking,
        "blocked_by": rel.blocked_by,
        "muting": rel.muting,
        "muting_notifications": rel.muting_notifications,
        "requested": rel.requested,
        "requested_by": rel.requested_by,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


def application(app: Any, *, with_secret: bool) -> dict[str, Any]:
    entity = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website or None,
        "scopes": sorted(app.scopes),
        "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": app.redirect_uris,
        "vapid_key": app.vapid_key,
    }
    if with_secret:
        entity["client_id"] = app.client_id
        entity["client_secret"] = app.client_secret
        entity["client_secret_expires_at"] = 0
    return entity
