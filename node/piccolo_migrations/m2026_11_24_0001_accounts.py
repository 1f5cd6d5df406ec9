"""Accounts, users, OAuth and the social graph."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from node.piccolo_migrations import sql_migration

ID = "2026-11-24T00:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "accounts, users, oauth, follows, blocks, mutes"

SQL = """
CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    username varchar(255) NOT NULL,
    domain varchar(255) NOT NULL DEFAULT '',
    display_name varchar(255) NOT NULL DEFAULT '',
    note text NOT NULL DEFAULT '',
    note_source text NOT NULL DEFAULT '',
    avatar_url text NOT NULL DEFAULT '',
    header_url text NOT NULL DEFAULT '',
    locked boolean NOT NULL DEFAULT false,
    discoverable boolean NOT NULL DEFAULT true,
    bot boolean NOT NULL DEFAULT false,
    fields jsonb NOT NULL DEFAULT '[]',
    followers_count integer NOT NULL DEFAULT 0,
    following_count integer NOT NULL DEFAULT 0,
    statuses_count integer NOT NULL DEFAULT 0,
    last_status_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    uri text NOT NULL DEFAULT '',
    url text NOT NULL DEFAULT '',
    inbox_url text NOT NULL DEFAULT '',
    shared_inbox_url text NOT NULL DEFAULT '',
    outbox_url text NOT NULL DEFAULT '',
    followers_url text NOT NULL DEFAULT '',
    following_url text NOT NULL DEFAULT '',
    public_key_pem text NOT NULL DEFAULT '',
    private_key_pem text NOT NULL DEFAULT '',
    key_id text NOT NULL DEFAULT '',
    suspended_at timestamptz,
    silenced_at timestamptz,
    fetched_at timestamptz
);
CREATE UNIQUE INDEX accounts_username_domain ON accounts (lower(username), lower(domain));
CREATE UNIQUE INDEX accounts_uri ON accounts (uri) WHERE uri <> '';

CREATE TABLE users (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL UNIQUE REFERENCES accounts (id) ON DELETE CASCADE,
    email varchar(320) NOT NULL,
    password_hash text NOT NULL,
    role varchar(16) NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'moderator', 'admin')),
    confirmed_at timestamptz,
    confirmation_token text,
    approved boolean NOT NULL DEFAULT true,
    disabled boolean NOT NULL DEFAULT false,
    locale varchar(16) NOT NULL DEFAULT 'en',
    created_at timestamptz NOT NULL DEFAULT now(),
    last_active_at timestamptz,
    sign_up_ip varchar(64) NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE oauth_apps (
    id bigint PRIMARY KEY,
    name varchar(255) NOT NULL,
    website text NOT NULL DEFAULT '',
    redirect_uris text NOT NULL,
    scopes text NOT NULL,
    client_id varchar(64) NOT NULL UNIQUE,
    client_secret varchar(64) NOT NULL,
    vapid_key text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE oauth_codes (
    id bigint PRIMARY KEY,
    code_hash varchar(64) NOT NULL UNIQUE,
    app_id bigint NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri text NOT NULL,
    scopes text NOT NULL,
    code_challenge text NOT NULL DEFAULT '',
    code_challenge_method varchar(16) NOT NULL DEFAULT '',
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);

CREATE TABLE oauth_tokens (
    id bigint PRIMARY KEY,
    token_hash varchar(64) NOT NULL UNIQUE,
    app_id bigint REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id bigint REFERENCES users (id) ON DELETE CASCADE,
    scopes text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    last_used_at timestamptz
);
CREATE INDEX oauth_tokens_user ON oauth_tokens (user_id);

CREATE TABLE follows (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    show_reblogs boolean NOT NULL DEFAULT true,
    notify boolean NOT NULL DEFAULT false,
    uri text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX follows_target ON follows (target_account_id, id);

CREATE TABLE follow_requests (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    show_reblogs boolean NOT NULL DEFAULT true,
    notify boolean NOT NULL DEFAULT false,
    uri text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX follow_requests_target ON follow_requests (target_account_id, id);

CREATE TABLE blocks (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX blocks_target ON blocks (target_account_id);

CREATE TABLE mutes (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    hide_notifications boolean NOT NULL DEFAULT true,
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, target_account_id)
);
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
