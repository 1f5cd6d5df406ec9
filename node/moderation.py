"""Moderation: reports and their queue, actions on accounts and posts, domain blocks and the
allowlist, media hash blocks. Every action lands in the audit log (node.admin.record_action).

What other parts read:
- accounts.suspended_at: the account and its posts are gone for everyone (kept 30 days, then
  its data is deleted); accounts.silenced_at: kept out of public timelines and search;
  accounts.sensitized_at: its media are shown as sensitive.
- domain_policy(domain) / domain_rules(domain): what federation does with a remote domain.
- is_media_hash_blocked(sha256): media refused at upload and from federation.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from asyncpg import Record, UniqueViolationError

from node import db, posts
from node.admin import ROLE_RANK, record_action, runtime_setting
from node.errors import Forbidden, Invalid, NotFound
from node.events import emit
from node.ids import new_id
from node.settings import get_settings

CATEGORIES = ("spam", "legal", "violation", "other")
MAX_COMMENT = 1000
MAX_NOTE = 500
ACCOUNT_ACTIONS = ("none", "sensitive", "disable", "silence", "suspend")
SEVERITIES = ("suspend", "silence", "noop")
CSV_HEADER = [
    "#domain",
    "#severity",
    "#reject_media",
    "#reject_reports",
    "#public_comment",
    "#obfuscate",
]

# ---------------------------------------------------------------- reports


async def _existing_post_ids(target_account_id: int, status_ids: list[int]) -> list[int]:
    if not status_ids:
        return []
    rows = await db.fetch(
        "SELECT id FROM posts WHERE id = ANY($1::bigint[]) AND account_id = $2",
        status_ids,
        target_account_id,
    )
    found = {row["id"] for row in rows}
    return [i for i in dict.fromkeys(status_ids) if i in found]


async def create_report(
    reporter_account_id: int | None,
    target_account_id: int,
    status_ids: list[int] | None = None,
    comment: str = "",
    category: str = "other",
    uri: str = "",
    *,
    rule_ids: list[int] | None = None,
    forward: bool = False,
) -> Record | None:
    """File a report. Local users come through POST /api/v1/reports; federation calls this for
    an incoming Flag with the flagging actor's account (or None) and the Flag's id as `uri`.

    Idempotent per `uri`. Reports from a domain blocked with reject_reports are dropped (None).
    Emits report.created (report_id); `forward` asks federation to send a Flag to the target's
    node, which only makes sense for remote targets.
    """
    comment = (comment or "").strip()
    category = (category or "other").strip().lower()
    if category not in CATEGORIES:
        raise Invalid("category", f"must be one of {', '.join(CATEGORIES)}")
    if len(comment) > MAX_COMMENT:
        raise Invalid("comment", f"is too long (maximum is {MAX_COMMENT} characters)")
    target = await db.fetchrow("SELECT * FROM accounts WHERE id = $1", target_account_id)
    if target is None or (not uri and target["suspended_at"] is not None):
        raise NotFound()
    if reporter_account_id is not None and reporter_account_id == target_account_id:
        raise Invalid("account_id", "can't be your own account")
    if uri:
        existing = await db.fetchrow("SELECT * FROM reports WHERE uri = $1", uri)
        if existing is not None:
            return existing
        origin = urlsplit(uri).netloc.lower()
        if origin and (await domain_rules(origin)).reject_reports:
            return None
    post_ids = await _existing_post_ids(target_account_id, status_ids or [])
    if status_ids and not uri and len(post_ids) != len(set(status_ids)):
        raise Invalid("status_ids", "must be posts of the reported account")
    rules: list[int] = []
    if rule_ids:
        from node.registration import existing_rule_ids

        rules = await existing_rule_ids(rule_ids)
        if len(rules) != len(set(rule_ids)):
            raise Invalid("rule_ids", "must be rules of this node")
    if category == "violation" and not rules and reporter_account_id is not None and not uri:
        raise Invalid("rule_ids", "must name the broken rules for a violation")
    forward = bool(forward and target["domain"] and not uri)
    try:
        report = await db.fetchrow(
            """INSERT INTO reports (id, account_id, target_account_id, status_ids, rule_ids,
                                   comment, category, forwarded, uri)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *""",
            new_id(),
            reporter_account_id,
            target_account_id,
            post_ids,
            rules,
            comment,
            category,
            forward,
            uri,
        )
    except UniqueViolationError:  # the same Flag delivered twice at once
        return await db.fetchrow("SELECT * FROM reports WHERE uri = $1", uri)
    await emit("report.created", report["id"])
    return report


async def get_report(report_id: int | None) -> Record:
    row = await db.fetchrow("SELECT * FROM reports WHERE id = $1", report_id)
    if row is None:
        raise NotFound()
    return row


async def list_reports(
    *,
    resolved: bool = False,
    account_id: int | None = None,
    target_account_id: int | None = None,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
    limit: int = 100,
) -> list[Record]:
    """The queue: open reports (or resolved ones), newest first (oldest first with min_id)."""
    order = "ASC" if min_id is not None else "DESC"
    rows = await db.fetch(
        f"""SELECT * FROM reports
            WHERE (action_taken_at IS NOT NULL) = $1
              AND ($2::bigint IS NULL OR account_id = $2)
              AND ($3::bigint IS NULL OR target_account_id = $3)
              AND ($4::bigint IS NULL OR id < $4)
              AND ($5::bigint IS NULL OR id > $5)
              AND ($6::bigint IS NULL OR id > $6)
            ORDER BY id {order} LIMIT $7""",
        resolved,
        account_id,
        target_account_id,
        max_id,
        since_id,
        min_id,
        limit,
    )
    return sorted(rows, key=lambda r: r["id"], reverse=True)


async def _update_report(report_id: int, sql_set: str, *args: object) -> Record:
    row = await db.fetchrow(
        f"UPDATE reports SET {sql_set}, updated_at = now() WHERE id = $1 RETURNING *",
        report_id,
        *args,
    )
    if row is None:
        raise NotFound()
    return row


async def assign_report(report_id: int, actor_account_id: int) -> Record:
    row = await _update_report(report_id, "assigned_account_id = $2", actor_account_id)
    await record_action(actor_account_id, "assign_report", "report", report_id)
    return row


async def unassign_report(report_id: int, actor_account_id: int) -> Record:
    row = await _update_report(report_id, "assigned_account_id = NULL")
    await record_action(actor_account_id, "unassign_report", "report", report_id)
    return row


async def resolve_report(report_id: int, actor_account_id: int | None) -> Record:
    row = await _update_report(
        report_id,
        "action_taken_at = coalesce(action_taken_at, now()), action_taken_by_account_id = $2",
        actor_account_id,
    )
    await record_action(actor_account_id, "resolve_report", "report", report_id)
    return row


async def reopen_report(report_id: int, actor_account_id: int) -> Record:
    row = await _update_report(
        report_id, "action_taken_at = NULL, action_taken_by_account_id = NULL"
    )
    await record_action(actor_account_id, "reopen_report", "report", report_id)
    return row


async def add_report_note(report_id: int, actor_account_id: int | None, content: str) -> Record:
    content = (content or "").strip()
    if not content:
        raise Invalid("content", "can't be blank")
    if len(content) > MAX_NOTE:
        raise Invalid("content", f"is too long (maximum is {MAX_NOTE} characters)")
    await get_report(report_id)
    row = await db.fetchrow(
        """INSERT INTO report_notes (id, report_id, account_id, content)
           VALUES ($1, $2, $3, $4) RETURNING *""",
        new_id(),
        report_id,
        actor_account_id,
        content,
    )
    await record_action(actor_account_id, "add_report_note", "report", report_id)
    return row


async def report_notes(report_id: int) -> list[Record]:
    return await db.fetch("SELECT * FROM report_notes WHERE report_id = $1 ORDER BY id", report_id)


# ---------------------------------------------------------------- accounts


async def _target_account(account_id: int | None) -> Record:
    """Any account, suspended or not, with its user's role (None for remote accounts)."""
    row = await db.fetchrow(
        """SELECT a.*, u.role, u.id AS user_id FROM accounts a
           LEFT JOIN users u ON u.account_id = a.id WHERE a.id = $1""",
        account_id,
    )
    if row is None:
        raise NotFound()
    return row


