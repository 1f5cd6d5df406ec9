"""Posts: publishing captions with albums, hashtags and mentions; editing with history; deleting;
and reading threads and profiles, always through the visibility rule."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asyncpg import Record

from node import db
from node.accounts import get_account
from node.captions import MentionRef, find_references, normalize_tag, render_caption
from node.conversations import ensure_may_message
from node.cursors import Window
from node.errors import Forbidden, Invalid, NotFound, TooMany
from node.events import emit
from node.ids import new_id
from node.post_views import PostView, hydrate_one
from node.redis import key, redis
from node.settings import get_settings
from node.visibility import visible_post, visible_to

MAX_CAPTION = 2200
MAX_SPOILER = 500
MAX_MEDIA = 20
MAX_DESCRIPTION = 1500
VISIBILITIES = ("public", "unlisted", "private", "direct")
# Visibilities whose posts count in a profile's posts and a thread's replies (as Mastodon
# counts them): a direct message is not a post of the profile.
COUNTED = ("public", "unlisted", "private")
COUNTED_REPLIES = ("public", "unlisted")
IDEMPOTENCY_SECONDS = 3600
# A claim on a key while its post is being made; short, so a crash mid-way frees the key soon.
IDEMPOTENCY_CLAIM_SECONDS = 60
IDEMPOTENCY_WAIT_SECONDS = 10.0
MAX_THREAD_DEPTH = 256
MAX_DESCENDANTS = 4096
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$", re.IGNORECASE)


@dataclass(frozen=True)
class Draft:
    """A new post as the author asked for it (types parsed, rules not yet checked)."""

    text: str = ""
    media_ids: list[int] = field(default_factory=list)
    spoiler_text: str = ""
    sensitive: bool = False
    visibility: str = "public"
    in_reply_to_id: int | None = None
    language: str | None = None
    application_id: int | None = None


@dataclass(frozen=True)
class MediaChange:
    """New alt text and/or focal point for one attachment of a post being edited."""

    media_id: int
    description: str | None = None
    focus: tuple[float, float] | None = None


@dataclass(frozen=True)
class Edit:
    """What an edit changes; None leaves a part as it is."""

    text: str | None = None
    spoiler_text: str | None = None
    sensitive: bool | None = None
    language: str | None = None
    media_ids: list[int] | None = None
    media_changes: list[MediaChange] = field(default_factory=list)


@dataclass(frozen=True)
class Version:
    """One version of a post in its edit history."""

    content: str
    spoiler_text: str
    sensitive: bool
    created_at: datetime
    media: list[dict[str, Any]]  # media_attachments rows as dicts, with that version's alt text


# --- publishing ------------------------------------------------------------------------------


def _check_caption(text: str, spoiler_text: str, language: str | None) -> None:
    if len(text) > MAX_CAPTION:
        raise Invalid("status", f"is too long (maximum is {MAX_CAPTION} characters)")
    if len(spoiler_text) > MAX_SPOILER:
        raise Invalid("spoiler_text", f"is too long (maximum is {MAX_SPOILER} characters)")
    if language is not None and (len(language) > 16 or not _LANGUAGE_RE.match(language)):
        raise Invalid("language", "must be an ISO 639 language code")


def _check_media_count(media_ids: list[int]) -> list[int]:
    media_ids = list(dict.fromkeys(media_ids))
    if len(media_ids) > MAX_MEDIA:
        raise Invalid("media_ids", f"at most {MAX_MEDIA} photos or videos per post")
    return media_ids


async def _lock_attachable_media(
    author_id: int, media_ids: list[int], post_id: int | None = None
) -> None:
    """Check that each media belongs to the author, is ready and is not on another post
    (`post_id`: the post being edited may keep its own), locking the rows until commit."""
    if not media_ids:
        return
    rows = await db.fetch(
        """SELECT id, account_id, post_id, state FROM media_attachments
           WHERE id = ANY($1::bigint[]) FOR UPDATE""",
        media_ids,
    )
    found = {row["id"]: row for row in rows}
    for media_id in media_ids:
        row = found.get(media_id)
        if row is None or row["account_id"] != author_id:
            raise Invalid("media_ids", f"{media_id} is not a media of yours")
        if row["post_id"] is not None and row["post_id"] != post_id:
            raise Invalid("media_ids", f"{media_id} is already attached to a post")
        if row["state"] == "processing":
            raise Invalid("media_ids", "media is still being processed")
        if row["state"] != "ready":
            raise Invalid("media_ids", f"{media_id} could not be processed")


async def _resolve_mentions(author_id: int, refs: list[MentionRef]) -> list[Record]:
    """Accounts known here for the mentions typed, minus those with a block between them."""
    if not refs:
        return []
    return await db.fetch(
        """SELECT a.* FROM accounts a
           JOIN unnest($1::text[], $2::text[]) AS r(username, domain)
             ON lower(a.username) = r.username AND lower(a.domain) = r.domain
           WHERE a.suspended_at IS NULL AND NOT EXISTS (
             SELECT 1 FROM blocks b
             WHERE (b.account_id = a.id AND b.target_account_id = $3)
                OR (b.account_id = $3 AND b.target_account_id = a.id))""",
        [ref.key[0] for ref in refs],
        [ref.key[1] for ref in refs],
        author_id,
    )


def _mention_key(account: Record) -> tuple[str, str]:
    return account["username"].lower(), account["domain"].lower()


async def _render(author_id: int, text: str) -> tuple[str, list[str], list[Record]]:
    """The caption's HTML, its hashtags and the accounts it mentions."""
    refs = find_references(text)
    mentioned = await _resolve_mentions(author_id, refs.mentions)
    urls = {_mention_key(a): a["url"] or a["uri"] for a in mentioned}
    return render_caption(text, urls), refs.hashtags, mentioned


