"""Direct messages as a chat: one conversation's messages in order, and sending into it."""

from __future__ import annotations

import asyncio

from asyncpg import Record

from node import conversations, db, posts
from node.cursors import Window
from node.errors import Invalid
from node.post_views import PostView, hydrate
from node.visibility import visible_to

MAX_MESSAGE = posts.MAX_CAPTION
# Sending waits this long for the job that files a new message into its conversation.
FILING_WAIT_SECONDS = 5.0


def _acct(account: Record) -> str:
    return account["username"] + (f"@{account['domain']}" if account["domain"] else "")


async def messages(owner_id: int, conversation_id: int | None, window: Window) -> list[PostView]:
    """One page of a conversation's messages the owner may see, oldest first (as a chat reads);
    the window walks back from max_id like every list."""
    conversation = await conversations.get(owner_id, conversation_id)
    args: list[object] = [conversation["id"], owner_id]
    where, order = window.sql("p.id", args)
    rows = await db.fetch(
        f"""SELECT p.id FROM conversation_posts cp JOIN posts p ON p.id = cp.post_id
            WHERE cp.conversation_id = $1 AND {visible_to("p", "$2")} AND {where} {order}""",
        *args,
    )
    ids = window.newest_first([r["id"] for r in rows])
    return list(reversed(await hydrate(ids, owner_id)))


async def send(author_id: int, recipients: list[Record], text: str) -> int:
    """A direct message to these accounts (each mentioned, as the protocol needs); its post id."""
    text = (text or "").strip()
    if not text:
        raise Invalid("text", "can't be blank")
    if not recipients:
        raise Invalid("to", "needs someone to write to")
    mentions = " ".join(f"@{_acct(a)}" for a in recipients if a["id"] != author_id)
    body = f"{mentions} {text}".strip()
    if len(body) > MAX_MESSAGE:
        raise Invalid("text", f"is too long (maximum is {MAX_MESSAGE} characters)")
    await conversations.ensure_may_message(author_id, body)
    return await posts.publish(author_id, posts.Draft(text=body, visibility="direct"))


async def conversation_of(owner_id: int, post_id: int, *, wait: bool = True) -> int | None:
    """The owner's conversation holding this message, waiting briefly for a new one to be filed
    (a job does that right after the post is created)."""
    deadline = asyncio.get_running_loop().time() + (FILING_WAIT_SECONDS if wait else 0)
    while True:
        found = await db.fetchval(
            """SELECT c.id FROM conversation_posts cp JOIN conversations c
                 ON c.id = cp.conversation_id
               WHERE cp.post_id = $1 AND c.account_id = $2""",
            post_id,
            owner_id,
        )
        if found is not None or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.05)