def _check_may_act(actor_role: str, target: Record, actor_account_id: int | None) -> None:
    """Staff cannot act on themselves nor on staff of their rank or above (the CLI can)."""
    if actor_account_id is None:
        return
    if target["id"] == actor_account_id:
        raise Forbidden("You can't take moderation actions against yourself")
    if ROLE_RANK.get(target["role"] or "user", 0) >= ROLE_RANK.get(actor_role, 0):
        raise Forbidden("You can't take moderation actions against this account")


async def take_account_action(
    target_account_id: int,
    action: str,
    *,
    actor_account_id: int | None,
    actor_role: str = "admin",
    report_id: int | None = None,
    text: str = "",
) -> None:
    """Mastodon's account actions: none (a warning), sensitive, disable, silence, suspend.

    Each writes a warning the account can see, resolves the report it came from, and is
    audited."""
    if action not in ACCOUNT_ACTIONS:
        raise Invalid("type", f"must be one of {', '.join(ACCOUNT_ACTIONS)}")
    text = (text or "").strip()
    if len(text) > MAX_COMMENT:
        raise Invalid("text", f"is too long (maximum is {MAX_COMMENT} characters)")
    target = await _target_account(target_account_id)
    _check_may_act(actor_role, target, actor_account_id)
    if report_id is not None:
        report = await get_report(report_id)
        if report["target_account_id"] != target["id"]:
            raise Invalid("report_id", "is not a report about this account")
    if action == "disable" and target["user_id"] is None:
        raise Invalid("type", "disable applies to local accounts only")
    async with db.transaction():
        if action == "sensitive":
            await db.execute(
                "UPDATE accounts SET sensitized_at = coalesce(sensitized_at, now()) WHERE id = $1",
                target["id"],
            )
        elif action == "disable":
            await db.execute("UPDATE users SET disabled = true WHERE id = $1", target["user_id"])
        elif action == "silence":
            await db.execute(
                "UPDATE accounts SET silenced_at = coalesce(silenced_at, now()) WHERE id = $1",
                target["id"],
            )
        elif action == "suspend":
            await db.execute(
                "UPDATE accounts SET suspended_at = coalesce(suspended_at, now()) WHERE id = $1",
                target["id"],
            )
        warning_id = new_id()
        await db.execute(
            """INSERT INTO account_warnings (id, account_id, target_account_id, action, text,
                                            report_id)
               VALUES ($1, $2, $3, $4, $5, $6)""",
            warning_id,
            actor_account_id,
            target["id"],
            action,
            text,
            report_id,
        )
        if report_id is not None:
            await resolve_report(report_id, actor_account_id)
        await record_action(
            actor_account_id,
            "warn" if action == "none" else action,
            "account",
            target["id"],
            report_id=report_id,
            text=text,
        )
    await emit("account.warned", warning_id)
    if action == "suspend" and target["suspended_at"] is None:
        await emit("account.suspended", target["id"])


