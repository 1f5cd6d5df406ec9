"""Local and remote accounts: sign-up, profiles, lookup, and actor keys."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from asyncpg import Record, UniqueViolationError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from node import db
from node.auth import hash_password
from node.errors import Forbidden, Invalid, NotFound
from node.events import emit
from node.ids import new_id
from node.settings import get_settings
from node.text import plain_to_html

USERNAME_RE = re.compile(r"^[a-z0-9_]{1,30}$", re.IGNORECASE)
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
RESERVED_USERNAMES = frozenset(
    [
        "about",
        "abuse",
        "accounts",
        "activitypub",
        "actor",
        "admin",
        "administrator",
        "api",
        "apps",
        "assets",
        "auth",
        "contact",
        "explore",
        "feed",
        "feeds",
        "health",
        "help",
        "home",
        "hostmaster",
        "inbox",
        "info",
        "instance",
        "local",
        "login",
        "logout",
        "media",
        "metrics",
        "mod",
        "moderator",
        "nodeinfo",
        "noreply",
        "notifications",
        "oauth",
        "outbox",
        "pinhole",
        "postmaster",
        "privacy",
        "public",
        "register",
        "root",
        "search",
        "security",
        "settings",
        "share",
        "signin",
        "signup",
        "static",
        "status",
        "statuses",
        "support",
        "system",
        "tags",
        "terms",
        "user",
        "users",
        "web",
        "webmaster",
        "well_known",
        "www",
    ]
)
MAX_DISPLAY_NAME = 30
MAX_NOTE = 500
MAX_FIELDS = 4
MAX_FIELD_LENGTH = 255
MIN_PASSWORD = 8
MAX_PASSWORD = 72
ROLES = ("user", "moderator", "admin")


def validate_username(username: str) -> str:
    username = (username or "").strip()
    if not username:
        raise Invalid("username", "can't be blank")
    if not USERNAME_RE.match(username):
        raise Invalid("username", "must be 1 to 30 letters, digits or underscores")
    if username.lower() in RESERVED_USERNAMES:
        raise Invalid("username", "is reserved")
    return username


def validate_email(email: str) -> str:
    email = (email or "").strip()
    if not email:
        raise Invalid("email", "can't be blank")
    if len(email) > 320 or not EMAIL_RE.match(email):
        raise Invalid("email", "is invalid")
    return email


def validate_password(password: str) -> str:
    if not password:
        raise Invalid("password", "can't be blank")
    if len(password) < MIN_PASSWORD:
        raise Invalid("password", f"is too short (minimum is {MIN_PASSWORD} characters)")
    if len(password) > MAX_PASSWORD:
        raise Invalid("password", f"is too long (maximum is {MAX_PASSWORD} characters)")
    return password


def local_actor_uri(username: str) -> str:
    return f"{get_settings().base_url}/users/{username}"


def generate_key_pair() -> tuple[str, str]:
    """An RSA-2048 key pair as PEM (private, public): about 50 ms of CPU."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


@dataclass(frozen=True)
class NewUser:
    user_id: int
    account_id: int
    confirmation_token: str | None


async def create_local_user(
    username: str,
    email: str,
    password: str,
    *,
    role: str = "user",
    locale: str = "en",
    ip: str = "",
    confirmed: bool = True,
    approved: bool = True,
) -> NewUser:
    """Create an account and its user; a taken username or email is a 422 naming the field."""
    username = validate_username(username)
    email = validate_email(email)
    validate_password(password)
    if role not in ROLES:
        raise Invalid("role", f"must be one of {', '.join(ROLES)}")
    settings = get_settings()
    if settings.max_accounts:
        count = await db.fetchval("SELECT count(*) FROM users")
        if count >= settings.max_accounts:
            raise Forbidden("This node has reached its maximum number of accounts")
    password_hash = await asyncio.to_thread(hash_password, password)
    private_pem, public_pem = await asyncio.to_thread(generate_key_pair)
    account_id, user_id = new_id(), new_id()
    uri = local_actor_uri(username)
    token = None if confirmed else secrets.token_urlsafe(32)
    try:
        async with db.transaction():
            await db.execute(
                """INSERT INTO accounts (id, username, domain, uri, url, inbox_url, outbox_url,
                       followers_url, following_url, shared_inbox_url, public_key_pem,
                       private_key_pem, key_id)
                   VALUES ($1, $2, '', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
                account_id,
                username,
                uri,
                f"{settings.base_url}/@{username}",
                f"{uri}/inbox",
                f"{uri}/outbox",
                f"{uri}/followers",
                f"{uri}/following",
                f"{settings.base_url}/inbox",
                public_pem,
                private_pem,
                f"{uri}#main-key",
            )
            await db.execute(
                """INSERT INTO users (id, account_id, email, password_hash, role, confirmed_at,
                       confirmation_token, approved, locale, sign_up_ip)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
                user_id,
                account_id,
                email,
                password_hash,
                role,
                datetime.now(UTC) if confirmed else None,
                token,
                approved,
                locale[:16] or "en",
                ip[:64],
            )
    except UniqueViolationError as exc:
        if "users_email" in str(exc):
            raise Invalid("email", "has already been taken") from None
        raise Invalid("username", "has already been taken") from None
    await emit("account.created", account_id)
    return NewUser(user_id=user_id, account_id=account_id, confirmation_token=token)


