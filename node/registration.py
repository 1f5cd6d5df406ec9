"""Who may join: registration modes (open, approval, invite, closed), invites, instance rules."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from asyncpg import Record

from node import accounts, db
from node.accounts import NewUser
from node.admin import record_action, runtime_setting
from node.errors import Forbidden, Invalid, NotFound
from node.ids import new_id

MAX_REASON = 1000
MAX_RULE = 1000


async def registration_mode() -> str:
    """open, approval, invite or closed."""
    return await runtime_setting("registration_mode")


async def _usable_invite(code: str) -> Record | None:
    return await db.fetchrow(
        """SELECT * FROM invites
           WHERE code = $1 AND revoked_at IS NULL
             AND (expires_at IS NULL OR expires_at > now())
             AND (max_uses IS NULL OR uses < max_uses)""",
        code,
    )


async def sign_up(
    username: str,
    email: str,
    password: str,
    *,
    locale: str = "en",
    ip: str = "",
    confirmed: bool = True,
    invite_code: str = "",
    reason: str = "",
) -> NewUser:
    """Create a user as the registration mode allows: in approval mode the user waits
    (approved=false, cannot sign in) until a moderator approves; a valid invite admits at once."""
    mode = await registration_mode()
    invite_code = (invite_code or "").strip()
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise Invalid("reason", f"is too long (maximum is {MAX_REASON} characters)")
    invite = await _usable_invite(invite_code) if invite_code else None
    if invite_code and invite is None:
        raise Invalid("invite_code", "is invalid, used up or expired")
    if invite is None:
        if mode == "closed":
            raise Forbidden("Registrations are closed on this node")
        if mode == "invite":
            raise Invalid("invite_code", "is required to sign up on this node")
    approved = mode != "approval" or invite is not None
    async with db.transaction():
        if invite is not None:
            # Counted in the same transaction: a failed sign-up does not spend a use, and two
            # sign-ups racing for the last use cannot both pass.
            spent = await db.fetchval(
                """UPDATE invites SET uses = uses + 1
                   WHERE id = $1 AND (max_uses IS NULL OR uses < max_uses) RETURNING id""",
                invite["id"],
            )
            if spent is None:
                raise Invalid("invite_code", "is invalid, used up or expired")
        created = await accounts.create_local_user(
            username,
            email,
            password,
            locale=locale,
            ip=ip,
            confirmed=confirmed,
            approved=approved,
        )
        await db.execute(
            "UPDATE users SET sign_up_reason = $2, invite_id = $3 WHERE id = $1",
            created.user_id,
            reason,
            invite["id"] if invite is not None else None,
        )
    return created


async def approve(account_id: int, actor_account_id: int | None) -> None:
    row = await db.fetchrow(
        "UPDATE users SET approved = true WHERE account_id = $1 RETURNING id", account_id
    )
    if row is None:
        raise NotFound()
    await record_action(actor_account_id, "approve", "account", account_id)


async def reject(account_id: int, actor_account_id: int | None) -> None:
    """Refuse a pending sign-up: the account and user go away, and the name is free again."""
    async with db.transaction():
        row = await db.fetchrow(
            "SELECT approved FROM users WHERE account_id = $1 FOR UPDATE", account_id
        )
        if row is None:
            raise NotFound()
        if row["approved"]:
            raise Forbidden("Only accounts waiting for approval can be rejected")
        await db.execute("DELETE FROM accounts WHERE id = $1", account_id)
        await record_action(actor_account_id, "reject", "account", account_id)


# ---------------------------------------------------------------- invites


def _invite_code() -> str:
    return secrets.token_urlsafe(9)


async def create_invite(
    actor_account_id: int | None, *, max_uses: int | None = None, expires_in: int | None = None
) -> Record:
    """An invite code; `max_uses` None = unlimited, `expires_in` seconds, None = never."""
    if max_uses is not None and max_uses < 1:
        raise Invalid("max_uses", "must be at least 1")
    if expires_in is not None and expires_in < 60:
        raise Invalid("expires_in", "must be at least 60 seconds")
    expires_at = datetime.now(UTC) + timedelta(seconds=expires_in) if expires_in else None
    row = await db.fetchrow(
        """INSERT INTO invites (id, code, created_by_account_id, expires_at, max_uses)
           VALUES ($1, $2, $3, $4, $5) RETURNING *""",
        new_id(),
        _invite_code(),
        actor_account_id,
        expires_at,
        max_uses,
    )
    await record_action(actor_account_id, "create_invite", "invite", row["id"])
    return row


async def list_invites() -> list[Record]:
    return await db.fetch("SELECT * FROM invites WHERE revoked_at IS NULL ORDER BY id DESC")


async def revoke_invite(code: str, actor_account_id: int | None) -> None:
    row = await db.fetchrow(
        "UPDATE invites SET revoked_at = now() WHERE code = $1 AND revoked_at IS NULL RETURNING id",
        code,
    )
    if row is None:
        raise NotFound("No such invite")
    await record_action(actor_account_id, "revoke_invite", "invite", row["id"])


# ---------------------------------------------------------------- instance rules


async def rules() -> list[Record]:
    """The rules shown at sign-up and in /api/v1/instance, in order."""
    return await db.fetch(
        "SELECT * FROM instance_rules WHERE deleted_at IS NULL ORDER BY position, id"
    )


async def add_rule(text: str, hint: str = "", actor_account_id: int | None = None) -> Record:
    text, hint = (text or "").strip(), (hint or "").strip()
    if not text:
        raise Invalid("text", "can't be blank")
    if len(text) > MAX_RULE or len(hint) > MAX_RULE:
        raise Invalid("text", f"is too long (maximum is {MAX_RULE} characters)")
    row = await db.fetchrow(
        """INSERT INTO instance_rules (id, text, hint, position)
           VALUES ($1, $2, $3,
                   (SELECT coalesce(max(position), 0) + 1 FROM instance_rules
                    WHERE deleted_at IS NULL))
           RETURNING *""",
        new_id(),
        text,
        hint,
    )
    await record_action(actor_account_id, "add_rule", "rule", row["id"], text=text)
    return row


async def remove_rule(rule_id: int, actor_account_id: int | None = None) -> None:
    row = await db.fetchrow(
        "UPDATE instance_rules SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL "
        "RETURNING id",
        rule_id,
    )
    if row is None:
        raise NotFound()
    await record_action(actor_account_id, "remove_rule", "rule", rule_id)


async def existing_rule_ids(rule_ids: list[int]) -> list[int]:
    rows = await db.fetch(
        "SELECT id FROM instance_rules WHERE id = ANY($1::bigint[]) AND deleted_at IS NULL",
        rule_ids,
    )
    return [row["id"] for row in rows]
