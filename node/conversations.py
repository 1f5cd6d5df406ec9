"""Direct messages: direct-visibility posts gathered into each participant's conversations, with
unread state, message requests, typing indicators and read receipts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from asyncpg import Record

from node import db, streaming
from node.captions import find_references
from node.cursors import Window
from node.errors import Forbidden, NotFound
from node.ids import SEQUENCE_BITS, id_time_ms, new_id
from node.piccolo_conf import DB
from node.post_views import PostView, hydrate

# Direct posts of the same people still waiting to be recorded are looked for this far back.
PENDING_WINDOW_MS = 10 * 60 * 1000
TYPING = "pinhole.typing"
READ = "pinhole.read"


@dataclass(frozen=True)
class Delivery:
    """One participant's conversation that a direct post went into."""

    conversation_id: int
    account_id: int
    post_id: int
    request: bool  # the conversation waits among the participant's message requests
    own: bool  # the participant wrote the post


Announce = Callable[[list[Delivery]], Awaitable[None]]


async def ensure_may_message(author_id: int, text: str) -> None:
    """Refuse a direct message to anyone the author blocks or is blocked by."""
    refs = find_references(text).mentions
    if not refs:
        return
    blocked = await db.fetchval(
        """SELECT a.username || CASE WHEN a.domain = '' THEN '' ELSE '@' || a.domain END
           FROM accounts a
           JOIN unnest($1::text[], $2::text[]) AS r(username, domain)
             ON lower(a.username) = r.username AND lower(a.domain) = r.domain
           WHERE EXISTS (SELECT 1 FROM blocks b
                         WHERE (b.account_id = a.id AND b.target_account_id = $3)
                            OR (b.account_id = $3 AND b.target_account_id = a.id))
           LIMIT 1""",
        [ref.key[0] for ref in refs],
        [ref.key[1] for ref in refs],
        author_id,
    )
    if blocked is not None:
        raise Forbidden(f"You cannot send messages to @{blocked}")


async def _participants(post_id: int) -> tuple[Record | None, list[int]]:
    post = await db.fetchrow(
        """SELECT id, account_id FROM posts
           WHERE id = $1 AND visibility = 'direct' AND deleted_at IS NULL
             AND reblog_of_id IS NULL""",
        post_id,
    )
    if post is None:
        return None, []
    rows = await db.fetch(
        """SELECT $2::bigint AS id UNION SELECT account_id FROM mentions WHERE post_id = $1
           ORDER BY id""",
        post_id,
        post["account_id"],
    )
    return post, [r["id"] for r in rows]


async def _pending(participants: list[int], post_id: int) -> list[Record]:
    """Direct posts among exactly these people, up to `post_id`, not yet recorded, oldest first."""
    since = (id_time_ms(post_id) - PENDING_WINDOW_MS) << SEQUENCE_BITS
    return await db.fetch(
        """SELECT p.id, p.account_id FROM posts p
           WHERE p.account_id = ANY($1::bigint[]) AND p.visibility = 'direct'
             AND p.deleted_at IS NULL AND p.reblog_of_id IS NULL
             AND p.id <= $2 AND p.id >= $3
             AND NOT EXISTS (SELECT 1 FROM direct_posts_recorded r WHERE r.post_id = p.id)
             AND ARRAY(SELECT x FROM (SELECT p.account_id AS x
                                      UNION SELECT m.account_id FROM mentions m
                                            WHERE m.post_id = p.id) people
                       ORDER BY x) = $1::bigint[]
           ORDER BY p.id""",
        participants,
        post_id,
        since,
    )


async def _record(post: Record, participants: list[int], locals_: list[Record]) -> list[Delivery]:
    author = post["account_id"]
    following_author = {
        r["account_id"]
        for r in await db.fetch(
            """SELECT account_id FROM follows
               WHERE target_account_id = $1 AND account_id = ANY($2::bigint[])""",
            author,
            [r["account_id"] for r in locals_],
        )
    }
    deliveries = []
    for owner in locals_:
        owner_id = owner["account_id"]
        own = owner_id == author
        # A stranger's first message waits among the requests of someone who wants them.
        request = not own and owner["message_requests"] and owner_id not in following_author
        row = await db.fetchrow(
            """INSERT INTO conversations (id, account_id, participant_ids, last_post_id,
                                          last_read_post_id, unread, request)
               VALUES ($1, $2, $3, $4::bigint, CASE WHEN $5::boolean THEN $4::bigint END,
                       NOT $5::boolean, $6)
               ON CONFLICT (account_id, participant_ids) DO UPDATE SET
                   last_post_id = EXCLUDED.last_post_id,
                   unread = NOT $5,
                   last_read_post_id = CASE WHEN $5 THEN EXCLUDED.last_post_id
                                            ELSE conversations.last_read_post_id END,
                   request = conversations.request AND NOT $5,
                   updated_at = now()
               RETURNING id, request""",
            new_id(),
            owner_id,
            [p for p in participants if p != owner_id],
            post["id"],
            own,
            request,
        )
        await db.execute(
            """INSERT INTO conversation_posts (conversation_id, post_id) VALUES ($1, $2)
               ON CONFLICT DO NOTHING""",
            row["id"],
            post["id"],
        )
        deliveries.append(Delivery(row["id"], owner_id, post["id"], row["request"], own))
    await db.execute(
        "INSERT INTO direct_posts_recorded (post_id) VALUES ($1) ON CONFLICT DO NOTHING",
        post["id"],
    )
    return deliveries


