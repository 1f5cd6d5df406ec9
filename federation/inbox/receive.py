"""The thin inbox: parse, check who may send, verify the signature, dedupe, store, enqueue.

Everything slow or remote (fetching objects, changing the graph, storing posts) happens in the
job that `process_inbox_activity` runs; a delivery is answered 202 as soon as it is stored.
"""

from __future__ import annotations

import hashlib
import logging

import msgspec
from arq.constants import expires_extra_ms, job_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms

from federation.actors import is_key_cached
from federation.signatures import IncomingRequest, SignatureChecker, SignatureError
from federation.vocabulary import host_of, id_of, type_of
from node import db
from node.errors import BadRequest, Forbidden, Unauthorized
from node.ids import new_id
from node.jobs import job_pool
from node.settings import get_settings

log = logging.getLogger("pinhole.federation.inbox")

MAX_INBOX_BYTES = 1_000_000
PROCESS_JOB = "process_inbox_activity"
# Activities whose object must be the actor's own: an embedded object from another host is a
# claim we cannot trust (objects from elsewhere are only ever fetched from their origin).
OWN_OBJECT_TYPES = frozenset({"Create", "Update", "Delete"})


# Whether the node refuses a sender ($1: its domain without port, $2: its actor id, $3: the
# federation mode from the environment): a suspended domain, a domain outside the allowlist in
# allowlist mode, or a suspended account.
REFUSED_SQL = """
    coalesce((SELECT severity FROM pinhole_domain_block($1)) = 'suspend', false)
    OR EXISTS (SELECT 1 FROM accounts WHERE uri = $2 AND suspended_at IS NOT NULL)
    OR (coalesce((SELECT value FROM instance_settings WHERE key = 'federation_mode'), $3)
          = 'allowlist'
        AND NOT EXISTS (SELECT 1 FROM domain_allows
                        WHERE domain = lower($1)
                           OR right(lower($1), length(domain) + 1) = '.' || domain))"""

STORE_SQL = f"""
    WITH policy AS (SELECT {REFUSED_SQL} AS refused),
    stored AS (
        INSERT INTO inbox_activities (id, activity_id, activity_type, object_type, actor_uri,
            key_id, recipient_account_id, body)
        SELECT $4, $5, $6, $7, $2, $8, $9, $10 FROM policy WHERE NOT policy.refused
        ON CONFLICT (activity_id) DO NOTHING RETURNING id
    )
    SELECT (SELECT refused FROM policy) AS refused, (SELECT id FROM stored) AS id"""


def _policy_args(actor_uri: str) -> tuple[str, str, str]:
    return host_of(actor_uri).split(":")[0], actor_uri, get_settings().federation_mode


async def sender_refused(actor_uri: str) -> bool:
    """Whether this node refuses the sender (see REFUSED_SQL)."""
    return bool(await db.fetchval(f"SELECT {REFUSED_SQL}", *_policy_args(actor_uri)))


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


async def queue_processing(row_id: int) -> None:
    """Queue the job that handles a stored activity, in one round trip to Redis.

    arq's enqueue_job first WATCHes and checks that no job with the id exists (three round
    trips); the row id is new by construction (the database just deduplicated the delivery),
    so the job is written the way arq writes it, without the check."""
    pool = await job_pool()
    job_id = f"inbox:{row_id}"
    now = timestamp_ms()
    job = serialize_job(PROCESS_JOB, (row_id,), {}, None, now)
    async with pool.pipeline(transaction=True) as pipe:
        pipe.psetex(job_key_prefix + job_id, expires_extra_ms, job)
        pipe.zadd(get_settings().queue_name, {job_id: now})
        await pipe.execute()


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
    row = await db.fetchrow(
        STORE_SQL,
        *_policy_args(actor_uri),
        new_id(),
        dedupe_key(activity, request.body),
        type_of(activity)[:64],
        type_of(obj)[:64] if isinstance(obj, dict) else "",
        verified.key_id,
        recipient_account_id,
        request.body.decode("utf-8", errors="replace").replace("\x00", ""),
    )
    if row["refused"]:
        raise Forbidden("This server does not accept activities from this sender")
    if row["id"] is None:
        return False
    await queue_processing(row["id"])
    return True
