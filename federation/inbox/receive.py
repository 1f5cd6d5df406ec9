"""The thin inbox: parse, check who may send, verify the signature, dedupe, store, enqueue.

Everything slow or remote (fetching objects, changing the graph, storing posts) happens in the
job that `process_inbox_activity` runs; a delivery is answered 202 as soon as it is stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass

import msgspec

from federation.actors import is_key_cached
from federation.signatures import IncomingRequest, SignatureChecker, SignatureError
from federation.vocabulary import host_of, id_of, type_of
from node import db
from node.errors import BadRequest, Forbidden, Unauthorized
from node.ids import new_id
from node.jobs import queue_new_jobs
from node.settings import get_settings

log = logging.getLogger("pinhole.federation.inbox")

MAX_INBOX_BYTES = 1_000_000
PROCESS_JOB = "process_inbox_activity"
# Activities whose object must be the actor's own: an embedded object from another host is a
# claim we cannot trust (objects from elsewhere are only ever fetched from their origin).
OWN_OBJECT_TYPES = frozenset({"Create", "Update", "Delete"})


def refused_sql(domain: str, actor: str, mode: str) -> str:
    """SQL: whether the node refuses a sender (its domain without port, its actor id, and the
    federation mode from the environment as SQL expressions): a suspended domain, a domain
    outside the allowlist in allowlist mode, or a suspended account."""
    return f"""(
        coalesce((SELECT severity FROM pinhole_domain_block({domain})) = 'suspend', false)
        OR EXISTS (SELECT 1 FROM accounts WHERE uri = {actor} AND suspended_at IS NOT NULL)
        OR (coalesce((SELECT value FROM instance_settings WHERE key = 'federation_mode'),
                     {mode}) = 'allowlist'
            AND NOT EXISTS (SELECT 1 FROM domain_allows
                            WHERE domain = lower({domain})
                               OR right(lower({domain}), length(domain) + 1) = '.' || domain)))"""


# One statement stores a whole batch of deliveries, judging each sender on the way.
STORE_BATCH_SQL = f"""
    WITH input AS (
        SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::bigint[], $5::text[],
                             $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[])
            AS t(ord, domain, actor_uri, id, activity_id, activity_type, object_type, key_id,
                 recipient_account_id, body)
    ),
    judged AS (
        SELECT input.*, {refused_sql("input.domain", "input.actor_uri", "$11")} AS refused
        FROM input
    ),
    stored AS (
        INSERT INTO inbox_activities (id, activity_id, activity_type, object_type, actor_uri,
            key_id, recipient_account_id, body)
        SELECT id, activity_id, activity_type, object_type, actor_uri, key_id,
               recipient_account_id, body
        FROM judged WHERE NOT refused
        -- One order for every batch, so that two in flight with a common activity wait for
        -- each other instead of deadlocking; the first of repeats in a batch is the one kept.
        ORDER BY activity_id, ord
        ON CONFLICT (activity_id) DO NOTHING RETURNING id
    )
    SELECT judged.ord, judged.refused, stored.id
    FROM judged LEFT JOIN stored ON stored.id = judged.id ORDER BY judged.ord"""


def _domain_of(actor_uri: str) -> str:
    return host_of(actor_uri).split(":")[0]


async def sender_refused(actor_uri: str) -> bool:
    """Whether this node refuses the sender (see refused_sql)."""
    return bool(
        await db.fetchval(
            f"SELECT {refused_sql('$1', '$2', '$3')}",
            _domain_of(actor_uri),
            actor_uri,
            get_settings().federation_mode,
        )
    )


@dataclass(frozen=True)
class Delivery:
    """One verified delivery, ready to store."""

    actor_uri: str
    activity_id: str
    activity_type: str
    object_type: str
    key_id: str
    recipient_account_id: int | None
    body: str


@dataclass(frozen=True)
class Stored:
    refused: bool
    row_id: int | None  # None: refused, or a repeat of an activity already stored


class InboxWriter:
    """Stores deliveries in batches: requests that arrive while writes are under way share the
    next one (one INSERT, one commit, one Redis round trip for their jobs), so a busy inbox
    pays per batch what a quiet one pays per delivery. Each request is answered only once its
    own batch is committed and its job queued."""

    MAX_BATCH = 500
    # Batches in flight at once: while one waits for its commit, the next is already sent,
    # so the web process is not idle whenever every waiting request sits in one batch.
    MAX_WRITES = 2

    def __init__(self) -> None:
        self.pending: list[tuple[Delivery, asyncio.Future[Stored]]] = []
        self.writers: set[asyncio.Task] = set()

    async def store(self, delivery: Delivery) -> Stored:
        future: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self.pending.append((delivery, future))
        if len(self.writers) < self.MAX_WRITES:
            writer = asyncio.create_task(self._write_batches())
            self.writers.add(writer)
            writer.add_done_callback(self.writers.discard)
        return await future

    async def _write_batches(self) -> None:
        while self.pending:
            await asyncio.sleep(0)  # let requests arriving in the same moment join
            batch = self.pending[: self.MAX_BATCH]
            del self.pending[: self.MAX_BATCH]
            if batch:
                await self._write_settling(batch)

    @staticmethod
    async def _write_settling(batch: list[tuple[Delivery, asyncio.Future[Stored]]]) -> None:
        """Write a batch and answer each waiting request; when the batch fails, each delivery
        is written alone, so one bad delivery cannot fail the others."""
        try:
            results = await _write(batch)
        except Exception as exc:
            if len(batch) > 1:
                for item in batch:
                    await InboxWriter._write_settling([item])
                return
            if not batch[0][1].done():
                batch[0][1].set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


async def _write(batch: list[tuple[Delivery, asyncio.Future[Stored]]]) -> list[Stored]:
    deliveries = [delivery for delivery, _ in batch]
    rows = await db.fetch(
        STORE_BATCH_SQL,
        list(range(len(deliveries))),
        [_domain_of(d.actor_uri) for d in deliveries],
        [d.actor_uri for d in deliveries],
        [new_id() for _ in deliveries],
        [d.activity_id for d in deliveries],
        [d.activity_type for d in deliveries],
        [d.object_type for d in deliveries],
        [d.key_id for d in deliveries],
        [d.recipient_account_id for d in deliveries],
        [d.body for d in deliveries],
        get_settings().federation_mode,
    )
    results = [Stored(row["refused"], row["id"]) for row in rows]
    await queue_processing([r.row_id for r in results if r.row_id is not None])
    return results


_writers: dict[int, InboxWriter] = {}


def inbox_writer() -> InboxWriter:
    """The writer of this event loop."""
    loop_id = id(asyncio.get_running_loop())
    writer = _writers.get(loop_id)
    if writer is None:
        writer = _writers[loop_id] = InboxWriter()
    return writer


def parse_activity(body: bytes) -> dict:
    try:
        activity = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise BadRequest("The body is not valid JSON") from None
    if not isinstance(activity, dict):
        raise BadRequest("The body is not a JSON object")
    if not type_of(activity):
        raise BadRequest("The activity has no type")
    if not host_of(id_of(activity.get("actor"))):
        raise BadRequest("The activity has no actor")
    return activity


def check_object_origin(activity: dict, actor_uri: str) -> None:
    """Create/Update/Delete may only carry objects from the actor's own host."""
    kind = type_of(activity)
    if kind not in OWN_OBJECT_TYPES:
        return
    obj = activity.get("object")
    object_id = id_of(obj)
    if not object_id:
        raise BadRequest("The activity has no object")
    actor_host = host_of(actor_uri)
    if host_of(object_id) != actor_host:
        raise Forbidden("The object is not on the actor's host")
    if isinstance(obj, dict):
        for author in (id_of(a) for a in _as_list(obj.get("attributedTo"))):
            if author and host_of(author) != actor_host:
                raise Forbidden("The object is attributed to an actor on another host")