async def record_direct_post(post_id: int, announce: Announce | None = None) -> list[Delivery]:
    """post.created for a direct post: put it into the conversation of each local participant
    (author and addressees), unread for those who did not write it. The latest message of a
    conversation is the one recorded last: remote posts take their ids from their
    `published` time, often to the second, so a quick reply may have a smaller id than the
    message it answers.

    Posts of the same people are recorded one job at a time and in id order (a job also
    records earlier posts whose own job has not run yet), then committed, then announced
    (`announce` gets each post's deliveries in turn) before the next job may start: streams
    get each message once and in order however jobs interleave, and a client that acts on
    an announcement finds the conversation already there. Running twice changes nothing."""
    post, participants = await _participants(post_id)
    if post is None:
        return []
    locals_ = await db.fetch(
        """SELECT u.account_id, u.message_requests FROM users u
           JOIN accounts a ON a.id = u.account_id
           WHERE u.account_id = ANY($1::bigint[]) AND a.domain = '' ORDER BY u.account_id""",
        participants,
    )
    if not locals_:
        return []
    batches: list[list[Delivery]] = []
    async with _people_lock(participants):
        async with db.transaction():
            for pending in await _pending(participants, post_id):
                batches.append(await _record(pending, participants, locals_))
        if announce is not None:
            for deliveries in batches:
                await announce(deliveries)
    return [d for deliveries in batches for d in deliveries]


@asynccontextmanager
async def _people_lock(participants: list[int]) -> AsyncIterator[None]:
    """A lock per set of people, held on a connection of its own (a session lock, not a
    transaction's) so that it lasts past the commit, through the announcements."""
    name = "dm:" + ",".join(str(p) for p in participants)
    async with DB.pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", name)
        try:
            yield
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", name)


async def request_recipients(post_id: int) -> list[int]:
    """Accounts for whom a direct post waits among message requests (no notification yet)."""
    rows = await db.fetch(
        """SELECT c.account_id FROM conversation_posts cp
           JOIN conversations c ON c.id = cp.conversation_id
           WHERE cp.post_id = $1 AND c.request""",
        post_id,
    )
    return [r["account_id"] for r in rows]


async def on_post_deleted(post_id: int) -> list[Record]:
    """post.deleted: each conversation that held the post falls back to its latest remaining
    message, or goes when none is left. Returns the conversations changed (rows as they are
    now; `gone` set for those removed)."""
    changed = []
    for row in await db.fetch(
        "SELECT conversation_id FROM conversation_posts WHERE post_id = $1", post_id
    ):
        latest = await db.fetchval(
            """SELECT max(cp.post_id) FROM conversation_posts cp JOIN posts p ON p.id = cp.post_id
               WHERE cp.conversation_id = $1 AND p.deleted_at IS NULL""",
            row["conversation_id"],
        )
        if latest is None:
            gone = await db.fetchrow(
                "DELETE FROM conversations WHERE id = $1 RETURNING *, true AS gone",
                row["conversation_id"],
            )
        else:
            gone = await db.fetchrow(
                """UPDATE conversations SET last_post_id = $2, updated_at = now() WHERE id = $1
                   RETURNING *, false AS gone""",
                row["conversation_id"],
                latest,
            )
        if gone is not None:
            changed.append(gone)
    return changed


# --- reading and acting on one's conversations -----------------------------------------------


@dataclass(frozen=True)
class ConversationView:
    """A conversation ready to show: the other participants (oneself for notes to self) and
    the latest message as the owner sees it."""

    row: Mapping[str, Any]
    accounts: list[Record]
    last_status: PostView | None


async def views(rows: list[Mapping[str, Any]], owner_id: int) -> list[ConversationView]:
    if not rows:
        return []
    account_ids = {a for r in rows for a in r["participant_ids"]} | {owner_id}
    accounts = {
        a["id"]: a
        for a in await db.fetch(
            "SELECT * FROM accounts WHERE id = ANY($1::bigint[])", list(account_ids)
        )
    }
    statuses = {v.post["id"]: v for v in await hydrate([r["last_post_id"] for r in rows], owner_id)}
    return [
        ConversationView(
            row=r,
            accounts=[accounts[a] for a in (r["participant_ids"] or [owner_id]) if a in accounts],
            last_status=statuses.get(r["last_post_id"]),
        )
        for r in rows
    ]


