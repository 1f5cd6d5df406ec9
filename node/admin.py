"""Administration: staff roles, the audit log, and the settings admins change at run time."""

from __future__ import annotations

import json
from typing import Any

from asyncpg import Record

from node import accounts, db
from node.errors import Forbidden, Invalid, NotFound
from node.ids import new_id
from node.settings import get_settings

ROLE_RANK = {"user": 0, "moderator": 1, "admin": 2}

# Settings an admin may change without a restart; the environment gives the default.
RUNTIME_SETTINGS: dict[str, tuple[str, ...]] = {
    "registration_mode": ("open", "approval", "invite", "closed"),
    "federation_mode": ("blocklist", "allowlist"),
}


def require_role(role: str, needed: str = "moderator") -> None:
    """Refuse callers below `needed` (moderator or admin)."""
    if ROLE_RANK.get(role, 0) < ROLE_RANK[needed]:
        raise Forbidden("This action is not allowed")


async def record_action(
    actor_account_id: int | None,
    action: str,
    target_type: str,
    target_id: object,
    **details: Any,
) -> None:
    """Write one audit log entry; `actor_account_id` None means the command line."""
    await db.execute(
        """INSERT INTO admin_actions (id, account_id, action, target_type, target_id, details)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb)""",
        new_id(),
        actor_account_id,
        action,
        target_type,
        str(target_id),
        json.dumps(details, default=str),
    )


async def audit_log(
    *, target_type: str | None = None, target_id: object = None, limit: int = 100
) -> list[Record]:
    """Newest entries first, optionally about one target."""
    return await db.fetch(
        """SELECT l.*, a.username AS actor_username FROM admin_actions l
           LEFT JOIN accounts a ON a.id = l.account_id
           WHERE ($1::text IS NULL OR l.target_type = $1)
             AND ($2::text IS NULL OR l.target_id = $2)
           ORDER BY l.id DESC LIMIT $3""",
        target_type,
        None if target_id is None else str(target_id),
        limit,
    )


async def runtime_setting(name: str) -> str:
    """The value in force: an admin's choice if one was made, else the environment's."""
    if name not in RUNTIME_SETTINGS:
        raise Invalid("setting", f"must be one of {', '.join(RUNTIME_SETTINGS)}")
    settings = get_settings()
    if name == "registration_mode" and not settings.registrations_open:
        return "closed"  # the environment's off switch wins over any run-time choice
    value = await db.fetchval("SELECT value FROM instance_settings WHERE key = $1", name)
    return value if value is not None else getattr(settings, name)


async def change_setting(name: str, value: str, actor_account_id: int | None = None) -> None:
    """Set a run-time setting; an empty value returns it to the environment's default."""
    if name not in RUNTIME_SETTINGS:
        raise Invalid("setting", f"must be one of {', '.join(RUNTIME_SETTINGS)}")
    value = (value or "").strip().lower()
    if not value:
        await db.execute("DELETE FROM instance_settings WHERE key = $1", name)
    elif value not in RUNTIME_SETTINGS[name]:
        raise Invalid(name, f"must be one of {', '.join(RUNTIME_SETTINGS[name])}")
    else:
        await db.execute(
            """INSERT INTO instance_settings (key, value) VALUES ($1, $2)
               ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = now()""",
            name,
            value,
        )
    await record_action(actor_account_id, "change_setting", "setting", name, value=value)


async def set_role(username: str, role: str, actor_account_id: int | None = None) -> Record:
    """Give a local user a role; the account row is returned."""
    account = await accounts.lookup_account(username)
    if account["domain"]:
        raise Invalid("username", "must be a local account")
    await accounts.set_role(username, role)
    await record_action(actor_account_id, "set_role", "account", account["id"], role=role)
    return account


async def local_account_by_username(username: str) -> Record:
    """A local account by name, suspended or not (admins act on suspended accounts too)."""
    row = await db.fetchrow(
        "SELECT * FROM accounts WHERE lower(username) = lower($1) AND domain = ''",
        (username or "").strip().lstrip("@"),
    )
    if row is None:
        raise NotFound(f"No local account named {username!r}")
    return row


# ---------------------------------------------------------------- accounts, as staff see them

ADMIN_ACCOUNT_SQL = """
    SELECT a.*, u.id AS user_id, u.email, u.role, u.approved, u.disabled, u.confirmed_at,
           u.locale, u.sign_up_ip, u.sign_up_reason, u.created_at AS user_created_at,
           i.created_by_account_id AS invited_by_account_id
    FROM accounts a
    LEFT JOIN users u ON u.account_id = a.id
    LEFT JOIN invites i ON i.id = u.invite_id
"""


async def admin_account(account_id: int | None) -> Record:
    """Any account with its user's details, suspended or not."""
    row = await db.fetchrow(ADMIN_ACCOUNT_SQL + " WHERE a.id = $1", account_id)
    if row is None:
        raise NotFound()
    return row


async def admin_accounts(account_ids: list[int]) -> dict[int, Record]:
    rows = await db.fetch(ADMIN_ACCOUNT_SQL + " WHERE a.id = ANY($1::bigint[])", account_ids)
    return {row["id"]: row for row in rows}


ACCOUNT_FILTERS = {
    # flag -> condition (Mastodon's v1 admin account filters)
    "local": "a.domain = ''",
    "remote": "a.domain <> ''",
    "active": "a.suspended_at IS NULL AND coalesce(NOT u.disabled, true)",
    "pending": "u.approved = false",
    "disabled": "u.disabled = true",
    "silenced": "a.silenced_at IS NOT NULL",
    "suspended": "a.suspended_at IS NOT NULL",
    "sensitized": "a.sensitized_at IS NOT NULL",
    "staff": "u.role IN ('moderator', 'admin')",
}
ACCOUNT_TEXT_FILTERS = {
    "by_domain": "lower(a.domain) = lower(${})",
    "username": "a.username ILIKE ${} || '%'",
    "display_name": "a.display_name ILIKE '%' || ${} || '%'",
    "email": "u.email ILIKE '%' || ${} || '%'",
    "ip": "u.sign_up_ip = ${}",
}


async def list_accounts(
    flags: set[str],
    texts: dict[str, str],
    *,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
    limit: int = 100,
) -> list[Record]:
    """Accounts matching every filter, newest first (oldest first from min_id)."""
    conditions = [ACCOUNT_FILTERS[flag] for flag in sorted(flags)]
    args: list[object] = []
    for name, value in sorted(texts.items()):
        # ILIKE patterns: the caller's % and _ match themselves.
        if name in ("username", "display_name", "email"):
            value = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        args.append(value)
        conditions.append(ACCOUNT_TEXT_FILTERS[name].format(len(args)))
    for bound, op in ((max_id, "<"), (since_id, ">"), (min_id, ">")):
        if bound is not None:
            args.append(bound)
            conditions.append(f"a.id {op} ${len(args)}")
    args.append(limit)
    order = "ASC" if min_id is not None else "DESC"
    where = " AND ".join(conditions) or "true"
    rows = await db.fetch(
        f"{ADMIN_ACCOUNT_SQL} WHERE {where} ORDER BY a.id {order} LIMIT ${len(args)}", *args
    )
    return sorted(rows, key=lambda r: r["id"], reverse=True)