async def suspend(target_account_id: int, actor_account_id: int | None = None, **kwargs) -> None:
    await take_account_action(
        target_account_id, "suspend", actor_account_id=actor_account_id, **kwargs
    )


async def _undo(
    target_account_id: int,
    actor_account_id: int | None,
    actor_role: str,
    action: str,
    sql: str,
) -> Record:
    """Lift one limit; `sql` takes the account id ($1), or the user id for users' columns."""
    target = await _target_account(target_account_id)
    _check_may_act(actor_role, target, actor_account_id)
    if sql.startswith("UPDATE users"):
        if target["user_id"] is None:
            raise Invalid("account", "is not a local account")
        await db.execute(sql, target["user_id"])
    else:
        await db.execute(sql, target["id"])
    await record_action(actor_account_id, action, "account", target["id"])
    return target


async def unsuspend(
    target_account_id: int, actor_account_id: int | None = None, actor_role: str = "admin"
) -> None:
    target = await _target_account(target_account_id)
    if target["data_deleted_at"] is not None:
        raise Forbidden("The account's data was deleted after its suspension; it can't return")
    await _undo(
        target_account_id,
        actor_account_id,
        actor_role,
        "unsuspend",
        "UPDATE accounts SET suspended_at = NULL WHERE id = $1",
    )
    if target["suspended_at"] is not None:
        await emit("account.unsuspended", target["id"])


