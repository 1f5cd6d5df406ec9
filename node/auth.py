"""Passwords, OAuth 2 applications, authorization codes, access tokens and scopes."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from node import db
from node.errors import BadRequest, Forbidden, Invalid, Unauthorized
from node.ids import new_id
from node.token_cache import TokenCache

_hasher = PasswordHasher()

OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"

TOP_SCOPES = {"read", "write", "follow", "push", "profile", "admin:read", "admin:write"}
GRANULAR_SCOPES = {
    "read": {
        "accounts",
        "blocks",
        "bookmarks",
        "favourites",
        "filters",
        "follows",
        "lists",
        "mutes",
        "notifications",
        "search",
        "statuses",
    },
    "write": {
        "accounts",
        "blocks",
        "bookmarks",
        "conversations",
        "favourites",
        "filters",
        "follows",
        "lists",
        "media",
        "mutes",
        "notifications",
        "reports",
        "statuses",
    },
    "admin:read": {"accounts", "reports", "domain_blocks", "instances"},
    "admin:write": {"accounts", "reports", "domain_blocks", "instances"},
}
# The legacy `follow` scope grants these.
FOLLOW_GRANTS = {
    "read:blocks",
    "read:follows",
    "read:mutes",
    "write:blocks",
    "write:follows",
    "write:mutes",
}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(raw: str | None, *, default: str = "read") -> set[str]:
    """Scopes from a space- (or plus-) separated string; unknown scopes are refused."""
    text = (raw or default).replace("+", " ")
    scopes = {s for s in text.split() if s}
    for scope in scopes:
        if scope in TOP_SCOPES:
            continue
        top, _, sub = scope.rpartition(":")
        if top in GRANULAR_SCOPES and sub in GRANULAR_SCOPES[top]:
            continue
        raise Invalid("scope", f"is not a known scope: {scope}")
    return scopes


def scope_allows(granted: set[str], required: str) -> bool:
    """Whether tokens with `granted` may do what needs `required` (e.g. 'read:accounts')."""
    if required in granted:
        return True
    top, _, _ = required.rpartition(":")
    if top and top in granted:
        return True
    if "follow" in granted and required in FOLLOW_GRANTS:
        return True
    return required == "profile" and bool(granted & {"read", "read:accounts"})


def scopes_within(requested: set[str], allowed: set[str]) -> bool:
    return all(scope_allows(allowed, scope) for scope in requested)


@dataclass(frozen=True)
class App:
    id: int
    name: str
    website: str
    redirect_uris: list[str]
    scopes: set[str]
    client_id: str
    client_secret: str
    vapid_key: str


def _app_from_row(row) -> App:
    return App(
        id=row["id"],
        name=row["name"],
        website=row["website"],
        redirect_uris=row["redirect_uris"].split(),
        scopes=set(row["scopes"].split()),
        client_id=row["client_id"],
        client_secret=row["client_secret"],
        vapid_key=row["vapid_key"],
    )


async def create_app(name: str, redirect_uris: str, scopes: str | None, website: str) -> App:
    name = (name or "").strip()
    if not name:
        raise Invalid("client_name", "can't be blank")
    if len(name) > 255:
        raise Invalid("client_name", "is too long (maximum is 255 characters)")
    uris = [u for u in (redirect_uris or "").split() if u]
    if not uris:
        raise Invalid("redirect_uris", "can't be blank")
    for uri in uris:
        if uri != OOB_REDIRECT and ":" not in uri:
            raise Invalid("redirect_uris", f"must be absolute URIs: {uri}")
        if len(uri) > 2000:
            raise Invalid("redirect_uris", "is too long")
    if len(website or "") > 2000:
        raise Invalid("website", "is too long")
    granted = parse_scopes(scopes)
    row = await db.fetchrow(
        """INSERT INTO oauth_apps (id, name, website, redirect_uris, scopes, client_id, client_secret)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *""",
        new_id(),
        name,
        website or "",
        " ".join(uris),
        " ".join(sorted(granted)),
        secrets.token_urlsafe(32),
        secrets.token_urlsafe(32),
    )
    return _app_from_row(row)


async def find_app(client_id: str | None) -> App | None:
    if not client_id:
        return None
    row = await db.fetchrow("SELECT * FROM oauth_apps WHERE client_id = $1", client_id)
    return _app_from_row(row) if row else None


async def app_by_id(app_id: int | None) -> App | None:
    if app_id is None:
        return None
    row = await db.fetchrow("SELECT * FROM oauth_apps WHERE id = $1", app_id)
    return _app_from_row(row) if row else None


async def authenticate_client(client_id: str | None, client_secret: str | None) -> App:
    app = await find_app(client_id)
    if (
        app is None
        or not client_secret
        or not secrets.compare_digest(app.client_secret, client_secret)
    ):
        raise Unauthorized(
            "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."
        )
    return app


@dataclass(frozen=True)
class Token:
    id: int
    access_token: str
    scopes: set[str]
    created_at: datetime


async def issue_token(app_id: int | None, user_id: int | None, scopes: set[str]) -> Token:
    secret = secrets.token_urlsafe(32)
    token_id = new_id()
    created = datetime.now(UTC)
    await db.execute(
        """INSERT INTO oauth_tokens (id, token_hash, app_id, user_id, scopes, created_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        token_id,
        _digest(secret),
        app_id,
        user_id,
        " ".join(sorted(scopes)),
        created,
    )
    return Token(id=token_id, access_token=secret, scopes=scopes, created_at=created)