async def save_tags(post_id: int, hashtags: list[str]) -> None:
    """Attach hashtags to a post, creating the tags that are new (local and remote posts)."""
    if not hashtags:
        return
    tag_ids = await db.fetch(
        """INSERT INTO tags (id, name, display_name, last_used_at)
           SELECT * , now() FROM unnest($1::bigint[], $2::text[], $3::text[])
           ON CONFLICT ((lower(name))) DO UPDATE SET last_used_at = now()
           RETURNING id""",
        [new_id() for _ in hashtags],
        [normalize_tag(tag) for tag in hashtags],
        hashtags,
    )
    await db.execute(
        """INSERT INTO post_tags (post_id, tag_id) SELECT $1, unnest($2::bigint[])
           ON CONFLICT DO NOTHING""",
        post_id,
        [row["id"] for row in tag_ids],
    )


async def _attach_media(post_id: int, media_ids: list[int]) -> None:
    """Attach the album in the order given, and detach what the post no longer shows."""
    await db.execute(
        """UPDATE media_attachments SET post_id = NULL
           WHERE post_id = $1 AND NOT (id = ANY($2::bigint[]))""",
        post_id,
        media_ids,
    )
    if media_ids:
        await db.execute(
            """UPDATE media_attachments m SET post_id = $1, position = t.ord - 1
               FROM unnest($2::bigint[]) WITH ORDINALITY AS t(id, ord) WHERE m.id = t.id""",
            post_id,
            media_ids,
        )


def _post_urls(username: str, post_id: int) -> tuple[str, str]:
    base = get_settings().base_url
    return f"{base}/users/{username}/statuses/{post_id}", f"{base}/@{username}/{post_id}"


async def _reply_target(author_id: int, in_reply_to_id: int | None) -> Record | None:
    """The post replied to, when the author may see it (a boost stands for the boosted post)."""
    if in_reply_to_id is None:
        return None
    parent = await visible_post(in_reply_to_id, author_id)
    if parent["reblog_of_id"] is not None:
        parent = await visible_post(parent["reblog_of_id"], author_id)
    return parent


