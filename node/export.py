"""A person's own data as one JSON document: profile, posts with media links, and their graph."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from asyncpg import Record

from node import db
from node.accounts import get_account
from node.settings import get_settings

FORMAT_VERSION = 1


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _acct(row: Record) -> str:
    return row["username"] + (f"@{row['domain']}" if row["domain"] else "")


async def _accounts(sql: str, account_id: int) -> list[dict[str, Any]]:
    rows = await db.fetch(sql, account_id)
    return [{"acct": _acct(r), "uri": r["uri"], "since": _iso(r["created_at"])} for r in rows]


async def export_account(account_id: int) -> dict[str, Any]:
    """Everything this node keeps that the person made or chose, ready for json.dumps."""
    account = await get_account(account_id)
    user = await db.fetchrow(
        "SELECT email, locale, created_at FROM users WHERE account_id = $1", account_id
    )
    posts = await db.fetch(
        """SELECT id, uri, url, text, content, spoiler_text, sensitive, visibility, language,
                  in_reply_to_uri, in_reply_to_id, created_at, edited_at
           FROM posts WHERE account_id = $1 AND deleted_at IS NULL AND reblog_of_id IS NULL
           ORDER BY id""",
        account_id,
    )
    media = await db.fetch(
        """SELECT post_id, type, description, mime_type, width, height, renditions, blurhash
           FROM media_attachments WHERE account_id = $1 AND post_id IS NOT NULL
           ORDER BY post_id, position""",
        account_id,
    )
    media_by_post: dict[int, list[dict[str, Any]]] = {}
    base = get_settings().public_media_url
    for row in media:
        renditions = row["renditions"]
        if isinstance(renditions, str):
            renditions = json.loads(renditions or "{}")
        original = (renditions or {}).get("original") or {}
        url = original.get("url") or (f"{base}/{original['key']}" if original.get("key") else "")
        media_by_post.setdefault(row["post_id"], []).append(
            {
                "type": row["type"],
                "description": row["description"],
                "mime_type": row["mime_type"],
                "width": row["width"],
                "height": row["height"],
                "blurhash": row["blurhash"],
                "url": url,
            }
        )
    fields = account["fields"]
    if isinstance(fields, str):
        fields = json.loads(fields)
    return {
        "format": "pinhole-export",
        "version": FORMAT_VERSION,
        "exported_at": datetime.now(UTC).isoformat(),
        "account": {
            "username": account["username"],
            "uri": account["uri"],
            "url": account["url"],
            "display_name": account["display_name"],
            "note": account["note_source"],
            "fields": fields,
            "locked": account["locked"],
            "discoverable": account["discoverable"],
            "avatar": account["avatar_url"],
            "header": account["header_url"],
            "created_at": _iso(account["created_at"]),
            "email": user["email"] if user else None,
            "locale": user["locale"] if user else None,
        },
        "posts": [
            {
                "id": str(p["id"]),
                "uri": p["uri"],
                "url": p["url"],
                "text": p["text"],
                "content": p["content"],
                "spoiler_text": p["spoiler_text"],
                "sensitive": p["sensitive"],
                "visibility": p["visibility"],
                "language": p["language"],
                "in_reply_to": p["in_reply_to_uri"] or (str(p["in_reply_to_id"] or "") or None),
                "created_at": _iso(p["created_at"]),
                "edited_at": _iso(p["edited_at"]),
                "media": media_by_post.get(p["id"], []),
            }
            for p in posts
        ],
        "following": await _accounts(
            """SELECT a.username, a.domain, a.uri, f.created_at FROM follows f
               JOIN accounts a ON a.id = f.target_account_id WHERE f.account_id = $1
               ORDER BY f.id""",
            account_id,
        ),
        "followers": await _accounts(
            """SELECT a.username, a.domain, a.uri, f.created_at FROM follows f
               JOIN accounts a ON a.id = f.account_id WHERE f.target_account_id = $1
               ORDER BY f.id""",
            account_id,
        ),
        "blocks": await _accounts(
            """SELECT a.username, a.domain, a.uri, b.created_at FROM blocks b
               JOIN accounts a ON a.id = b.target_account_id WHERE b.account_id = $1
               ORDER BY b.id""",
            account_id,
        ),
        "mutes": await _accounts(
            """SELECT a.username, a.domain, a.uri, m.created_at FROM mutes m
               JOIN accounts a ON a.id = m.target_account_id WHERE m.account_id = $1
               ORDER BY m.id""",
            account_id,
        ),
        "likes": [
            {"uri": r["uri"] or r["url"], "liked_at": _iso(r["created_at"])}
            for r in await db.fetch(
                """SELECT p.uri, p.url, f.created_at FROM favourites f
                   JOIN posts p ON p.id = f.post_id WHERE f.account_id = $1 ORDER BY f.id""",
                account_id,
            )
        ],
        "bookmarks": [
            {"uri": r["uri"] or r["url"], "bookmarked_at": _iso(r["created_at"])}
            for r in await db.fetch(
                """SELECT p.uri, p.url, b.created_at FROM bookmarks b
                   JOIN posts p ON p.id = b.post_id WHERE b.account_id = $1 ORDER BY b.id""",
                account_id,
            )
        ],
    }
