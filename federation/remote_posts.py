"""Remote posts in the same tables as local ones: stored from a Note, edited by an Update,
fetched from their origin when only their id is known, and boosted by remote Announces.

This is the posts service's work for content that arrives by federation; node/posts.py only
publishes what local people write (it renders captions from plain text), so the storing of
already-rendered remote posts lives here.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from datetime import UTC, datetime

from asyncpg import Record

from federation.actors import ActorUnavailable, get_actor, is_local_uri
from federation.client import FetchError, fetch_json
from federation.convert import RemotePost, post_from_object
from federation.remote_media import queue_thumbnails
from federation.vocabulary import POST_TYPES, id_of, same_host, type_of
from node import db
from node.events import emit
from node.ids import id_for_time, new_id
from node.posts import save_tags

log = logging.getLogger("pinhole.federation.posts")

COUNTED = ("public", "unlisted", "private")
COUNTED_REPLIES = ("public", "unlisted")
MAX_PARENT_DEPTH = 3  # how far up a thread we fetch unknown parents of an incoming reply
MAX_FETCHED_MENTIONS = 20  # unknown people named in a direct message fetched when it arrives


class PostRejected(ValueError):
    """An object that cannot be stored as a post (wrong author, not a post, unreachable)."""


async def post_by_uri(uri: str) -> Record | None:
    return await db.fetchrow("SELECT * FROM posts WHERE uri = $1", uri) if uri else None


def _id_for(published: datetime | None) -> int:
    """A post keeps its published time in its id (so feeds order it where it belongs), but
    never a time in the future."""
    now_ms = int(time.time() * 1000)
    if published is None:
        return new_id()
    return id_for_time(min(int(published.timestamp() * 1000), now_ms))


async def _mentioned_accounts(post: RemotePost) -> list[int]:
    """Accounts the post names: Mention tags we know, and local actors it is addressed to
    (a direct message is visible to exactly these)."""
    uris = list(dict.fromkeys(post.mention_uris + [u for u in post.addressed if is_local_uri(u)]))
    if not uris:
        return []
    if post.visibility == "direct":
        # The people a direct message names are its conversation: fetch those not known yet,
        # or a reply from here would leave them out.
        for uri in post.mention_uris[:MAX_FETCHED_MENTIONS]:
            if not is_local_uri(uri):
                with contextlib.suppress(ActorUnavailable, FetchError):
                    await get_actor(uri)
    rows = await db.fetch(
        "SELECT id FROM accounts WHERE uri = ANY($1::text[]) AND suspended_at IS NULL", uris
    )
    return [row["id"] for row in rows]


async def _save_media(post_id: int, author_id: int, post: RemotePost) -> list[int]:
    """Insert the album's attachments; the ids of the images (their thumbnails get cached)."""
    if not post.media:
        return []
    rows = [(new_id(), position, media) for position, media in enumerate(post.media)]
    await db.executemany(
        """INSERT INTO media_attachments (id, account_id, post_id, position, type, state,
               description, focus_x, focus_y, mime_type, remote_url, blurhash, width, height)
           VALUES ($1, $2, $3, $4, $5, 'ready', $6, $7, $8, $9, $10, $11, $12, $13)""",
        [
            (
                media_id,
                author_id,
                post_id,
                position,
                media.type,
                media.description,
                media.focus_x,
                media.focus_y,
                media.mime_type,
                media.url,
                media.blurhash,
                media.width,
                media.height,
            )
            for media_id, position, media in rows
        ],
    )
    return [media_id for media_id, _, media in rows if media.type == "image"]


async def is_relevant(post: RemotePost, author: Record, parent: Record | None) -> bool:
    """Whether anyone here cares: a local follower of the author, a local account named or
    addressed, or a reply to a post we have."""
    if parent is not None:
        return True
    if any(is_local_uri(uri) for uri in post.mention_uris + post.addressed):
        return True
    return bool(
        await db.fetchval(
            """SELECT 1 FROM follows f JOIN accounts a ON a.id = f.account_id
               WHERE f.target_account_id = $1 AND a.domain = '' LIMIT 1""",
            author["id"],
        )
    )