async def _create(author_id: int, draft: Draft) -> int:
    text = draft.text.strip()
    _check_caption(text, draft.spoiler_text, draft.language)
    media_ids = _check_media_count(draft.media_ids)
    if not text and not media_ids:
        raise Invalid("status", "can't be blank without media")
    if draft.visibility not in VISIBILITIES:
        raise Invalid("visibility", f"must be one of {', '.join(VISIBILITIES)}")
    if draft.visibility == "direct":
        await ensure_may_message(author_id, text)  # no messages across a block, either way
    author = await get_account(author_id)
    parent = await _reply_target(author_id, draft.in_reply_to_id)
    content, hashtags, mentioned = await _render(author_id, text)
    post_id = new_id()
    uri, url = _post_urls(author["username"], post_id)
    async with db.transaction():
        await _lock_attachable_media(author_id, media_ids)
        await db.execute(
            """INSERT INTO posts (id, account_id, uri, url, local, content, text, spoiler_text,
                   sensitive, visibility, language, in_reply_to_id, in_reply_to_account_id,
                   conversation_id, application_id)
               VALUES ($1, $2, $3, $4, true, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)""",
            post_id,
            author_id,
            uri,
            url,
            content,
            text,
            draft.spoiler_text,
            draft.sensitive or bool(draft.spoiler_text),
            draft.visibility,
            draft.language,
            parent["id"] if parent else None,
            parent["account_id"] if parent else None,
            (parent["conversation_id"] or parent["id"]) if parent else post_id,
            draft.application_id,
        )
        await _attach_media(post_id, media_ids)
        await save_tags(post_id, hashtags)
        if mentioned:
            await db.execute(
                """INSERT INTO mentions (post_id, account_id) SELECT $1, unnest($2::bigint[])""",
                post_id,
                [a["id"] for a in mentioned],
            )
        if draft.visibility in COUNTED:
            await db.execute(
                """UPDATE accounts SET statuses_count = statuses_count + 1, last_status_at = now()
                   WHERE id = $1""",
                author_id,
            )
        if parent is not None and draft.visibility in COUNTED_REPLIES:
            await db.execute(
                "UPDATE posts SET replies_count = replies_count + 1 WHERE id = $1", parent["id"]
            )
    await emit("post.created", post_id)
    return post_id


async def publish(author_id: int, draft: Draft, *, idempotency_key: str | None = None) -> int:
    """Publish a post and return its id. With an idempotency key, a repeat of the request
    within the hour (even a concurrent one) returns the same post instead of a second one."""
    if not idempotency_key:
        return await _create(author_id, draft)
    return await _once(
        ("idempotency", "post", author_id, hashlib.sha256(idempotency_key.encode()).hexdigest()),
        lambda: _create(author_id, draft),
    )


async def _once(parts: tuple[object, ...], create: Callable[[], Awaitable[int]]) -> int:
    client, slot = redis(), key(*parts)
    deadline = asyncio.get_running_loop().time() + IDEMPOTENCY_WAIT_SECONDS
    while True:
        if await client.set(slot, b"pending", nx=True, ex=IDEMPOTENCY_CLAIM_SECONDS):
            try:
                post_id = await create()
            except BaseException:
                await client.delete(slot)  # a failed attempt must not block a retry
                raise
            await client.set(slot, str(post_id).encode(), ex=IDEMPOTENCY_SECONDS)
            return post_id
        value = await client.get(slot)
        if value is not None and value != b"pending":
            return int(value)
        if asyncio.get_running_loop().time() > deadline:
            raise TooMany("A request with this Idempotency-Key is still being processed", 1)
        await asyncio.sleep(0.05)


# --- editing ---------------------------------------------------------------------------------


async def own_post(author_id: int, post_id: int | None) -> Record:
    """A post of the author's own (not a boost); someone else's visible post is Forbidden."""
    post = await visible_post(post_id, author_id)
    if post["account_id"] != author_id:
        raise Forbidden("This action is not allowed")
    if post["reblog_of_id"] is not None:
        raise NotFound()
    return post


async def _media_snapshot(post_id: int) -> list[dict[str, Any]]:
    rows = await db.fetch(
        """SELECT id, description, focus_x, focus_y FROM media_attachments
           WHERE post_id = $1 ORDER BY position, id""",
        post_id,
    )
    return [
        {
            "id": str(r["id"]),
            "description": r["description"],
            "focus_x": r["focus_x"],
            "focus_y": r["focus_y"],
        }
        for r in rows
    ]


async def _record_version(
    post: Record, media: list[dict[str, Any]], created_at: datetime | None = None
) -> None:
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


def _check_media_changes(changes: list[MediaChange], media_ids: list[int]) -> None:
    for change in changes:
        if change.media_id not in media_ids:
            raise Invalid("media_attributes", f"{change.media_id} is not a media of this post")
        if change.description is not None and len(change.description) > MAX_DESCRIPTION:
            raise Invalid(
                "media_attributes", f"description is too long (maximum is {MAX_DESCRIPTION})"
            )


async def _apply_media_changes(changes: list[MediaChange]) -> None:
    for change in changes:
        await db.execute(
            """UPDATE media_attachments SET description = coalesce($2, description),
                   focus_x = coalesce($3, focus_x), focus_y = coalesce($4, focus_y)
               WHERE id = $1""",
            change.media_id,
            change.description,
            change.focus[0] if change.focus else None,
            change.focus[1] if change.focus else None,
        )


