"""Discovery: hashtag usage by day, trending hashtags and posts (computed by a job) with admin
review, featured hashtags on profiles, dismissed follow suggestions, directory indexes."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from node.piccolo_migrations import sql_migration

ID = "2026-11-24T01:01:00:000000"  # 0061
VERSION = "1.38.0"
DESCRIPTION = "discovery: tag usage, trends and their review, featured tags, suggestions"

SQL = """
-- Review of trends by staff: reviewed_at set by approve or reject (tags.trendable says which);
-- requested_review_at when an unreviewed tag first trended (the review queue).
ALTER TABLE tags ADD COLUMN reviewed_at timestamptz;
ALTER TABLE tags ADD COLUMN requested_review_at timestamptz;

-- Uses (posts) and distinct accounts per hashtag per UTC day, for the Tag entity's history and
-- the trend baseline. Recomputed from posts by the trends job for the last days (idempotent).
CREATE TABLE tag_daily_usage (
    tag_id bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    day date NOT NULL,
    uses integer NOT NULL,
    accounts integer NOT NULL,
    PRIMARY KEY (tag_id, day)
);

-- The current trends, replaced wholesale by each run of the trends job.
CREATE TABLE trending_tags (
    tag_id bigint PRIMARY KEY REFERENCES tags (id) ON DELETE CASCADE,
    score double precision NOT NULL,
    recent_accounts integer NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX trending_tags_score ON trending_tags (score DESC, tag_id);

CREATE TABLE trending_posts (
    post_id bigint PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    score double precision NOT NULL,
    local boolean NOT NULL,
    with_media boolean NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX trending_posts_score ON trending_posts (score DESC, post_id DESC);

-- A staff decision on whether a post may trend (absent: not reviewed yet).
CREATE TABLE post_trend_reviews (
    post_id bigint PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    trendable boolean NOT NULL,
    reviewed_by_account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
    requested_review_at timestamptz,
    reviewed_at timestamptz
);

-- Hashtags an account shows on its profile.
CREATE TABLE featured_tags (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag_id bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, tag_id)
);

-- Follow suggestions the account does not want to see again.
CREATE TABLE suggestion_dismissals (
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, target_account_id)
);

-- The profile directory and "popular here" suggestions read only listed accounts.
CREATE INDEX accounts_directory_active ON accounts (last_status_at DESC NULLS LAST, id DESC)
    WHERE discoverable AND suspended_at IS NULL;
CREATE INDEX accounts_directory_new ON accounts (created_at DESC, id DESC)
    WHERE discoverable AND suspended_at IS NULL;
CREATE INDEX accounts_popular_local ON accounts (followers_count DESC, id DESC)
    WHERE domain = '' AND discoverable AND suspended_at IS NULL;
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
