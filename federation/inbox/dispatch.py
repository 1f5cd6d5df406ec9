"""The dispatch table: (activity type, object type) → the handler module that acts on it.

A stored activity is processed here in a job; unknown pairs get an explicit "unhandled"
outcome (logged and kept), and no input makes the job fail loudly more than once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from asyncpg import Record

from federation.actors import ActorUnavailable, get_actor
from federation.delivery import domain_answered_sql
from federation.inbox.activity import InboxActivity, Outcome, unhandled
from federation.inbox.handlers import (
    accept,
    announce,
    block,
    create,
    delete,
    flag,
    follow,
    like,
    move,
    reject,
    undo,
    update,
)
from federation.vocabulary import ACTOR_TYPES, POST_TYPES, host_of, type_of
from node import db
from node.errors import PinholeError

log = logging.getLogger("pinhole.federation.inbox")

Handler = Callable[[InboxActivity], Awaitable[Outcome]]

ANY = "*"  # any object, including one given only by its id
BY_ID = ""  # the object is only an id

HANDLERS: dict[tuple[str, str], Handler] = {
    ("Follow", ANY): follow.handle,
    ("Accept", "Follow"): accept.handle,
    ("Accept", BY_ID): accept.handle,
    ("Reject", "Follow"): reject.handle,
    ("Reject", BY_ID): reject.handle,
    ("Undo", "Follow"): undo.handle,
    ("Undo", "Like"): undo.handle,
    ("Undo", "Announce"): undo.handle,
    ("Undo", "Block"): undo.handle,
    ("Undo", BY_ID): undo.handle,
    ("Create", BY_ID): create.handle,
    **{("Create", kind): create.handle for kind in POST_TYPES},
    **{("Update", kind): update.handle for kind in POST_TYPES | ACTOR_TYPES},
    ("Delete", "Tombstone"): delete.handle,
    ("Delete", BY_ID): delete.handle,
    **{("Delete", kind): delete.handle for kind in POST_TYPES | ACTOR_TYPES},
    ("Like", ANY): like.handle,
    ("Announce", ANY): announce.handle,
    ("Block", ANY): block.handle,
    ("Flag", ANY): flag.handle,
    ("Move", ANY): move.handle,
}


def handler_for(activity_type: str, object_type: str) -> Handler | None:
    return HANDLERS.get((activity_type, object_type)) or HANDLERS.get((activity_type, ANY))


# Records the outcome and, in the same statement, that the sender's domain talks to us: it is
# reachable again whatever the delivery failure tracker thought.
_FINISH_SQL = f"""
    WITH finished AS (
        UPDATE inbox_activities SET state = $2, result = $3, processed_at = now()
        WHERE id = $1 RETURNING id)
    {domain_answered_sql("$4")}"""


async def _finish(row: Record, state: str, detail: str) -> None:
    await db.execute(_FINISH_SQL, row["id"], state, detail[:1000], host_of(row["actor_uri"]))


async def process_activity(row_id: int) -> Outcome | None:
    """Handle one stored activity once (a repeat of the job finds it no longer queued)."""
    row = await db.fetchrow(
        "SELECT * FROM inbox_activities WHERE id = $1 AND state = 'queued'", row_id
    )
    if row is None:
        return None
    body = json.loads(row["body"])
    obj = body.get("object")
    object_type = type_of(obj) if isinstance(obj, dict) else BY_ID
    handler = handler_for(row["activity_type"], object_type)
    if handler is None:
        outcome = unhandled(f"no handler for {row['activity_type']}({object_type or 'id'})")
        log.info("inbox %s: %s", row_id, outcome.detail)
        await _finish(row, outcome.state, outcome.detail)
        return outcome
    try:
        actor = await get_actor(row["actor_uri"])
    except ActorUnavailable as exc:
        outcome = Outcome("done", f"ignored: the actor is unavailable: {exc}")
        await _finish(row, outcome.state, outcome.detail)
        return outcome
    activity = InboxActivity(row_id, body, actor, row["recipient_account_id"])
    try:
        outcome = await handler(activity)
    except PinholeError as exc:
        outcome = Outcome("done", f"ignored: {exc.message}")
    except Exception as exc:
        log.exception("inbox %s (%s) failed", row_id, row["activity_type"])
        await _finish(row, "failed", f"{type(exc).__name__}: {exc}")
        return Outcome("done", "failed")
    await _finish(row, outcome.state, outcome.detail)
    return outcome