async def page(owner_id: int, *, requests: bool, window: Window) -> list[Record]:
    """One page of conversations (or of message requests), latest message first; the cursor
    is the latest message's id, as on Mastodon."""
    args: list[object] = [owner_id, requests]
    cursor, order = window.sql("c.last_post_id", args)
    rows = await db.fetch(
        f"""SELECT c.* FROM conversations c
            WHERE c.account_id = $1 AND c.request = $2 AND {cursor} {order}""",
        *args,
    )
    return window.newest_first(rows)


async def get(owner_id: int, conversation_id: int | None) -> Record:
    row = None
    if conversation_id is not None:
        row = await db.fetchrow(
            "SELECT * FROM conversations WHERE id = $1 AND account_id = $2",
            conversation_id,
            owner_id,
        )
    if row is None:
        raise NotFound()
    return row


async def view(
    owner_id: int, conversation_id: int | None, *, as_of_post_id: int | None = None
) -> ConversationView:
    """A conversation; `as_of_post_id` shows that message as the latest (to announce messages
    one by one when several were recorded together)."""
    row: Mapping[str, Any] = await get(owner_id, conversation_id)
    if as_of_post_id is not None:
        row = {**dict(row), "last_post_id": as_of_post_id}
    return (await views([row], owner_id))[0]


async def counterparts(row: Record) -> list[Record]:
    """The same conversation as the other local participants have it (their rows)."""
    everyone = sorted({*row["participant_ids"], row["account_id"]})
    return await db.fetch(
        """SELECT c.* FROM conversations c
           WHERE c.account_id = ANY($1::bigint[]) AND c.account_id <> $2
             AND c.participant_ids = ARRAY(SELECT x FROM unnest($1::bigint[]) x
                                           WHERE x <> c.account_id ORDER BY x)""",
        everyone,
        row["account_id"],
    )


async def _tell_others(row: Record, event: str, extra: dict[str, str]) -> None:
    """Our own stream event to the other participants' `direct` streams, each with their own
    conversation id. Nothing leaves a conversation still waiting among one's requests."""
    if row["request"]:
        return
    for other in await counterparts(row):
        await streaming.publish(
            [streaming.direct_stream(other["account_id"])],
            event,
            {"conversation_id": str(other["id"]), "account_id": str(row["account_id"]), **extra},
            involved=[row["account_id"]],
        )


async def mark_read(owner_id: int, conversation_id: int | None) -> ConversationView:
    """Mark a conversation read; the others see a read receipt (`pinhole.read`)."""
    await get(owner_id, conversation_id)
    row = await db.fetchrow(
        """UPDATE conversations SET unread = false, last_read_post_id = last_post_id,
               updated_at = now()
           WHERE id = $1 AND account_id = $2 RETURNING *""",
        conversation_id,
        owner_id,
    )
    await _tell_others(row, READ, {"last_read_id": str(row["last_post_id"])})
    return (await views([row], owner_id))[0]


async def typing(owner_id: int, conversation_id: int | None) -> None:
    """The owner is typing in a conversation: the others see `pinhole.typing`."""
    await _tell_others(await get(owner_id, conversation_id), TYPING, {})


async def accept(owner_id: int, conversation_id: int | None) -> ConversationView:
    """Accept a message request: the conversation joins the others, and later messages in it
    notify as usual."""
    await get(owner_id, conversation_id)
    row = await db.fetchrow(
        """UPDATE conversations SET request = false, updated_at = now()
           WHERE id = $1 AND account_id = $2 RETURNING *""",
        conversation_id,
        owner_id,
    )
    return (await views([row], owner_id))[0]


async def remove(owner_id: int, conversation_id: int | None) -> None:
    """Remove a conversation from one's list (a later message starts it again)."""
    removed = await db.fetchval(
        "DELETE FROM conversations WHERE id = $1 AND account_id = $2 RETURNING id",
        conversation_id,
        owner_id,
    )
    if removed is None:
        raise NotFound()


async def message_requests_enabled(account_id: int) -> bool:
    value = await db.fetchval(
        "SELECT message_requests FROM users WHERE account_id = $1", account_id
    )
    if value is None:
        raise NotFound()
    return value


async def set_message_requests(account_id: int, enabled: bool) -> bool:
    """Whether messages from people one does not follow wait among requests (default: yes)."""
    value = await db.fetchval(
        "UPDATE users SET message_requests = $2 WHERE account_id = $1 RETURNING message_requests",
        account_id,
        enabled,
    )
    if value is None:
        raise NotFound()
    return value