async def store_post(obj: dict, author: Record, *, require_relevance: bool = True) -> int | None:
    """Store a remote post from its object (trusted: from its origin, or from its signed author);
    the post's id, an existing id for a repeat, or None when nobody here needs it."""
    post = post_from_object(obj, author["followers_url"])
    if not post.uri or not same_host(post.uri, author["uri"]):
        raise PostRejected("the post's id is not on its author's host")
    if post.author_uri and post.author_uri != author["uri"]:
        raise PostRejected("the post is attributed to someone else")
    existing = await post_by_uri(post.uri)
    if existing is not None:
        return existing["id"]
    parent = await post_by_uri(post.in_reply_to_uri)
    if parent is None and post.in_reply_to_uri and not is_local_uri(post.in_reply_to_uri):
        parent_id = await resolve_post(post.in_reply_to_uri, depth=1)
        parent = (
            await db.fetchrow("SELECT * FROM posts WHERE id = $1", parent_id) if parent_id else None
        )
    if require_relevance and not await is_relevant(post, author, parent):
        return None
    post_id = _id_for(post.published)
    created_at = min(post.published or datetime.now(UTC), datetime.now(UTC))
    async with db.transaction():
        inserted = await db.fetchval(
            """INSERT INTO posts (id, account_id, uri, url, local, content, text, spoiler_text,
                   sensitive, visibility, language, in_reply_to_id, in_reply_to_account_id,
                   in_reply_to_uri, conversation_id, created_at, edited_at)
               VALUES ($1, $2, $3, $4, false, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
               ON CONFLICT (uri) WHERE uri <> '' DO NOTHING RETURNING id""",
            post_id,
            author["id"],
            post.uri,
            post.url,
            post.content,
            post.text,
            post.spoiler_text,
            post.sensitive,
            post.visibility,
            post.language,
            parent["id"] if parent else None,
            parent["account_id"] if parent else None,
            post.in_reply_to_uri,
            (parent["conversation_id"] or parent["id"]) if parent else post_id,
            created_at,
            post.edited,
        )
        if inserted is None:
            return (await post_by_uri(post.uri))["id"]
        images = await _save_media(post_id, author["id"], post)
        await save_tags(post_id, post.hashtags)
        mentioned = await _mentioned_accounts(post)
        if mentioned:
            await db.execute(
                """INSERT INTO mentions (post_id, account_id) SELECT $1, unnest($2::bigint[])
                   ON CONFLICT DO NOTHING""",
                post_id,
                mentioned,
            )
        if post.visibility in COUNTED:
            await db.execute(
                """UPDATE accounts SET statuses_count = statuses_count + 1,
                       last_status_at = greatest(last_status_at, $2)
                   WHERE id = $1""",
                author["id"],
                created_at,
            )
        if parent is not None and post.visibility in COUNTED_REPLIES:
            await db.execute(
                "UPDATE posts SET replies_count = replies_count + 1 WHERE id = $1", parent["id"]
            )
    await queue_thumbnails(images)
    await emit("post.created", post_id)
    return post_id


async def update_post(obj: dict, author: Record) -> int | None:
    """Apply an Update(Note) from its author: new text, warning, sensitivity and album; the
    previous version goes into the edit history. None when the post is unknown here."""
    current = await post_by_uri(id_of(obj))
    if current is None or current["account_id"] != author["id"] or current["deleted_at"]:
        return None
    post = post_from_object(obj, author["followers_url"])
    async with db.transaction():
        media_before = await db.fetch(
            "SELECT * FROM media_attachments WHERE post_id = $1 ORDER BY position, id",
            current["id"],
        )
        snapshot = [
            {
                "id": str(m["id"]),
                "description": m["description"],
                "focus_x": m["focus_x"],
                "focus_y": m["focus_y"],
            }
            for m in media_before
        ]
        has_history = await db.fetchval(
            "SELECT 1 FROM post_edits WHERE post_id = $1 LIMIT 1", current["id"]
        )
        if not has_history:
            await _record_version(current, snapshot, current["created_at"])
        await db.execute(
            """UPDATE posts SET content = $2, text = $3, spoiler_text = $4, sensitive = $5,
                   language = $6, edited_at = coalesce($7, now())
               WHERE id = $1""",
            current["id"],
            post.content,
            post.text,
            post.spoiler_text,
            post.sensitive,
            post.language,
            post.edited,
        )
        added = await _replace_media(current["id"], author["id"], post, media_before)
        await db.execute("DELETE FROM post_tags WHERE post_id = $1", current["id"])
        await save_tags(current["id"], post.hashtags)
        mentioned = await _mentioned_accounts(post)
        if mentioned:
            await db.execute(
                """INSERT INTO mentions (post_id, account_id) SELECT $1, unnest($2::bigint[])
                   ON CONFLICT DO NOTHING""",
                current["id"],
                mentioned,
            )
        updated = await db.fetchrow("SELECT * FROM posts WHERE id = $1", current["id"])
        media_after = await db.fetch(
            "SELECT * FROM media_attachments WHERE post_id = $1 ORDER BY position, id",
            current["id"],
        )
        await _record_version(
            updated,
            [
                {
                    "id": str(m["id"]),
                    "description": m["description"],
                    "focus_x": m["focus_x"],
                    "focus_y": m["focus_y"],
                }
                for m in media_after
            ],
            None,
        )
    await queue_thumbnails(added)
    await emit("post.updated", current["id"])
    return current["id"]


