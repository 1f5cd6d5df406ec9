"""A user's own credentials: checking and changing the password, and the apps they authorised."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from asyncpg import Record

from node import auth, db
from node.accounts import find_user_by_login, validate_password
from node.auth import check_password, hash_password
from node.errors import Forbidden, Invalid, NotFound


async def verify_login(login: str, password: str) -> Record:
    """The user with this username or email and password, when they may sign in.

    Wrong credentials are one message whichever part was wrong, so the form tells nobody
    which usernames exist.
    """
    user = await find_user_by_login(login)
    if user is None or not password:
        raise Invalid("password", "or username is wrong")
    if not await asyncio.to_thread(check_password, user["password_hash"], password):
        raise Invalid("password", "or username is wrong")
    if user["disabled"]:
        raise Forbidden("This account has been disabled")
    if not user["approved"]:
        raise Forbidden("This account is waiting for approval by the moderators")
    if user["confirmed_at"] is None:
        raise Forbidden("Confirm your email address first: we sent you a link")
    return user


async def user_by_id(user_id: int) -> Record | None:
    return await db.fetchrow("SELECT * FROM users WHERE id = $1", user_id)


async def change_password(user_id: int, current: str, new: str, confirmation: str) -> None:
    user = await db.fetchrow("SELECT password_hash FROM users WHERE id = $1", user_id)
    if user is None:
        raise NotFound()
    if not await asyncio.to_thread(check_password, user["password_hash"], current or ""):
        raise Invalid("current_password", "is wrong")
    validate_password(new)
    if new != confirmation:
        raise Invalid("password_confirmation", "does not match the new password")
    new_hash = await asyncio.to_thread(hash_password, new)
    await db.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, new_hash)


@dataclass(frozen=True)
class AuthorizedApp:
    app_id: int
    name: str
    website: str
    scopes: list[str]
    authorized_at: datetime
    last_used_at: datetime | None


async def authorized_apps(user_id: int) -> list[AuthorizedApp]:
    """Apps holding a live token for this user, one entry per app."""
    rows = await db.fetch(
        """SELECT a.id, a.name, a.website,
                  string_agg(DISTINCT t.scopes, ' ') AS scopes,
                  min(t.created_at) AS authorized_at, max(t.last_used_at) AS last_used_at
           FROM oauth_tokens t JOIN oauth_apps a ON a.id = t.app_id
           WHERE t.user_id = $1 AND t.revoked_at IS NULL
           GROUP BY a.id ORDER BY min(t.created_at) DESC""",
        user_id,
    )
    return [
        AuthorizedApp(
            app_id=row["id"],
            name=row["name"],
            website=row["website"],
            scopes=sorted(set((row["scopes"] or "").split())),
            authorized_at=row["authorized_at"],
            last_used_at=row["last_used_at"],
        )
        for row in rows
    ]


async def revoke_app(user_id: int, app_id: int) -> int:
    """End every token this app holds for this user; returns how many were live."""
    result = await db.execute(
        """UPDATE oauth_tokens SET revoked_at = now()
           WHERE user_id = $1 AND app_id = $2 AND revoked_at IS NULL""",
        user_id,
        app_id,
    )
    auth.identities.forget_all()  # at once here; other processes hear it from PostgreSQL
    return int(result.split()[-1])