async def confirm_email(token: str) -> bool:
    row = await db.fetchrow(
        """UPDATE users SET confirmed_at = now(), confirmation_token = NULL
           WHERE confirmation_token = $1 RETURNING id""",
        token,
    )
    return row is not None


async def get_account(account_id: int | None) -> Record:
    """A visible account by id; suspended and unknown ones are not found."""
    if account_id is None:
        raise NotFound()
    row = await db.fetchrow(
        "SELECT * FROM accounts WHERE id = $1 AND suspended_at IS NULL", account_id
    )
    if row is None:
        raise NotFound()
    return row


async def get_accounts(account_ids: list[int]) -> dict[int, Record]:
    rows = await db.fetch(
        "SELECT * FROM accounts WHERE id = ANY($1::bigint[]) AND suspended_at IS NULL",
        account_ids,
    )
    return {row["id"]: row for row in rows}


async def lookup_account(acct: str) -> Record:
    """An account by `user`, `user@domain` or `@user@domain`, as already known here."""
    acct = (acct or "").strip().lstrip("@")
    username, _, domain = acct.partition("@")
    if not username:
        raise NotFound()
    if domain.lower() == get_settings().domain:
        domain = ""
    row = await db.fetchrow(
        """SELECT * FROM accounts
           WHERE lower(username) = lower($1) AND lower(domain) = lower($2)
             AND suspended_at IS NULL""",
        username,
        domain,
    )
    if row is None:
        raise NotFound()
    return row


async def user_for_account(account_id: int) -> Record | None:
    return await db.fetchrow("SELECT * FROM users WHERE account_id = $1", account_id)


async def find_user_by_login(login: str) -> Record | None:
    """A user by email or username, for sign-in."""
    return await db.fetchrow(
        """SELECT u.* FROM users u JOIN accounts a ON a.id = u.account_id
           WHERE lower(u.email) = lower($1) OR (lower(a.username) = lower($1) AND a.domain = '')""",
        (login or "").strip(),
    )


def _validate_fields(raw: object) -> list[dict[str, str]]:
    """Profile fields from `fields_attributes` (a list, or a dict keyed by index)."""
    items = list(raw.values()) if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise Invalid("fields_attributes", "must be a list of name/value pairs")
    fields = []
    for item in items:
        if not isinstance(item, dict):
            raise Invalid("fields_attributes", "must be a list of name/value pairs")
        name = str(item.get("name", "")).strip()
        value = str(item.get("value", "")).strip()
        if not name and not value:
            continue
        if len(name) > MAX_FIELD_LENGTH or len(value) > MAX_FIELD_LENGTH:
            raise Invalid(
                "fields_attributes", f"name and value are limited to {MAX_FIELD_LENGTH} characters"
            )
        fields.append({"name": name, "value": value})
    if len(fields) > MAX_FIELDS:
        raise Invalid("fields_attributes", f"at most {MAX_FIELDS} fields")
    return fields


@dataclass
class ProfileChanges:
    display_name: str | None = None
    note: str | None = None
    locked: bool | None = None
    discoverable: bool | None = None
    bot: bool | None = None
    fields: object = None
    avatar_url: str | None = None
    header_url: str | None = None


async def update_profile(account_id: int, changes: ProfileChanges) -> Record:
    sets: dict[str, object] = {}
    if changes.display_name is not None:
        name = changes.display_name.strip()
        if len(name) > MAX_DISPLAY_NAME:
            raise Invalid("display_name", f"is too long (maximum is {MAX_DISPLAY_NAME} characters)")
        sets["display_name"] = name
    if changes.note is not None:
        if len(changes.note) > MAX_NOTE:
            raise Invalid("note", f"is too long (maximum is {MAX_NOTE} characters)")
        sets["note"] = plain_to_html(changes.note)
        sets["note_source"] = changes.note
    for flag in ("locked", "discoverable", "bot"):
        value = getattr(changes, flag)
        if value is not None:
            sets[flag] = value
    if changes.fields is not None:
        sets["fields"] = json.dumps(_validate_fields(changes.fields))
    for url_field in ("avatar_url", "header_url"):
        value = getattr(changes, url_field)
        if value is not None:
            sets[url_field] = value
    if not sets:
        return await get_account(account_id)
    assignments = ", ".join(
        f"{column} = ${i}{'::jsonb' if column == 'fields' else ''}"
        for i, column in enumerate(sets, start=2)
    )
    row = await db.fetchrow(
        f"UPDATE accounts SET {assignments}, updated_at = now() WHERE id = $1 RETURNING *",
        account_id,
        *sets.values(),
    )
    if row is None:
        raise NotFound()
    await emit("account.updated", account_id)
    return row


async def touch_user(user_id: int) -> None:
    await db.execute("UPDATE users SET last_active_at = now() WHERE id = $1", user_id)


async def set_role(username: str, role: str) -> None:
    if role not in ROLES:
        raise Invalid("role", f"must be one of {', '.join(ROLES)}")
    account = await lookup_account(username)
    await db.execute("UPDATE users SET role = $2 WHERE account_id = $1", account["id"], role)