async def unsilence(
    target_account_id: int, actor_account_id: int | None = None, actor_role: str = "admin"
) -> None:
    await _undo(
        target_account_id,
        actor_account_id,
        actor_role,
        "unsilence",
        "UPDATE accounts SET silenced_at = NULL WHERE id = $1",
    )


async def unsensitize(
    target_account_id: int, actor_account_id: int | None = None, actor_role: str = "admin"
) -> None:
    await _undo(
        target_account_id,
        actor_account_id,
        actor_role,
        "unsensitive",
        "UPDATE accounts SET sensitized_at = NULL WHERE id = $1",
    )


async def enable(
    target_account_id: int, actor_account_id: int | None = None, actor_role: str = "admin"
) -> None:
    await _undo(
        target_account_id,
        actor_account_id,
        actor_role,
        "enable",
        "UPDATE users SET disabled = false WHERE id = $1",
    )


# ---------------------------------------------------------------- posts


async def _reported_post(post_id: int | None) -> Record:
    row = await db.fetchrow("SELECT * FROM posts WHERE id = $1 AND deleted_at IS NULL", post_id)
    if row is None:
        raise NotFound()
    return row


async def delete_post(
    post_id: int | None,
    *,
    actor_account_id: int | None,
    actor_role: str = "admin",
    report_id: int | None = None,
) -> None:
    """Remove any post (and the boosts of it), as its author's delete would."""
    post = await _reported_post(post_id)
    _check_may_act(actor_role, await _target_account(post["account_id"]), actor_account_id)
    await posts.delete_post(post["account_id"], post["id"])
    await record_action(
        actor_account_id,
        "delete_post",
        "post",
        post["id"],
        account_id=post["account_id"],
        report_id=report_id,
    )


async def mark_post_sensitive(
    post_id: int | None,
    *,
    actor_account_id: int | None,
    actor_role: str = "admin",
    report_id: int | None = None,
) -> None:
    post = await _reported_post(post_id)
    _check_may_act(actor_role, await _target_account(post["account_id"]), actor_account_id)
    await db.execute("UPDATE posts SET sensitive = true WHERE id = $1", post["id"])
    await record_action(
        actor_account_id,
        "mark_sensitive",
        "post",
        post["id"],
        account_id=post["account_id"],
        report_id=report_id,
    )
    await emit("post.updated", post["id"])


# ---------------------------------------------------------------- domains

_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")


def normalize_domain(raw: str, field: str = "domain") -> str:
    """A host name as stored: lower case, punycode, no scheme, port, path or trailing dot.
    Blocks are per host: a port does not make another server."""
    value = (raw or "").strip().lower()
    if "://" in value:
        value = urlsplit(value).netloc
    value = value.split("/")[0].rstrip(".").removeprefix("*.")
    host = value.partition(":")[0]
    try:
        value = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise Invalid(field, "is not a valid domain name") from None
    if not value or not _DOMAIN.match(value):
        raise Invalid(field, "is not a valid domain name")
    return value