async def _update_mentions(post_id: int, mentioned: list[Record]) -> None:
    """Mention the accounts the caption now names; those no longer named stay as silent
    mentions, so who could already see a private or direct post still can."""
    ids = [a["id"] for a in mentioned]
    await db.execute(
        "UPDATE mentions SET silent = NOT (account_id = ANY($2::bigint[])) WHERE post_id = $1",
        post_id,
        ids,
    )
    if ids:
        await db.execute(
            """INSERT INTO mentions (post_id, account_id) SELECT $1, unnest($2::bigint[])
               ON CONFLICT (post_id, account_id) DO UPDATE SET silent = false""",
            post_id,
            ids,
        )


async def edit_post(author_id: int, post_id: int | None, edit: Edit) -> None:
    """Change a post's caption, content warning, sensitivity, language, album or alt text.

    The first edit also records the original version, so the history is complete."""
    post = await own_post(author_id, post_id)
    text = (edit.text if edit.text is not None else post["text"]).strip()
    spoiler_text = edit.spoiler_text if edit.spoiler_text is not None else post["spoiler_text"]
    sensitive = edit.sensitive if edit.sensitive is not None else post["sensitive"]
    language = edit.language if edit.language is not None else post["language"]
    _check_caption(text, spoiler_text, language)
    current_media = [
        r["id"]
        for r in await db.fetch(
            "SELECT id FROM media_attachments WHERE post_id = $1 ORDER BY position, id", post["id"]
        )
    ]
    media_ids = _check_media_count(edit.media_ids) if edit.media_ids is not None else current_media
    if not text and not media_ids:
        raise Invalid("status", "can't be blank without media")
    _check_media_changes(edit.media_changes, media_ids)
    content, hashtags, mentioned = await _render(author_id, text)
    async with db.transaction():
        post = await db.fetchrow(
            "SELECT * FROM posts WHERE id = $1 AND deleted_at IS NULL FOR UPDATE", post["id"]
        )
        if post is None:
            raise NotFound()
        first_edit = not await db.fetchval(
            "SELECT 1 FROM post_edits WHERE post_id = $1", post["id"]
        )
        media_before = await _media_snapshot(post["id"])
        await _lock_attachable_media(author_id, media_ids, post["id"])
        await _attach_media(post["id"], media_ids)
        await _apply_media_changes(edit.media_changes)
        media_after = await _media_snapshot(post["id"])
        sensitive = sensitive or bool(spoiler_text)
        if media_after == media_before and (text, spoiler_text, sensitive, language) == (
            post["text"],
            post["spoiler_text"],
            post["sensitive"],
            post["language"],
        ):
            return
        if first_edit:
            await _record_version(post, media_before, post["created_at"])
        post = await db.fetchrow(
            """UPDATE posts SET text = $2, content = $3, spoiler_text = $4, sensitive = $5,
                   language = $6, edited_at = now()
               WHERE id = $1 RETURNING *""",
            post["id"],
            text,
            content,
            spoiler_text,
            sensitive,
            language,
        )
        await db.execute("DELETE FROM post_tags WHERE post_id = $1", post["id"])
        await save_tags(post["id"], hashtags)
        await _update_mentions(post["id"], mentioned)
        await _record_version(post, media_after)
    await emit("post.updated", post["id"])


async def history(post_id: int | None, viewer_id: int | None) -> tuple[Record, list[Version]]:
    """The author and every version of a post, oldest first (one version when never edited)."""
    post = await visible_post(post_id, viewer_id)
    author = await get_account(post["account_id"])
    edits = await db.fetch("SELECT * FROM post_edits WHERE post_id = $1 ORDER BY id", post["id"])
    snapshots = [
        (e["content"], e["spoiler_text"], e["sensitive"], e["created_at"], _json(e["media"]))
        for e in edits
    ] or [
        (
            post["content"],
            post["spoiler_text"],
            post["sensitive"],
            post["created_at"],
            await _media_snapshot(post["id"]),
        )
    ]
    media_ids = {int(m["id"]) for *_, media in snapshots for m in media}
    rows = {
        r["id"]: r
        for r in await db.fetch(
            "SELECT * FROM media_attachments WHERE id = ANY($1::bigint[])", list(media_ids)
        )
    }
    versions = []
    for content, spoiler_text, sensitive, created_at, media in snapshots:
        shown = [
            {**dict(rows[int(m["id"])]), **{k: v for k, v in m.items() if k != "id"}}
            for m in media
            if int(m["id"]) in rows
        ]
        versions.append(Version(content, spoiler_text, sensitive, created_at, shown))
    return author, versions


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def source(post_id: int | None, author_id: int) -> Record:
    """The plain text of one's own post, for the edit form."""
    return await own_post(author_id, post_id)


