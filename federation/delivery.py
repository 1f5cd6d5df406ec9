"""Outgoing delivery: an activity is stored once, then sent by one job per target inbox, with
growing retry delays, no retry where a retry cannot help, and a per-domain failure tracker."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from asyncpg import Record

from federation.client import FetchError, signed_post
from federation.instance_actor import Signer, instance_signer
from federation.vocabulary import host_of
from node import db
from node.ids import new_id
from node.jobs import enqueue, queue_new_jobs
from node.settings import get_settings

log = logging.getLogger("pinhole.federation.delivery")

DELIVER_JOB = "deliver_activity"
FAILURE_DAYS_BEFORE_UNAVAILABLE = 7  # as Mastodon: failures on a week of distinct days
RETRYABLE_CLIENT_ERRORS = frozenset({401, 408, 429})


def retry_delays() -> list[float]:
    raw = get_settings().delivery_retry_delays
    delays = []
    for part in raw.split(","):
        part = part.strip()
        if part:
            try:
                delays.append(max(0.0, float(part)))
            except ValueError:
                continue
    return delays


def preferred_inbox(account: Record) -> str:
    """The shared inbox when the actor's server has one: one request per server."""
    return account["shared_inbox_url"] or account["inbox_url"]


async def store_activity(activity: dict[str, Any], account_id: int | None) -> int:
    """Keep an activity we send (idempotent on its id); the row id."""
    body = json.dumps(activity, ensure_ascii=False, separators=(",", ":"))
    obj = activity.get("object")
    object_uri = (
        obj if isinstance(obj, str) else (obj or {}).get("id", "") if isinstance(obj, dict) else ""
    )
    row_id = await db.fetchval(
        """INSERT INTO outbox_activities (id, uri, activity_type, account_id, object_uri, body)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (uri) DO UPDATE SET body = EXCLUDED.body RETURNING id""",
        new_id(),
        activity["id"],
        activity["type"],
        account_id,
        object_uri or "",
        body,
    )
    return row_id


async def send(
    activity: dict[str, Any], sender_account_id: int | None, recipients: Iterable[Record]
) -> int:
    """Store an activity and queue one delivery per distinct inbox of the remote recipients.

    Sending the same activity again (same id) to an inbox that already has a delivery queues
    nothing new, so jobs that run twice send once. Returns the activity's row id."""
    inboxes: dict[str, str] = {}
    local_domain = get_settings().domain
    for account in recipients:
        if account is None or account["domain"] in ("", local_domain):
            continue
        if account["suspended_at"] is not None:
            continue
        inbox = preferred_inbox(account)
        if inbox:
            inboxes.setdefault(inbox, host_of(inbox))
    activity_row = await store_activity(activity, sender_account_id)
    if not inboxes:
        return activity_row
    urls = list(inboxes)
    rows = await db.fetch(
        """INSERT INTO deliveries (id, activity_id, inbox_url, domain, next_attempt_at)
           SELECT unnest($1::bigint[]), $2, unnest($3::text[]), unnest($4::text[]), now()
           ON CONFLICT (activity_id, inbox_url) DO NOTHING RETURNING id""",
        [new_id() for _ in urls],
        activity_row,
        urls,
        [inboxes[url] for url in urls],
    )
    await queue_new_jobs([(DELIVER_JOB, f"deliver:{row['id']}:0", (row["id"],)) for row in rows])
    return activity_row


@dataclass(frozen=True)
class DeliveryResult:
    state: str
    detail: str


async def record_failure(domain: str) -> None:
    """Count today as a failure day; a week of them makes the domain unavailable."""
    await db.execute(
        """INSERT INTO federation_domains (domain, failure_days, last_failure_at)
           VALUES ($1, ARRAY[current_date], now())
           ON CONFLICT (domain) DO UPDATE SET
             failure_days = CASE WHEN current_date = ANY(federation_domains.failure_days)
                                 THEN federation_domains.failure_days
                                 ELSE federation_domains.failure_days || current_date END,
             last_failure_at = now(),
             unavailable_since = CASE
               WHEN cardinality(federation_domains.failure_days)
                    + (NOT current_date = ANY(federation_domains.failure_days))::int >= $2
               THEN coalesce(federation_domains.unavailable_since, now())
               ELSE federation_domains.unavailable_since END""",
        domain,
        FAILURE_DAYS_BEFORE_UNAVAILABLE,
    )


def domain_answered_sql(domain: str) -> str:
    """SQL: the domain (an SQL expression) answers, so its failures are forgotten (a no-op
    write unless it had some); a statement of its own or the last part of a larger one."""
    return f"""UPDATE federation_domains
           SET failure_days = '{{}}', unavailable_since = NULL, last_success_at = now()
           WHERE domain = {domain} AND (failure_days <> '{{}}' OR unavailable_since IS NOT NULL)"""


async def _finish(
    delivery_id: int, state: str, status: int | None, error: str, *, answered: str = ""
) -> None:
    """Record the last attempt; `answered`: the domain answered, so its failures are forgotten
    (in the same statement, a no-op unless it had some)."""
    await db.execute(
        f"""WITH finished AS (
               UPDATE deliveries SET state = $2::varchar, last_status = $3, last_error = $4,
                   attempts = attempts + 1, next_attempt_at = NULL,
                   delivered_at = CASE WHEN $2::varchar = 'delivered' THEN now() END
               WHERE id = $1 RETURNING id)
           {domain_answered_sql("$5")}""",
        delivery_id,
        state,
        status,
        error[:500],
        answered,
    )