async def _record_version(post: Record, media: list[dict], created_at: datetime | None) -> None:
    await db.execute(
        """INSERT INTO post_edits (id, post_id, account_id, content, spoiler_text, sensitive,
               media, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, coalesce($8, now()))""",
        new_id(),
        post["id"],
        post["account_id"],
        post["content"],
        post["spoiler_text"],
        post["sensitive"],
        json.dumps(media),
        created_at,
    )


async def _replace_media(
    post_id: int, author_id: int, post: RemotePost, before: list[Record]
) -> list[int]:
    """Keep attachments whose URL stays (updating alt text and focus), detach the rest, add
    the new ones, in the order the Update gives."""
    by_url = {m["remote_url"]: m for m in before}
    added: list[int] = []
    for position, media in enumerate(post.media):
        existing = by_url.pop(media.url, None)
        if existing is not None:
            await db.execute(
                """UPDATE media_attachments SET position = $2, description = $3, focus_x = $4,
                       focus_y = $5, blurhash = coalesce($6, blurhash)
                   WHERE id = $1""",
                existing["id"],
                position,
                media.description,
                media.focus_x,
                media.focus_y,
                media.blurhash,
            )
        else:
            media_id = new_id()
            await db.execute(
                """INSERT INTO media_attachments (id, account_id, post_id, position, type, state,
                       description, focus_x, focus_y, mime_type, remote_url, blurhash, width,
                       height)
                   VALUES ($1, $2, $3, $4, $5, 'ready', $6, $7, $8, $9, $10, $11, $12, $13)""",
                media_id,
                author_id,
                post_id,
                position,
                media.type,
                media.description,
                media.focus_x,
                media.focus_y,
                media.mime_type,
                media.url,
                media.blurhash,
                media.width,
                media.height,
            )
            if media.type == "image":
                added.append(media_id)
    if by_url:
        await db.execute(
            "UPDATE media_attachments SET post_id = NULL WHERE id = ANY($1::bigint[])",
            [m["id"] for m in by_url.values()],
        )
    return added


async def resolve_post(uri: str, *, depth: int = 0) -> int | None:
    """A post by its id: known here, or fetched from its origin (never trusted from a third
    party) and stored. None when it cannot be fetched or is not a post."""
    known = await post_by_uri(uri)
    if known is not None:
        return known["id"]
    if not uri or is_local_uri(uri) or depth > MAX_PARENT_DEPTH:
        return None
    try:
        final_url, obj = await fetch_json(uri)
    except FetchError as exc:
        log.info("post %s could not be fetched: %s", uri, exc.message)
        return None
    if type_of(obj) not in POST_TYPES or not same_host(id_of(obj), final_url):
        return None
    if id_of(obj) != uri:
        known = await post_by_uri(id_of(obj))
        if known is not None:
            return known["id"]
    author_uri = next((id_of(a) for a in _as_list(obj.get("attributedTo"))), "")
    if not same_host(author_uri, id_of(obj)):
        return None
    try:
        author = await get_actor(author_uri)
    except ActorUnavailable:
        return None
    try:
        return await store_post(obj, author, require_relevance=False)
    except PostRejected:
        return None


def _as_list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


async def store_boost(
    announce_id: str, booster: Record, original_id: int, visibility: str, published: datetime | None
) -> int | None:
    """A remote Announce as a boost row; None when the booster already boosted it."""
    created_at = min(published or datetime.now(UTC), datetime.now(UTC))
    boost_id = _id_for(published)
    async with db.transaction():
        inserted = await db.fetchval(
            """INSERT INTO posts (id, account_id, uri, url, local, visibility, reblog_of_id,
                   conversation_id, created_at)
               VALUES ($1, $2, $3, $3, false, $4, $5, $5, $6)
               ON CONFLICT DO NOTHING RETURNING id""",
            boost_id,
            booster["id"],
            announce_id,
            visibility,
            original_id,
            created_at,
        )
        if inserted is None:
            return None
        await db.execute(
            "UPDATE posts SET reblogs_count = reblogs_count + 1 WHERE id = $1", original_id
        )
        await db.execute(
            """UPDATE accounts SET statuses_count = statuses_count + 1,
                   last_status_at = greatest(last_status_at, $2) WHERE id = $1""",
            booster["id"],
            created_at,
        )
    await emit("post.created", boost_id)
    return boost_id
