"""A person's account as an ActivityPub archive in Mastodon's layout: actor.json, outbox.json,
likes.json, bookmarks.json, the follow lists as CSV and the media files, in one ZIP."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import zipfile
from typing import Any

from asyncpg import Record

from federation.convert import local_actor_document
from federation.objects import outbox_items
from federation.vocabulary import CONTEXT
from media.storage import storage_from_settings
from node import db
from node.post_views import hydrate
from node.settings import get_settings

MEDIA_FOLDER = "media_attachments/files"
FOLLOWING_HEADER = ["Account address", "Show boosts", "Notify on new posts", "Languages"]
FOLLOWERS_HEADER = ["Account address"]
HYDRATE_BATCH = 200  # posts rendered per round trip, so a large account stays in small queries


def _collection(name: str, items: list[Any]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "id": name,
        "type": "OrderedCollection",
        "totalItems": len(items),
        "orderedItems": items,
    }


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def _address(row: Record) -> str:
    return f"{row['username']}@{row['domain'] or get_settings().domain}"


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def _original_key(media: Record) -> str:
    renditions = media["renditions"]
    if isinstance(renditions, str):
        renditions = json.loads(renditions or "{}")
    return ((renditions or {}).get("original") or {}).get("key") or ""


async def _outbox(account: Record) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The outbox's activities (attachments pointing into the archive) and the media to pack:
    archive path → storage key."""
    ids = [
        row["id"]
        for row in await db.fetch(
            """SELECT id FROM posts WHERE account_id = $1 AND deleted_at IS NULL ORDER BY id""",
            account["id"],
        )
    ]
    items: list[dict[str, Any]] = []
    files: dict[str, str] = {}
    for start in range(0, len(ids), HYDRATE_BATCH):
        # The owner's own view: their followers-only and direct posts are theirs to keep too.
        views = await hydrate(ids[start : start + HYDRATE_BATCH], account["id"])
        for view, item in zip(views, await outbox_items(views), strict=True):
            item["@context"] = CONTEXT
            if item["type"] == "Create":
                # attachment_document renders view.media in order, one document each.
                for media, attachment in zip(view.media, item["object"]["attachment"], strict=True):
                    key = _original_key(media)
                    if not key:
                        continue  # media that only lives on another server
                    path = f"{MEDIA_FOLDER}/{key}"
                    files[path] = key
                    attachment["url"] = f"/{path}"
                    attachment["mediaType"] = media["mime_type"] or attachment["mediaType"]
            items.append(item)
    return items, files


async def _post_uris(sql: str, account_id: int) -> list[str]:
    return [row["uri"] or row["url"] for row in await db.fetch(sql, account_id)]


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            # Photos and videos are compressed already: deflating them costs time for nothing.
            stored = name.startswith(MEDIA_FOLDER)
            archive.writestr(
                name, data, compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            )
    return buffer.getvalue()


async def build_archive(account_id: int) -> bytes:
    """The ZIP of a local account, its media read from storage (the scrubbed originals)."""
    account = await db.fetchrow("SELECT * FROM accounts WHERE id = $1 AND domain = ''", account_id)
    if account is None:
        raise LookupError(f"no local account {account_id}")
    items, media_files = await _outbox(account)
    likes = await _post_uris(
        """SELECT p.uri, p.url FROM favourites f JOIN posts p ON p.id = f.post_id
           WHERE f.account_id = $1 ORDER BY f.id""",
        account_id,
    )
    bookmarks = await _post_uris(
        """SELECT p.uri, p.url FROM bookmarks b JOIN posts p ON p.id = b.post_id
           WHERE b.account_id = $1 ORDER BY b.id""",
        account_id,
    )
    following = await db.fetch(
        """SELECT a.username, a.domain, f.show_reblogs, f.notify FROM follows f
           JOIN accounts a ON a.id = f.target_account_id WHERE f.account_id = $1 ORDER BY f.id""",
        account_id,
    )
    followers = await db.fetch(
        """SELECT a.username, a.domain FROM follows f
           JOIN accounts a ON a.id = f.account_id WHERE f.target_account_id = $1 ORDER BY f.id""",
        account_id,
    )
    entries: dict[str, bytes] = {
        "actor.json": _json(local_actor_document(account)),
        "outbox.json": _json(_collection("outbox.json", items)),
        "likes.json": _json(_collection("likes.json", likes)),
        "bookmarks.json": _json(_collection("bookmarks.json", bookmarks)),
        "following_accounts.csv": _csv(
            FOLLOWING_HEADER,
            [
                [_address(r), str(r["show_reblogs"]).lower(), str(r["notify"]).lower(), ""]
                for r in following
            ],
        ),
        "followers.csv": _csv(FOLLOWERS_HEADER, [[_address(r)] for r in followers]),
    }
    storage = storage_from_settings(get_settings())
    for path, key in media_files.items():
        # Bytes already removed (a moderation purge) are left out: the archive holds what is left.
        with contextlib.suppress(KeyError):
            entries[path] = await storage.get(key)
    return await asyncio.to_thread(_zip, entries)