# --- deleting and boosting ------------------------------------------------------------------


async def _soft_delete(post_id: int) -> list[int]:
    """Mark a post and the boosts of it deleted, keeping every counter exact; the ids deleted.

    Runs inside the caller's transaction; the caller emits post.deleted for each id."""
    post = await db.fetchrow(
        "UPDATE posts SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING *",
        post_id,
    )
    if post is None:
        return []
    if post["visibility"] in COUNTED:
        await db.execute(
            "UPDATE accounts SET statuses_count = greatest(statuses_count - 1, 0) WHERE id = $1",
            post["account_id"],
        )
    if post["reblog_of_id"] is not None:
        await db.execute(
            "UPDATE posts SET reblogs_count = greatest(reblogs_count - 1, 0) WHERE id = $1",
            post["reblog_of_id"],
        )
    if post["in_reply_to_id"] is not None and post["visibility"] in COUNTED_REPLIES:
        await db.execute(
            "UPDATE posts SET replies_count = greatest(replies_count - 1, 0) WHERE id = $1",
            post["in_reply_to_id"],
        )
    await db.execute("DELETE FROM pins WHERE post_id = $1", post_id)
    deleted = [post_id]
    for boost in await db.fetch(
        "SELECT id FROM posts WHERE reblog_of_id = $1 AND deleted_at IS NULL", post_id
    ):
        deleted += await _soft_delete(boost["id"])
    return deleted


async def delete_post(author_id: int, post_id: int | None, *, keep_media: bool = False) -> PostView:
    """Delete one's own post (or boost): it and the boosts of it disappear everywhere. Returns
    the post as it was, for a redraft.

    With keep_media the album is detached, to be attached again by a redraft; otherwise it
    stays on the deleted post, for the media side (subscribed to post.deleted) to remove."""
    post = await visible_post(post_id, author_id)
    if post["account_id"] != author_id:
        raise Forbidden("This action is not allowed")
    view = await hydrate_one(post["id"], author_id)
    async with db.transaction():
        deleted = await _soft_delete(post["id"])
        if not deleted:
            raise NotFound()
        if keep_media:
            await db.execute(
                "UPDATE media_attachments SET post_id = NULL WHERE post_id = $1", post["id"]
            )
    for deleted_id in deleted:
        await emit("post.deleted", deleted_id)
    return view


async def _boostable(account_id: int, post_id: int | None) -> Record:
    post = await visible_post(post_id, account_id)
    if post["reblog_of_id"] is not None:
        post = await visible_post(post["reblog_of_id"], account_id)
    return post


async def boost(account_id: int, post_id: int | None, *, visibility: str = "public") -> int:
    """Boost a public or unlisted post (once; a repeat returns the same boost): its id."""
    original = await _boostable(account_id, post_id)
    if original["visibility"] not in ("public", "unlisted"):
        raise Forbidden("Only public and unlisted posts can be boosted")
    if visibility not in ("public", "unlisted", "private"):
        raise Invalid("visibility", "must be public, unlisted or private")
    booster = await get_account(account_id)
    boost_id = new_id()
    uri, url = _post_urls(booster["username"], boost_id)
    async with db.transaction():
        inserted = await db.fetchval(
            """INSERT INTO posts (id, account_id, uri, url, local, visibility, reblog_of_id,
                   conversation_id)
               VALUES ($1, $2, $3, $4, true, $5, $6, $6)
               ON CONFLICT (account_id, reblog_of_id)
                 WHERE reblog_of_id IS NOT NULL AND deleted_at IS NULL DO NOTHING
               RETURNING id""",
            boost_id,
            account_id,
            uri + "/activity",
            url,
            visibility,
            original["id"],
        )
        if inserted is None:
            return await db.fetchval(
                """SELECT id FROM posts
                   WHERE account_id = $1 AND reblog_of_id = $2 AND deleted_at IS NULL""",
                account_id,
                original["id"],
            )
        await db.execute(
            "UPDATE posts SET reblogs_count = reblogs_count + 1 WHERE id = $1", original["id"]
        )
        await db.execute(
            """UPDATE accounts SET statuses_count = statuses_count + 1, last_status_at = now()
               WHERE id = $1""",
            account_id,
        )
    await emit("post.created", boost_id)
    return boost_id


