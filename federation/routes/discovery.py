"""Discovery edges: WebFinger, host-meta and NodeInfo, so other servers can find us and our
accounts."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import msgspec
from litestar import Request, Response, get

from federation.instance_actor import instance_actor_uri
from node import db
from node.errors import BadRequest, NotFound
from node.settings import get_settings

JRD = "application/jrd+json; charset=utf-8"
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/{version}"
SOFTWARE_VERSION = "0.1.0"


def _json(document: Any, media_type: str, status: int = 200) -> Response:
    return Response(
        msgspec.json.encode(document),
        media_type=media_type,
        status_code=status,
        headers={"Access-Control-Allow-Origin": "*"},
    )


async def _account_for_resource(resource: str) -> tuple[str, str, str] | None:
    """(username, actor uri, profile url) for an `acct:` or URL resource naming a local actor."""
    settings = get_settings()
    domain = settings.domain
    if resource.startswith("acct:") or ("@" in resource and "://" not in resource):
        username, _, host = resource.removeprefix("acct:").lstrip("@").rpartition("@")
        if not username or host.lower() != domain:
            return None
    else:
        parts = urlsplit(resource)
        host = (parts.hostname or "").lower() + (f":{parts.port}" if parts.port else "")
        if host != domain:
            return None
        path = parts.path.rstrip("/")
        if path == "/actor":
            username = domain
        elif path.startswith("/users/") and path.count("/") == 2:
            username = path.removeprefix("/users/")
        elif path.startswith("/@") and path.count("/") == 1:
            username = path.removeprefix("/@")
        else:
            return None
    if username.lower() == domain:
        return domain, instance_actor_uri(), f"{settings.base_url}/about"
    row = await db.fetchrow(
        """SELECT username, uri, url FROM accounts
           WHERE lower(username) = lower($1) AND domain = '' AND suspended_at IS NULL""",
        username,
    )
    if row is None:
        return None
    return row["username"], row["uri"], row["url"]


@get(["/.well-known/webfinger"])
async def webfinger(request: Request) -> Response:
    resource = unquote(request.query_params.get("resource", "")).strip()
    if not resource:
        raise BadRequest("resource is required")
    found = await _account_for_resource(resource)
    if found is None:
        raise NotFound()
    username, uri, url = found
    settings = get_settings()
    return _json(
        {
            "subject": f"acct:{username}@{settings.domain}",
            "aliases": [url, uri],
            "links": [
                {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": url},
                {"rel": "self", "type": "application/activity+json", "href": uri},
                {
                    "rel": "http://ostatus.org/schema/1.0/subscribe",
                    "template": f"{settings.base_url}/authorize_interaction?uri={{uri}}",
                },
            ],
        },
        JRD,
    )


@get(["/.well-known/host-meta"])
async def host_meta() -> Response:
    template = f"{get_settings().base_url}/.well-known/webfinger?resource={{uri}}"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template="{template}"/>\n'
        "</XRD>\n"
    )
    return Response(body, media_type="application/xrd+xml; charset=utf-8")


@get(["/.well-known/nodeinfo"])
async def nodeinfo_index() -> Response:
    base = get_settings().base_url
    return _json(
        {
            "links": [
                {"rel": NODEINFO_SCHEMA.format(version="2.0"), "href": f"{base}/nodeinfo/2.0"},
                {"rel": NODEINFO_SCHEMA.format(version="2.1"), "href": f"{base}/nodeinfo/2.1"},
            ]
        },
        "application/json",
    )


async def _open_registrations() -> bool:
    value = await db.fetchval("SELECT value FROM instance_settings WHERE key = 'registration_mode'")
    settings = get_settings()
    if value is None:
        value = settings.registration_mode if settings.registrations_open else "closed"
    return value == "open"


@get(["/nodeinfo/{version:str}"])
async def nodeinfo(version: str) -> Response:
    version = version.removesuffix(".json")
    if version not in ("2.0", "2.1"):
        raise NotFound()
    counts = await db.fetchrow(
        """SELECT (SELECT count(*) FROM users WHERE NOT disabled) AS total,
                  (SELECT count(*) FROM users WHERE NOT disabled
                     AND last_active_at > now() - interval '30 days') AS month,
                  (SELECT count(*) FROM users WHERE NOT disabled
                     AND last_active_at > now() - interval '180 days') AS halfyear,
                  (SELECT count(*) FROM posts
                     WHERE local AND deleted_at IS NULL AND reblog_of_id IS NULL) AS posts"""
    )
    settings = get_settings()
    software: dict[str, str] = {"name": "pinhole", "version": SOFTWARE_VERSION}
    if version == "2.1":
        software["repository"] = "https://github.com/pinhole/pinhole"
        software["homepage"] = "https://github.com/pinhole/pinhole"
    document = {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"outbound": [], "inbound": []},
        "usage": {
            "users": {
                "total": counts["total"],
                "activeMonth": counts["month"],
                "activeHalfyear": counts["halfyear"],
            },
            "localPosts": counts["posts"],
        },
        "openRegistrations": await _open_registrations(),
        "metadata": {"nodeName": settings.site_name},
    }
    profile = f'application/json; profile="{NODEINFO_SCHEMA.format(version=version)}#"'
    return _json(document, profile)


ROUTES = [webfinger, host_meta, nodeinfo_index, nodeinfo]
