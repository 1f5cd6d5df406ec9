"""Instance metadata: /api/v1/instance and /api/v2/instance."""

from __future__ import annotations

from typing import Any

from litestar import get

from node import db, moderation, push, registration
from node.api import entities
from node.settings import get_settings

VERSION = "0.1.0"
MASTODON_COMPATIBLE = "4.3.0"
IMAGE_TYPES = [
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/heic",
    "image/heif",
    "image/avif",
    "image/gif",
]
VIDEO_TYPES = ["video/mp4", "video/quicktime", "video/webm"]
MAX_CAPTION = 2200
MAX_MEDIA = 20


def version_string() -> str:
    return f"{MASTODON_COMPATIBLE} (compatible; pinhole {VERSION})"


def _configuration() -> dict[str, Any]:
    settings = get_settings()
    return {
        "statuses": {
            "max_characters": MAX_CAPTION,
            "max_media_attachments": MAX_MEDIA,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": IMAGE_TYPES + VIDEO_TYPES,
            "image_size_limit": settings.image_max_bytes,
            "image_matrix_limit": settings.image_max_pixels,
            "video_size_limit": settings.video_max_bytes,
            "video_frame_rate_limit": 120,
            "video_matrix_limit": 8_294_400,
            "description_limit": 1500,
        },
        "polls": {
            "max_options": 4,
            "max_characters_per_option": 50,
            "min_expiration": 300,
            "max_expiration": 2_629_746,
        },
    }


async def _counts() -> dict[str, int]:
    row = await db.fetchrow(
        """SELECT (SELECT count(*) FROM users WHERE NOT disabled) AS users,
                  (SELECT coalesce(sum(statuses_count), 0) FROM accounts WHERE domain = '') AS statuses,
                  (SELECT count(DISTINCT domain) FROM accounts WHERE domain <> '') AS domains,
                  (SELECT count(*) FROM users
                    WHERE last_active_at > now() - interval '30 days') AS active"""
    )
    return dict(row)


async def _rules() -> list[dict[str, Any]]:
    return [entities.rule(row) for row in await registration.rules()]


@get(["/api/v1/instance"])
async def instance_v1() -> dict[str, Any]:
    settings = get_settings()
    counts = await _counts()
    mode = await registration.registration_mode()
    return {
        "uri": settings.domain,
        "title": settings.site_name,
        "short_description": "A pinhole node: photos and videos, shared across the fediverse.",
        "description": "A pinhole node: photos and videos, shared across the fediverse.",
        "email": settings.contact_email,
        "version": version_string(),
        "urls": {"streaming_api": f"{'wss' if settings.https else 'ws'}://{settings.domain}"},
        "stats": {
            "user_count": counts["users"],
            "status_count": counts["statuses"],
            "domain_count": counts["domains"],
        },
        "thumbnail": None,
        "languages": ["en"],
        "registrations": mode in ("open", "approval"),
        "approval_required": mode == "approval",
        "invites_enabled": mode == "invite",
        "configuration": {
            "accounts": {"max_featured_tags": 10},
            "vapid": {"public_key": await push.vapid_public_key()},
            **_configuration(),
        },
        "contact_account": None,
        "rules": await _rules(),
    }


@get(["/api/v2/instance"])
async def instance_v2() -> dict[str, Any]:
    settings = get_settings()
    counts = await _counts()
    mode = await registration.registration_mode()
    return {
        "domain": settings.domain,
        "title": settings.site_name,
        "version": version_string(),
        "api_versions": {"mastodon": 2},
        "source_url": "https://github.com/pinhole/pinhole",
        "description": "A pinhole node: photos and videos, shared across the fediverse.",
        "usage": {"users": {"active_month": counts["active"]}},
        "thumbnail": {"url": f"{settings.base_url}/static/thumbnail.png"},
        "languages": ["en"],
        "configuration": {
            "urls": {"streaming": f"{'wss' if settings.https else 'ws'}://{settings.domain}"},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
            "translation": {"enabled": False},
            "vapid": {"public_key": await push.vapid_public_key()},
            **_configuration(),
        },
        "registrations": {
            "enabled": mode in ("open", "approval"),
            "approval_required": mode == "approval",
            "message": None,
        },
        "contact": {"email": settings.contact_email, "account": None},
        "rules": await _rules(),
    }


@get(["/api/v1/instance/rules"])
async def instance_rules() -> list[dict[str, Any]]:
    return await _rules()


@get(["/api/v1/instance/domain_blocks"])
async def instance_domain_blocks() -> list[dict[str, Any]]:
    """The domains this node limits, with public comments (obfuscated where asked)."""
    return [
        entities.public_domain_block(
            row, moderation.obfuscated(row["domain"]) if row["obfuscate"] else row["domain"]
        )
        for row in await moderation.list_domain_blocks(limit=10_000)
        if row["severity"] != "noop"
    ]


ROUTES = [instance_v1, instance_v2, instance_rules, instance_domain_blocks]