@dataclass(frozen=True)
class DomainRules:
    """How this node treats a remote domain."""

    severity: str  # suspend (refuse everything), silence (keep out of public views), allowed
    reject_media: bool = False
    reject_reports: bool = False


async def domain_rules(domain: str) -> DomainRules:
    """The rules for a domain (or its parent domains): the block, or the allowlist's verdict."""
    domain = (domain or "").strip().lower()
    domain = domain.partition(":")[0]
    if not domain or domain == get_settings().domain.partition(":")[0]:
        return DomainRules("allowed")
    block = await db.fetchrow("SELECT * FROM pinhole_domain_block($1) WHERE id IS NOT NULL", domain)
    if await runtime_setting("federation_mode") == "allowlist" and not await db.fetchval(
        """SELECT true FROM domain_allows
           WHERE domain = $1 OR right($1, length(domain) + 1) = '.' || domain LIMIT 1""",
        domain,
    ):
        return DomainRules("suspend", True, True)
    if block is None:
        return DomainRules("allowed")
    severity = "allowed" if block["severity"] == "noop" else block["severity"]
    return DomainRules(severity, block["reject_media"], block["reject_reports"])


async def domain_policy(domain: str) -> str:
    """suspend, silence or allowed: federation refuses everything from a suspended domain
    (and sends nothing to it); a silenced domain's posts stay out of public timelines."""
    return (await domain_rules(domain)).severity


async def rejects_media(domain: str) -> bool:
    return (await domain_rules(domain)).reject_media


@dataclass
class DomainBlockInput:
    domain: str
    severity: str = "silence"
    reject_media: bool = False
    reject_reports: bool = False
    private_comment: str = ""
    public_comment: str = ""
    obfuscate: bool = False


def _check_block(block: DomainBlockInput) -> DomainBlockInput:
    block.domain = normalize_domain(block.domain)
    block.severity = (block.severity or "silence").strip().lower()
    if block.severity not in SEVERITIES:
        raise Invalid("severity", f"must be one of {', '.join(SEVERITIES)}")
    for name in ("private_comment", "public_comment"):
        value = (getattr(block, name) or "").strip()
        if len(value) > MAX_COMMENT:
            raise Invalid(name, f"is too long (maximum is {MAX_COMMENT} characters)")
        setattr(block, name, value)
    return block


# An account's domain (which may carry a port) is the blocked host or one of its subdomains.
_MATCHES_DOMAIN = """(split_part(lower(domain), ':', 1) = $1
    OR right(split_part(lower(domain), ':', 1), length($1) + 1) = '.' || $1)"""


async def _lift_block_effects(block: Record) -> None:
    """Undo exactly what the block did: its limits carry the block's created_at."""
    await db.execute(
        f"""UPDATE accounts SET
                suspended_at = CASE WHEN suspended_at = $2 THEN NULL ELSE suspended_at END,
                silenced_at = CASE WHEN silenced_at = $2 THEN NULL ELSE silenced_at END
            WHERE domain <> '' AND {_MATCHES_DOMAIN}
              AND (suspended_at = $2 OR silenced_at = $2)""",
        block["domain"],
        block["created_at"],
    )


async def _apply_block_effects(block: Record) -> None:
    column = {"suspend": "suspended_at", "silence": "silenced_at"}.get(block["severity"])
    if column is None:
        return
    await db.execute(
        f"""UPDATE accounts SET {column} = $2
            WHERE domain <> '' AND {_MATCHES_DOMAIN} AND {column} IS NULL""",
        block["domain"],
        block["created_at"],
    )