def _as_list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


async def queue_processing(row_ids: list[int]) -> None:
    """Queue the jobs that handle stored activities (one Redis round trip for a batch)."""
    await queue_new_jobs([(PROCESS_JOB, f"inbox:{row_id}", (row_id,)) for row_id in row_ids])


def dedupe_key(activity: dict, body: bytes) -> str:
    """The activity's id, or (some servers send none, e.g. Deletes) a digest of the body."""
    activity_id = activity.get("id")
    if isinstance(activity_id, str) and activity_id:
        return activity_id
    return "sha256:" + hashlib.sha256(body).hexdigest()


async def accept_delivery(
    request: IncomingRequest, checker: SignatureChecker, recipient_account_id: int | None
) -> bool:
    """Take one delivery; True when it was new (stored and queued), False for a repeat.

    Raises BadRequest (400), Unauthorized (401: signature), Forbidden (403: refused sender or
    an object from another host); the caller has already bounded the body (413)."""
    activity = parse_activity(request.body)
    actor_uri = id_of(activity.get("actor"))
    actor_host = host_of(actor_uri)
    if actor_host == get_settings().domain:
        raise Forbidden("Activities of local actors are not delivered here")
    try:
        candidates = checker.candidates(request)
    except SignatureError as exc:
        raise Unauthorized(f"Signature: {exc}") from None
    # Before any key is fetched, refuse senders we do not talk to; with all keys in memory
    # (the common case) the check rides along with the insert below instead.
    if not all(is_key_cached(c.key_id) for c in candidates) and await sender_refused(actor_uri):
        raise Forbidden("This server does not accept activities from this sender")
    try:
        verified = await checker.verify(request, candidates)
    except SignatureError as exc:
        raise Unauthorized(f"Signature: {exc}") from None
    if host_of(verified.owner) != actor_host:
        raise Unauthorized("The signing key's owner is not on the actor's host")
    check_object_origin(activity, actor_uri)
    obj = activity.get("object")
    stored = await inbox_writer().store(
        Delivery(
            actor_uri=actor_uri,
            activity_id=dedupe_key(activity, request.body),
            activity_type=type_of(activity)[:64],
            object_type=type_of(obj)[:64] if isinstance(obj, dict) else "",
            key_id=verified.key_id,
            recipient_account_id=recipient_account_id,
            body=request.body.decode("utf-8", errors="replace").replace("\x00", ""),
        )
    )
    if stored.refused:
        raise Forbidden("This server does not accept activities from this sender")
    return stored.row_id is not None
