"""Posts, media attachments, hashtags, mentions, favourites, bookmarks, pins and edit history."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from node.piccolo_migrations import sql_migration

ID = "2026-11-24T00:02:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "posts, media, tags, mentions, favourites, bookmarks, pins, edits"

SQL = """
CREATE TABLE posts (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri text NOT NULL DEFAULT '',
    url text NOT NULL DEFAULT '',
    local boolean NOT NULL DEFAULT true,
    content text NOT NULL DEFAULT '',
    text text NOT NULL DEFAULT '',
    spoiler_text text NOT NULL DEFAULT '',
    sensitive boolean NOT NULL DEFAULT false,
    visibility varchar(16) NOT NULL DEFAULT 'public'
        CHECK (visibility IN ('public', 'unlisted', 'private', 'direct')),
    language varchar(16),
    in_reply_to_id bigint REFERENCES posts (id) ON DELETE SET NULL,
    in_reply_to_account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
    in_reply_to_uri text NOT NULL DEFAULT '',
    conversation_id bigint,
    reblog_of_id bigint REFERENCES posts (id) ON DELETE CASCADE,
    application_id bigint REFERENCES oauth_apps (id) ON DELETE SET NULL,
    replies_count integer NOT NULL DEFAULT 0,
    favourites_count integer NOT NULL DEFAULT 0,
    reblogs_count integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    edited_at timestamptz,
    deleted_at timestamptz
);
CREATE UNIQUE INDEX posts_uri ON posts (uri) WHERE uri <> '';
CREATE INDEX posts_account ON posts (account_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX posts_reply_to ON posts (in_reply_to_id) WHERE in_reply_to_id IS NOT NULL;
CREATE INDEX posts_conversation ON posts (conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX posts_reblog_of ON posts (reblog_of_id) WHERE reblog_of_id IS NOT NULL;
CREATE INDEX posts_public ON posts (id DESC)
    WHERE deleted_at IS NULL AND visibility = 'public' AND reblog_of_id IS NULL;

CREATE TABLE media_attachments (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_id bigint REFERENCES posts (id) ON DELETE SET NULL,
    position smallint NOT NULL DEFAULT 0,
    type varchar(16) NOT NULL DEFAULT 'unknown'
        CHECK (type IN ('image', 'video', 'gifv', 'audio', 'unknown')),
    state varchar(16) NOT NULL DEFAULT 'processing'
        CHECK (state IN ('processing', 'ready', 'failed')),
    error text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    focus_x real NOT NULL DEFAULT 0,
    focus_y real NOT NULL DEFAULT 0,
    mime_type varchar(64) NOT NULL DEFAULT '',
    file_size bigint NOT NULL DEFAULT 0,
    sha256 varchar(64) NOT NULL DEFAULT '',
    upload_key text NOT NULL DEFAULT '',
    renditions jsonb NOT NULL DEFAULT '{}',
    blurhash varchar(200),
    width integer,
    height integer,
    duration real,
    remote_url text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_attachments_post ON media_attachments (post_id, position) WHERE post_id IS NOT NULL;
CREATE INDEX media_attachments_account ON media_attachments (account_id, id);
CREATE INDEX media_attachments_sha256 ON media_attachments (sha256);

CREATE TABLE tags (
    id bigint PRIMARY KEY,
    name varchar(100) NOT NULL,
    display_name varchar(100) NOT NULL,
    usable boolean NOT NULL DEFAULT true,
    trendable boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
CREATE UNIQUE INDEX tags_name ON tags (lower(name));

CREATE TABLE post_tags (
    post_id bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    tag_id bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (tag_id, post_id)
);
CREATE INDEX post_tags_post ON post_tags (post_id);

CREATE TABLE mentions (
    post_id bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    silent boolean NOT NULL DEFAULT false,
    PRIMARY KEY (post_id, account_id)
);
CREATE INDEX mentions_account ON mentions (account_id, post_id DESC);

CREATE TABLE favourites (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_id bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    uri text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, post_id)
);
CREATE INDEX favourites_post ON favourites (post_id, id DESC);

CREATE TABLE bookmarks (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_id bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, post_id)
);

CREATE TABLE pins (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_id bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, post_id)
);

CREATE TABLE post_edits (
    id bigint PRIMARY KEY,
    post_id bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    content text NOT NULL,
    spoiler_text text NOT NULL DEFAULT '',
    sensitive boolean NOT NULL DEFAULT false,
    media jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX post_edits_post ON post_edits (post_id, id);
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