async def block_domain(
    block: DomainBlockInput, actor_account_id: int | None = None, *, replace: bool = False
) -> Record:
    """Block a domain (or, with `replace`, change its block). Its known accounts are suspended
    or silenced; accounts met later get the same limits at creation (a database trigger)."""
    block = _check_block(block)
    if block.domain == get_settings().domain.partition(":")[0]:
        raise Invalid("domain", "can't be this node's own domain")
    async with db.transaction():
        existing = await db.fetchrow(
            "SELECT * FROM domain_blocks WHERE domain = $1 FOR UPDATE", block.domain
        )
        if existing is not None and not replace:
            raise Invalid("domain", "is already blocked")
        if existing is not None:
            await _lift_block_effects(existing)
        row = await db.fetchrow(
            """INSERT INTO domain_blocks (id, domain, severity, reject_media, reject_reports,
                                         private_comment, public_comment, obfuscate)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT (domain) DO UPDATE SET severity = $3, reject_media = $4,
                   reject_reports = $5, private_comment = $6, public_comment = $7,
                   obfuscate = $8, updated_at = now()
               RETURNING *""",
            new_id(),
            block.domain,
            block.severity,
            block.reject_media,
            block.reject_reports,
            block.private_comment,
            block.public_comment,
            block.obfuscate,
        )
        await _apply_block_effects(row)
        await record_action(
            actor_account_id,
            "update_domain_block" if existing is not None else "create_domain_block",
            "domain_block",
            row["domain"],
            severity=row["severity"],
            reject_media=row["reject_media"],
            reject_reports=row["reject_reports"],
        )
    return row


async def get_domain_block(block_id: int | None) -> Record:
    row = await db.fetchrow("SELECT * FROM domain_blocks WHERE id = $1", block_id)
    if row is None:
        raise NotFound()
    return row


async def domain_block_by_domain(domain: str) -> Record:
    row = await db.fetchrow(
        "SELECT * FROM domain_blocks WHERE domain = $1", normalize_domain(domain)
    )
    if row is None:
        raise NotFound(f"{domain} is not blocked")
    return row


async def list_domain_blocks(
    *, max_id: int | None = None, since_id: int | None = None, limit: int = 500
) -> list[Record]:
    return await db.fetch(
        """SELECT * FROM domain_blocks
           WHERE ($1::bigint IS NULL OR id < $1) AND ($2::bigint IS NULL OR id > $2)
           ORDER BY id DESC LIMIT $3""",
        max_id,
        since_id,
        limit,
    )


async def unblock_domain(block: Record, actor_account_id: int | None = None) -> None:
    async with db.transaction():
        await _lift_block_effects(block)
        await db.execute("DELETE FROM domain_blocks WHERE id = $1", block["id"])
        await record_action(
            actor_account_id, "remove_domain_block", "domain_block", block["domain"]
        )


def obfuscated(domain: str) -> str:
    """Mastodon's public form of an obfuscated domain: some letters replaced by '*'."""
    return "".join("*" if i % 3 == 1 and ch not in ".:" else ch for i, ch in enumerate(domain))


def _truthy(value: str) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


@dataclass
class ImportResult:
    imported: int
    errors: list[str]


async def import_domain_blocks(text: str, actor_account_id: int | None = None) -> ImportResult:
    """Mastodon's CSV (`#domain,#severity,#reject_media,#reject_reports,#public_comment,
    #obfuscate`), or a bare list of domains (suspended). Existing blocks are replaced; bad
    lines are reported, not fatal."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return ImportResult(0, [])
    header = [h.strip().lstrip("#").lower() for h in rows[0]]
    has_header = "domain" in header
    columns = header if has_header else ["domain"]
    imported, errors = 0, []
    for number, row in enumerate(rows[1:] if has_header else rows, start=2 if has_header else 1):
        if not row or not "".join(row).strip():
            continue
        values = dict(zip(columns, row, strict=False))
        try:
            await block_domain(
                DomainBlockInput(
                    domain=values.get("domain", ""),
                    severity=values.get("severity", "") or "suspend",
                    reject_media=_truthy(values.get("reject_media", "")),
                    reject_reports=_truthy(values.get("reject_reports", "")),
                    public_comment=values.get("public_comment", ""),
                    obfuscate=_truthy(values.get("obfuscate", "")),
                ),
                actor_account_id,
                replace=True,
            )
            imported += 1
        except Invalid as exc:
            errors.append(f"line {number}: {exc.message}")
    return ImportResult(imported, errors)


async def export_domain_blocks() -> str:
    """All blocks as Mastodon's CSV (private comments stay private)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in await db.fetch("SELECT * FROM domain_blocks ORDER BY domain"):
        writer.writerow(
            [
                row["domain"],
                row["severity"],
                str(row["reject_media"]).lower(),
                str(row["reject_reports"]).lower(),
                row["public_comment"],
                str(row["obfuscate"]).lower(),
            ]
        )
    return out.getvalue()