async def revoke_token(app: App, token: str) -> None:
    await db.execute(
        "UPDATE oauth_tokens SET revoked_at = now() WHERE token_hash = $1 AND app_id = $2",
        _digest(token),
        app.id,
    )
    identities.forget_all()  # at once here; other processes hear it from PostgreSQL


@dataclass(frozen=True)
class Identity:
    """Who a request acts as: a user with an account, or an app alone (client credentials)."""

    token_id: int
    scopes: set[str]
    app_id: int | None
    user_id: int | None
    account_id: int | None
    role: str = "user"

    def require(self, scope: str) -> None:
        if not scope_allows(self.scopes, scope):
            raise Forbidden("This action is outside the authorized scopes")


# Web processes start it (node.app); elsewhere it stays off and every lookup reads the database.
identities: TokenCache[Identity] = TokenCache()


async def identity_for_token(token: str) -> Identity | None:
    digest = _digest(token)
    return await identities.get(digest, lambda: _load_identity(digest))


async def _load_identity(digest: str) -> Identity | None:
    row = await db.fetchrow(
        """SELECT t.id, t.scopes, t.app_id, t.user_id, u.account_id, u.role, u.disabled,
                  u.approved, u.confirmed_at, a.suspended_at
           FROM oauth_tokens t
           LEFT JOIN users u ON u.id = t.user_id
           LEFT JOIN accounts a ON a.id = u.account_id
           WHERE t.token_hash = $1 AND t.revoked_at IS NULL""",
        digest,
    )
    if row is None:
        return None
    if row["user_id"] is not None and (
        row["disabled"] or not row["approved"] or row["suspended_at"] is not None
    ):
        return None
    return Identity(
        token_id=row["id"],
        scopes=set(row["scopes"].split()),
        app_id=row["app_id"],
        user_id=row["user_id"],
        account_id=row["account_id"],
        role=row["role"] or "user",
    )


async def create_authorization_code(
    app: App,
    user_id: int,
    redirect_uri: str,
    scopes: set[str],
    code_challenge: str,
    code_challenge_method: str,
) -> str:
    if code_challenge and code_challenge_method not in ("S256", "plain", ""):
        raise BadRequest("code_challenge_method must be S256")
    code = secrets.token_urlsafe(32)
    await db.execute(
        """INSERT INTO oauth_codes (id, code_hash, app_id, user_id, redirect_uri, scopes,
                                    code_challenge, code_challenge_method, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        new_id(),
        _digest(code),
        app.id,
        user_id,
        redirect_uri,
        " ".join(sorted(scopes)),
        code_challenge or "",
        (code_challenge_method or "S256") if code_challenge else "",
        datetime.now(UTC) + timedelta(minutes=10),
    )
    return code


def _pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    if method == "plain":
        return secrets.compare_digest(verifier, challenge)
    digest = hashlib.sha256(verifier.encode()).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return secrets.compare_digest(expected, challenge)


async def redeem_authorization_code(
    app: App, code: str, redirect_uri: str, code_verifier: str | None
) -> Token:
    """Trade a code for a token, once; a code is bound to its app, redirect URI and PKCE."""
    invalid = BadRequest(
        "The provided authorization grant is invalid, expired, revoked, does not match the "
        "redirection URI used in the authorization request, or was issued to another client."
    )
    async with db.transaction():
        row = await db.fetchrow(
            """UPDATE oauth_codes SET used_at = now()
               WHERE code_hash = $1 AND used_at IS NULL AND expires_at > now()
               RETURNING *""",
            _digest(code),
        )
        if row is None or row["app_id"] != app.id or row["redirect_uri"] != redirect_uri:
            raise invalid
        if row["code_challenge"] and not (
            code_verifier
            and _pkce_matches(code_verifier, row["code_challenge"], row["code_challenge_method"])
        ):
            raise invalid
        return await issue_token(app.id, row["user_id"], set(row["scopes"].split()))
