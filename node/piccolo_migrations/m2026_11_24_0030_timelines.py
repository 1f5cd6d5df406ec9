"""Timelines: lists and their members, followed hashtags, read markers, authors whose posts are
pulled into home feeds at read time, and the index the pull query reads."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from node.piccolo_migrations import sql_migration

ID = "2026-11-24T00:30:00:000000"  # 0030: the 30th minute
VERSION = "1.38.0"
DESCRIPTION = "lists, list members, followed tags, markers, pulled feed authors, feed index"

SQL = """
CREATE TABLE lists (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title varchar(255) NOT NULL,
    replies_policy varchar(16) NOT NULL DEFAULT 'list'
        CHECK (replies_policy IN ('followed', 'list', 'none')),
    exclusive boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lists_account ON lists (account_id, id);

-- id: the cursor of GET /api/v1/lists/:id/accounts (the order members were added in).
CREATE TABLE list_accounts (
    list_id bigint NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id bigint NOT NULL,
    PRIMARY KEY (list_id, account_id)
);
CREATE INDEX list_accounts_account ON list_accounts (account_id);

CREATE TABLE followed_tags (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag_id bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, tag_id)
);
CREATE INDEX followed_tags_tag ON followed_tags (tag_id);

CREATE TABLE markers (
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    timeline varchar(16) NOT NULL CHECK (timeline IN ('home', 'notifications')),
    last_read_id bigint NOT NULL,
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, timeline)
);

-- Authors with more local followers than PINHOLE_FEED_PUSH_THRESHOLD: their posts are not
-- pushed into followers' Redis feeds but pulled at read time. A row stays while any of the
-- author's posts since `since_id` were not pushed, so reads never lose those posts.
CREATE TABLE feed_pulled_authors (
    account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    local_followers integer NOT NULL,
    since_id bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The pull query (a LATERAL top-N per followed author) reads only this index: feed posts are
-- the ones that are not deleted and not comments.
CREATE INDEX posts_feed ON posts (account_id, id DESC) INCLUDE (visibility, reblog_of_id)
    WHERE deleted_at IS NULL AND in_reply_to_id IS NULL AND in_reply_to_uri = '';
CREATE INDEX posts_local_public ON posts (id DESC)
    WHERE deleted_at IS NULL AND visibility = 'public' AND reblog_of_id IS NULL AND local;
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