async def allow_domain(domain: str, actor_account_id: int | None = None) -> Record:
    domain = normalize_domain(domain)
    row = await db.fetchrow(
        """INSERT INTO domain_allows (id, domain) VALUES ($1, $2)
           ON CONFLICT (domain) DO UPDATE SET domain = excluded.domain RETURNING *""",
        new_id(),
        domain,
    )
    await record_action(actor_account_id, "create_domain_allow", "domain_allow", domain)
    return row


async def disallow_domain(domain: str, actor_account_id: int | None = None) -> None:
    domain = normalize_domain(domain)
    if (
        await db.fetchval("DELETE FROM domain_allows WHERE domain = $1 RETURNING id", domain)
        is None
    ):
        raise NotFound(f"{domain} is not on the allowlist")
    await record_action(actor_account_id, "remove_domain_allow", "domain_allow", domain)


async def list_allowed_domains() -> list[Record]:
    return await db.fetch("SELECT * FROM domain_allows ORDER BY domain")


# ---------------------------------------------------------------- media hashes

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _check_sha256(value: str) -> str:
    value = (value or "").strip().lower()
    if not _SHA256.match(value):
        raise Invalid("sha256", "must be 64 hexadecimal characters")
    return value


async def block_media_hash(
    sha256: str, comment: str = "", actor_account_id: int | None = None
) -> None:
    sha256 = _check_sha256(sha256)
    await db.execute(
        """INSERT INTO media_hash_blocks (sha256, comment) VALUES ($1, $2)
           ON CONFLICT (sha256) DO UPDATE SET comment = $2""",
        sha256,
        (comment or "").strip()[:MAX_COMMENT],
    )
    await record_action(actor_account_id, "block_media_hash", "media_hash", sha256)


async def unblock_media_hash(sha256: str, actor_account_id: int | None = None) -> None:
    sha256 = _check_sha256(sha256)
    if (
        await db.fetchval(
            "DELETE FROM media_hash_blocks WHERE sha256 = $1 RETURNING sha256", sha256
        )
        is None
    ):
        raise NotFound("That hash is not blocked")
    await record_action(actor_account_id, "unblock_media_hash", "media_hash", sha256)


async def is_media_hash_blocked(sha256: str) -> bool:
    """Whether bytes with this SHA-256 (hex) are refused, at upload and from federation."""
    return bool(
        await db.fetchval(
            "SELECT true FROM media_hash_blocks WHERE sha256 = $1", (sha256 or "").lower()
        )
    )


async def list_media_hash_blocks() -> list[Record]:
    return await db.fetch("SELECT * FROM media_hash_blocks ORDER BY created_at DESC")


# ---------------------------------------------------------------- suspension grace period


async def accounts_due_for_deletion(now: datetime | None = None) -> list[int]:
    """Suspended accounts whose grace period is over and whose data is still here."""
    days = get_settings().suspension_grace_days
    rows = await db.fetch(
        """SELECT id FROM accounts
           WHERE suspended_at IS NOT NULL AND data_deleted_at IS NULL
             AND suspended_at < coalesce($1, now()) - make_interval(days => $2)
           ORDER BY suspended_at LIMIT 100""",
        now,
        days,
    )
    return [row["id"] for row in rows]


async def is_suspended(account_id: int | None) -> bool:
    return bool(
        await db.fetchval("SELECT suspended_at IS NOT NULL FROM accounts WHERE id = $1", account_id)
    )
