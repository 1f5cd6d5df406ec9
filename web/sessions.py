"""Web sessions: a random token in an HttpOnly cookie, its hash in Postgres (listable, revocable).

Sessions live in Postgres rather than in signed cookies so that a person can see where they
are signed in and end a session, and a password change can sign out every other browser;
a signed cookie cannot be taken back before it expires.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from asyncpg import Record
from litestar import Request

from node import db
from node.ids import new_id
from node.settings import get_settings

SESSION_COOKIE = "pinhole_session"
SESSION_MAX_AGE = 90 * 24 * 3600  # also how long an unused session stays valid
# last_seen_at is refreshed at most this often, so most page views are one read, no write.
TOUCH_INTERVAL_SECONDS = 300


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser: who it is, and the session's own token (for CSRF binding)."""

    id: int
    token: str
    user_id: int
    account_id: int
    role: str
    account: Record

    @property
    def username(self) -> str:
        return self.account["username"]

    @property
    def is_staff(self) -> bool:
        return self.role in ("admin", "moderator")


@dataclass(frozen=True)
class SessionInfo:
    id: int
    user_agent: str
    ip: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


async def start_session(user_id: int, *, user_agent: str, ip: str) -> str:
    """A new session for this user; returns the token to put in the cookie."""
    token = secrets.token_urlsafe(32)
    await db.execute(
        """INSERT INTO web_sessions (id, token_hash, user_id, user_agent, ip)
           VALUES ($1, $2, $3, $4, $5)""",
        new_id(),
        _digest(token),
        user_id,
        user_agent[:500],
        ip[:64],
    )
    return token


async def load_session(token: str) -> WebSession | None:
    """The session behind a cookie, when it exists and its user may still sign in."""
    row = await db.fetchrow(
        """SELECT s.id AS session_id, s.user_id, u.role, u.disabled, u.approved,
                  u.confirmed_at, (s.last_seen_at < now() - make_interval(secs => $2)) AS stale,
                  a.*
           FROM web_sessions s
           JOIN users u ON u.id = s.user_id
           JOIN accounts a ON a.id = u.account_id
           WHERE s.token_hash = $1 AND s.last_seen_at > now() - make_interval(secs => $3)""",
        _digest(token),
        TOUCH_INTERVAL_SECONDS,
        SESSION_MAX_AGE,
    )
    if row is None or row["disabled"] or not row["approved"] or row["suspended_at"] is not None:
        return None
    if row["stale"]:
        await db.execute(
            "UPDATE web_sessions SET last_seen_at = now() WHERE id = $1", row["session_id"]
        )
        await db.execute("UPDATE users SET last_active_at = now() WHERE id = $1", row["user_id"])
    return WebSession(
        id=row["session_id"],
        token=token,
        user_id=row["user_id"],
        account_id=row["id"],
        role=row["role"],
        account=row,
    )


async def end_session(token: str) -> None:
    await db.execute("DELETE FROM web_sessions WHERE token_hash = $1", _digest(token))


async def end_other_sessions(user_id: int, keep_session_id: int) -> None:
    await db.execute(
        "DELETE FROM web_sessions WHERE user_id = $1 AND id <> $2", user_id, keep_session_id
    )


async def revoke_session(user_id: int, session_id: int) -> bool:
    removed = await db.fetchval(
        "DELETE FROM web_sessions WHERE user_id = $1 AND id = $2 RETURNING id", user_id, session_id
    )
    return removed is not None


async def list_sessions(user_id: int, current_id: int) -> list[SessionInfo]:
    rows = await db.fetch(
        """SELECT id, user_agent, ip, created_at, last_seen_at FROM web_sessions
           WHERE user_id = $1 ORDER BY last_seen_at DESC LIMIT 100""",
        user_id,
    )
    return [SessionInfo(**dict(row), current=row["id"] == current_id) for row in rows]


async def current_session(request: Request) -> WebSession | None:
    """The session of this request (looked up once per request)."""
    if hasattr(request.state, "web_session"):
        return request.state.web_session
    token = request.cookies.get(SESSION_COOKIE)
    session = await load_session(token) if token else None
    request.state.web_session = session
    return session


def session_cookie_settings() -> dict[str, object]:
    return {
        "key": SESSION_COOKIE,
        "httponly": True,
        "secure": get_settings().https,
        "samesite": "lax",
        "path": "/",
    }


class SignInRequired(Exception):
    """Raised by pages that need a signed-in viewer; the site turns it into a redirect."""


async def require_session(request: Request) -> WebSession:
    session = await current_session(request)
    if session is None:
        raise SignInRequired()
    return session
