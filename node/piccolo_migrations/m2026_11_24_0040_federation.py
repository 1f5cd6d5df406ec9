"""Federation: the instance actor's keys, received and sent activities, delivery state, the
per-domain failure tracker, and the actor fields remote accounts need."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from node.piccolo_migrations import sql_migration

ID = "2026-11-24T00:40:00:000000"  # 0040: the 40th minute
VERSION = "1.38.0"
DESCRIPTION = "federation: instance keys, inbox and outbox activities, deliveries, domains"

SQL = """
-- The instance actor (it signs fetches made on behalf of the server): one row, made on first use.
CREATE TABLE federation_instance_keys (
    name varchar(32) PRIMARY KEY,
    private_key_pem text NOT NULL,
    public_key_pem text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- What remote actors need beyond the accounts table's columns.
ALTER TABLE accounts ADD COLUMN actor_type varchar(32) NOT NULL DEFAULT 'Person';
ALTER TABLE accounts ADD COLUMN also_known_as text[] NOT NULL DEFAULT '{}';
ALTER TABLE accounts ADD COLUMN moved_to_account_id bigint REFERENCES accounts (id) ON DELETE SET NULL;

-- Every activity received in an inbox, as it arrived (raw body text), deduplicated by its id
-- (or by the body's SHA-256 when it has none). state: queued -> done | unhandled | failed.
CREATE TABLE inbox_activities (
    id bigint PRIMARY KEY,
    activity_id text NOT NULL,
    activity_type varchar(64) NOT NULL DEFAULT '',
    object_type varchar(64) NOT NULL DEFAULT '',
    actor_uri text NOT NULL,
    key_id text NOT NULL DEFAULT '',
    recipient_account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
    body text NOT NULL,
    state varchar(16) NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'done', 'unhandled', 'failed')),
    result text NOT NULL DEFAULT '',
    received_at timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz
);
CREATE UNIQUE INDEX inbox_activities_activity_id ON inbox_activities (activity_id);
CREATE INDEX inbox_activities_state ON inbox_activities (state, id) WHERE state <> 'done';

-- Activities our accounts sent (kept for delivery and so their ids dereference).
CREATE TABLE outbox_activities (
    id bigint PRIMARY KEY,
    uri text NOT NULL,
    activity_type varchar(32) NOT NULL,
    account_id bigint REFERENCES accounts (id) ON DELETE CASCADE,
    object_uri text NOT NULL DEFAULT '',
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX outbox_activities_uri ON outbox_activities (uri);
CREATE INDEX outbox_activities_account ON outbox_activities (account_id, id DESC);

-- One row per (activity, target inbox): the delivery state an admin can query.
-- state: pending (queued or waiting for a retry) -> delivered | failed (gave up) | skipped.
CREATE TABLE deliveries (
    id bigint PRIMARY KEY,
    activity_id bigint NOT NULL REFERENCES outbox_activities (id) ON DELETE CASCADE,
    inbox_url text NOT NULL,
    domain varchar(255) NOT NULL,
    state varchar(16) NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'delivered', 'failed', 'skipped')),
    attempts integer NOT NULL DEFAULT 0,
    last_status integer,
    last_error text NOT NULL DEFAULT '',
    next_attempt_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    UNIQUE (activity_id, inbox_url)
);
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_domain ON deliveries (domain, id DESC);

-- The per-domain failure tracker: distinct days with failed deliveries since the last success;
-- enough of them make the domain unavailable until it answers again.
CREATE TABLE federation_domains (
    domain varchar(255) PRIMARY KEY,
    failure_days date[] NOT NULL DEFAULT '{}',
    last_failure_at timestamptz,
    last_success_at timestamptz,
    unavailable_since timestamptz
);
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