async def _retry_later(
    delivery: Record, status: int | None, error: str, retry_after: float | None
) -> DeliveryResult:
    delays = retry_delays()
    attempt = delivery["attempts"]  # attempts made before this one
    if attempt >= len(delays):
        await _finish(delivery["id"], "failed", status, f"gave up: {error}")
        return DeliveryResult("failed", f"gave up after {attempt + 1} attempts: {error}")
    delay = max(delays[attempt], retry_after or 0.0)
    await db.execute(
        """UPDATE deliveries SET attempts = attempts + 1, last_status = $2, last_error = $3,
               next_attempt_at = now() + make_interval(secs => $4)
           WHERE id = $1""",
        delivery["id"],
        status,
        error[:500],
        delay,
    )
    await enqueue(
        DELIVER_JOB,
        delivery["id"],
        job_id=f"deliver:{delivery['id']}:{attempt + 1}",
        defer_by=delay,
    )
    return DeliveryResult("pending", f"retry in {delay:.0f} s: {error}")


async def deliver(delivery_id: int) -> DeliveryResult:
    """Make one attempt at one delivery; schedules the next attempt itself when worth it."""
    # Everything an attempt needs, in one query: the delivery, the activity, the sender's key
    # and whether the target domain is set aside.
    delivery = await db.fetchrow(
        """SELECT d.*, o.body, o.account_id, a.key_id, a.private_key_pem,
                  EXISTS (SELECT 1 FROM federation_domains f
                          WHERE f.domain = d.domain AND f.unavailable_since IS NOT NULL)
                    AS domain_unavailable
           FROM deliveries d JOIN outbox_activities o ON o.id = d.activity_id
           LEFT JOIN accounts a ON a.id = o.account_id AND a.domain = ''
           WHERE d.id = $1""",
        delivery_id,
    )
    if delivery is None or delivery["state"] != "pending":
        return DeliveryResult("gone", "not pending")
    if delivery["domain_unavailable"]:
        await _finish(delivery_id, "skipped", None, "domain marked unavailable")
        return DeliveryResult("skipped", "domain marked unavailable")
    if delivery["private_key_pem"]:
        signer = Signer(delivery["key_id"], delivery["private_key_pem"])
    else:
        signer = await instance_signer()
    try:
        result = await signed_post(delivery["inbox_url"], delivery["body"].encode(), signer)
    except FetchError as exc:
        if exc.permanent:
            await _finish(delivery_id, "failed", None, exc.message)
            return DeliveryResult("failed", exc.message)
        await record_failure(delivery["domain"])
        return await _retry_later(delivery, None, exc.message, None)
    if 200 <= result.status < 300:
        await _finish(delivery_id, "delivered", result.status, "", answered=delivery["domain"])
        return DeliveryResult("delivered", str(result.status))
    if 400 <= result.status < 500 and result.status not in RETRYABLE_CLIENT_ERRORS:
        # The server understood and refused: sending the same bytes again cannot help.
        refusal = f"refused with {result.status}"
        await _finish(delivery_id, "failed", result.status, refusal, answered=delivery["domain"])
        return DeliveryResult("failed", refusal)
    if result.status >= 500:
        await record_failure(delivery["domain"])
    return await _retry_later(
        delivery, result.status, f"answered {result.status}", result.retry_after
    )


async def delivery_states(
    *,
    activity_uri: str | None = None,
    domain: str | None = None,
    state: str | None = None,
    limit: int = 100,
) -> list[Record]:
    """Deliveries, newest first, with their activity: what an admin asks about."""
    return await db.fetch(
        """SELECT d.id, d.inbox_url, d.domain, d.state, d.attempts, d.last_status, d.last_error,
                  d.next_attempt_at, d.created_at, d.delivered_at,
                  o.uri AS activity_uri, o.activity_type
           FROM deliveries d JOIN outbox_activities o ON o.id = d.activity_id
           WHERE ($1::text IS NULL OR o.uri = $1)
             AND ($2::text IS NULL OR d.domain = $2)
             AND ($3::text IS NULL OR d.state = $3)
           ORDER BY d.id DESC LIMIT $4""",
        activity_uri,
        domain,
        state,
        limit,
    )


async def requeue_due_deliveries(limit: int = 1000) -> int:
    """Queue again the pending deliveries whose time has come (a job lost with Redis, or a
    worker that stopped mid-attempt); repeats are harmless since a delivery is attempted only
    while pending."""
    rows = await db.fetch(
        """SELECT id, attempts FROM deliveries
           WHERE state = 'pending' AND next_attempt_at < now() - interval '5 minutes'
           ORDER BY next_attempt_at LIMIT $1""",
        limit,
    )
    for row in rows:
        await enqueue(DELIVER_JOB, row["id"], job_id=f"deliver:{row['id']}:{row['attempts']}:sweep")
    return len(rows)
