"""Piccolo tables: the node's source of truth. Migrations (SQL) live in piccolo_migrations/."""

from __future__ import annotations

from piccolo.columns import (
    JSONB,
    BigInt,
    Boolean,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class Account(Table, tablename="accounts"):
    """A person or service, local (domain '') or remote; one table for both."""

    id = BigInt(primary_key=True)
    username = Varchar(length=255)
    domain = Varchar(length=255, default="")
    display_name = Varchar(length=255, default="")
    note = Text(default="")
    note_source = Text(default="")
    avatar_url = Text(default="")
    header_url = Text(default="")
    locked = Boolean(default=False)
    discoverable = Boolean(default=True)
    bot = Boolean(default=False)
    fields = JSONB(default="[]")
    followers_count = Integer(default=0)
    following_count = Integer(default=0)
    statuses_count = Integer(default=0)
    last_status_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    uri = Text(default="")
    url = Text(default="")
    inbox_url = Text(default="")
    shared_inbox_url = Text(default="")
    outbox_url = Text(default="")
    followers_url = Text(default="")
    following_url = Text(default="")
    public_key_pem = Text(default="")
    private_key_pem = Text(default="")
    key_id = Text(default="")
    suspended_at = Timestamptz(null=True, default=None)
    silenced_at = Timestamptz(null=True, default=None)
    fetched_at = Timestamptz(null=True, default=None)


class User(Table, tablename="users"):
    """Sign-in data of a local account."""

    id = BigInt(primary_key=True)
    account_id = BigInt()
    email = Varchar(length=320)
    password_hash = Text()
    role = Varchar(length=16, default="user")
    confirmed_at = Timestamptz(null=True, default=None)
    confirmation_token = Text(null=True, default=None)
    approved = Boolean(default=True)
    disabled = Boolean(default=False)
    locale = Varchar(length=16, default="en")
    created_at = Timestamptz()
    last_active_at = Timestamptz(null=True, default=None)
    sign_up_ip = Varchar(length=64, default="")


class OAuthApp(Table, tablename="oauth_apps"):
    id = BigInt(primary_key=True)
    name = Varchar(length=255)
    website = Text(default="")
    redirect_uris = Text()
    scopes = Text()
    client_id = Varchar(length=64)
    client_secret = Varchar(length=64)
    vapid_key = Text(default="")
    created_at = Timestamptz()


class AuthorizationCode(Table, tablename="oauth_codes"):
    id = BigInt(primary_key=True)
    code_hash = Varchar(length=64)
    app_id = BigInt()
    user_id = BigInt()
    redirect_uri = Text()
    scopes = Text()
    code_challenge = Text(default="")
    code_challenge_method = Varchar(length=16, default="")
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class AccessToken(Table, tablename="oauth_tokens"):
    id = BigInt(primary_key=True)
    token_hash = Varchar(length=64)
    app_id = BigInt(null=True, default=None)
    user_id = BigInt(null=True, default=None)
    scopes = Text()
    created_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)


class Follow(Table, tablename="follows"):
    id = BigInt(primary_key=True)
    account_id = BigInt()
    target_account_id = BigInt()
    show_reblogs = Boolean(default=True)
    notify = Boolean(default=False)
    uri = Text(default="")
    created_at = Timestamptz()


class FollowRequest(Table, tablename="follow_requests"):
    id = BigInt(primary_key=True)
    account_id = BigInt()
    target_account_id = BigInt()
    show_reblogs = Boolean(default=True)
    notify = Boolean(default=False)
    uri = Text(default="")
    created_at = Timestamptz()


class Block(Table, tablename="blocks"):
    id = BigInt(primary_key=True)
    account_id = BigInt()
    target_account_id = BigInt()
    uri = Text(default="")
    created_at = Timestamptz()


class Mute(Table, tablename="mutes"):
    id = BigInt(primary_key=True)
    account_id = BigInt()
    target_account_id = BigInt()
    hide_notifications = Boolean(default=True)
    expires_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


TABLES: list[type[Table]] = [
    Account,
    User,
    OAuthApp,
    AuthorizationCode,
    AccessToken,
    Follow,
    FollowRequest,
    Block,
    Mute,
]
