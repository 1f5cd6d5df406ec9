"""Notifications, direct-message conversations, Web Push subscriptions and the VAPID key pair."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from node.piccolo_migrations import sql_migration

ID = "2026-11-24T00:50:00:000000"  # 0050: the 50th minute
VERSION = "1.38.0"
DESCRIPTION = "notifications, conversations, message requests, push subscriptions, vapid keys"

SQL = """
-- Notifications of local accounts. dedupe_key makes an event that happens again (a like undone
-- and redone, a job that runs twice) land once; group_key is what /api/v2/notifications groups
-- by ("Ana and 12 others liked your photo"). A notification whose report is gone is not shown.
CREATE TABLE notifications (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    type varchar(32) NOT NULL,
    post_id bigint REFERENCES posts (id) ON DELETE CASCADE,
    report_id bigint,  -- reports come in a later migration (0080): no foreign key
    dedupe_key text NOT NULL,
    group_key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, dedupe_key)
);
CREATE INDEX notifications_account ON notifications (account_id, id DESC);
CREATE INDEX notifications_group ON notifications (account_id, group_key, id DESC);
CREATE INDEX notifications_post ON notifications (post_id) WHERE post_id IS NOT NULL;
CREATE INDEX notifications_from ON notifications (from_account_id);

-- A local account's conversation with a set of people: one row per owner and set of other
-- participants (sorted ids; empty for notes to oneself), so a new thread with the same people
-- continues the same conversation. `request`: a message request not yet accepted.
CREATE TABLE conversations (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    participant_ids bigint[] NOT NULL,
    last_post_id bigint NOT NULL,
    last_read_post_id bigint,
    unread boolean NOT NULL DEFAULT false,
    request boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, participant_ids)
);
CREATE INDEX conversations_list ON conversations (account_id, request, last_post_id DESC);

CREATE TABLE conversation_posts (
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    post_id bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    PRIMARY KEY (conversation_id, post_id)
);
CREATE INDEX conversation_posts_post ON conversation_posts (post_id);

-- Direct posts already put into conversations: the job that records a post also records the
-- earlier ones of the same people still waiting, in order, so messages are announced in order
-- and once even when jobs finish out of order.
CREATE TABLE direct_posts_recorded (
    post_id bigint PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE
);

-- Direct messages from people one does not follow wait in the requests list (on by default).
ALTER TABLE users ADD COLUMN message_requests boolean NOT NULL DEFAULT true;

-- One Web Push subscription per access token, as on Mastodon.
CREATE TABLE push_subscriptions (
    id bigint PRIMARY KEY,
    token_id bigint NOT NULL UNIQUE REFERENCES oauth_tokens (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    endpoint text NOT NULL,
    p256dh text NOT NULL,
    auth text NOT NULL,
    alerts jsonb NOT NULL DEFAULT '{}',
    policy varchar(16) NOT NULL DEFAULT 'all'
        CHECK (policy IN ('all', 'followed', 'follower', 'none')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_subscriptions_account ON push_subscriptions (account_id);

-- The node's VAPID key pair, made by the first process that starts; every web process and
-- worker reads the same one.
CREATE TABLE push_vapid_keys (
    id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    private_key_pem text NOT NULL,
    public_key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