async def unboost(account_id: int, post_id: int | None) -> int:
    """Withdraw one's boost of a post (nothing happens when there is none): the post's id."""
    original = await _boostable(account_id, post_id)
    async with db.transaction():
        boost_id = await db.fetchval(
            """SELECT id FROM posts WHERE account_id = $1 AND reblog_of_id = $2
                 AND deleted_at IS NULL FOR UPDATE""",
            account_id,
            original["id"],
        )
        deleted = await _soft_delete(boost_id) if boost_id is not None else []
    for deleted_id in deleted:
        await emit("post.deleted", deleted_id)
    return original["id"]


# --- reading ---------------------------------------------------------------------------------


async def context(post_id: int | None, viewer_id: int | None) -> tuple[list[int], list[int]]:
    """The thread around a post: its ancestors (root first) and its descendants in thread
    order (each reply followed by its own replies), both only as far as the viewer may see."""
    post = await visible_post(post_id, viewer_id)
    if post["reblog_of_id"] is not None:
        post = await visible_post(post["reblog_of_id"], viewer_id)
    ancestors = await db.fetch(
        f"""WITH RECURSIVE up(id, parent, depth) AS (
                SELECT id, in_reply_to_id, 0 FROM posts WHERE id = $1
                UNION ALL
                SELECT p.id, p.in_reply_to_id, up.depth + 1
                FROM posts p JOIN up ON p.id = up.parent WHERE up.depth < {MAX_THREAD_DEPTH}
            )
            SELECT p.id FROM up JOIN posts p ON p.id = up.id
            WHERE up.depth > 0 AND {visible_to("p", "$2")}
            ORDER BY up.depth DESC""",
        post["id"],
        viewer_id,
    )
    descendants = await db.fetch(
        f"""WITH RECURSIVE down(id, path) AS (
                SELECT id, ARRAY[id] FROM posts WHERE in_reply_to_id = $1
                UNION ALL
                SELECT p.id, down.path || p.id
                FROM posts p JOIN down ON p.in_reply_to_id = down.id
                WHERE cardinality(down.path) < {MAX_THREAD_DEPTH}
            )
            SELECT p.id FROM down JOIN posts p ON p.id = down.id
            WHERE {visible_to("p", "$2")}
            ORDER BY down.path LIMIT {MAX_DESCENDANTS}""",
        post["id"],
        viewer_id,
    )
    return [r["id"] for r in ancestors], [r["id"] for r in descendants]


@dataclass(frozen=True)
class ProfileFilter:
    only_media: bool = False
    exclude_replies: bool = False
    exclude_reblogs: bool = False
    pinned: bool = False
    tagged: str | None = None


async def account_posts(
    account_id: int | None, viewer_id: int | None, filters: ProfileFilter, window: Window
) -> list[int]:
    """Ids of one page of an account's posts the viewer may see, newest first."""
    account = await get_account(account_id)
    args: list[object] = [account["id"], viewer_id]
    conditions = ["p.account_id = $1", visible_to("p", "$2")]
    if filters.pinned:
        conditions.append("EXISTS (SELECT 1 FROM pins pi WHERE pi.post_id = p.id)")
    if filters.only_media:
        conditions.append(
            "p.reblog_of_id IS NULL AND EXISTS (SELECT 1 FROM media_attachments m "
            "WHERE m.post_id = p.id)"
        )
    if filters.exclude_replies:
        # A thread of one's own (a reply to oneself) stays, as on Mastodon.
        conditions.append("(p.in_reply_to_id IS NULL OR p.in_reply_to_account_id = $1)")
    if filters.exclude_reblogs:
        conditions.append("p.reblog_of_id IS NULL")
    if filters.tagged:
        args.append(normalize_tag(filters.tagged.lstrip("#")))
        conditions.append(
            "EXISTS (SELECT 1 FROM post_tags pt JOIN tags t ON t.id = pt.tag_id "
            f"WHERE pt.post_id = p.id AND lower(t.name) = ${len(args)})"
        )
    where, order = window.sql("p.id", args)
    rows = await db.fetch(
        f"SELECT p.id FROM posts p WHERE {' AND '.join(conditions)} AND {where} {order}", *args
    )
    return window.newest_first([r["id"] for r in rows])
