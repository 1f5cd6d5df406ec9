"""Moderation and administration: instance settings and rules, invites, reports, warnings,
the audit log, domain blocks and allows, media hash blocks."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from node.piccolo_migrations import sql_migration

ID = "2026-11-24T01:20:00:000000"  # 0080: the 80th minute
VERSION = "1.38.0"
DESCRIPTION = "moderation: settings, rules, invites, reports, audit log, domain and media blocks"

SQL = """
-- Settings an admin changes at run time (registration mode, federation mode); an absent key
-- falls back to the environment setting of the same name.
CREATE TABLE instance_settings (
    key varchar(64) PRIMARY KEY,
    value text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE instance_rules (
    id bigint PRIMARY KEY,
    text text NOT NULL,
    hint text NOT NULL DEFAULT '',
    position integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

CREATE TABLE invites (
    id bigint PRIMARY KEY,
    code varchar(64) NOT NULL UNIQUE,
    created_by_account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
    expires_at timestamptz,
    max_uses integer,
    uses integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

ALTER TABLE users ADD COLUMN sign_up_reason text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN invite_id bigint REFERENCES invites (id) ON DELETE SET NULL;
CREATE INDEX users_pending ON users (id) WHERE NOT approved;

-- sensitized_at: every media of the account is shown as sensitive;
-- data_deleted_at: a suspension's grace period ran out and the account's data is gone.
ALTER TABLE accounts ADD COLUMN sensitized_at timestamptz;
ALTER TABLE accounts ADD COLUMN data_deleted_at timestamptz;
CREATE INDEX accounts_suspended ON accounts (suspended_at) WHERE suspended_at IS NOT NULL;
CREATE INDEX accounts_domain ON accounts (lower(domain)) WHERE domain <> '';

CREATE TABLE reports (
    id bigint PRIMARY KEY,
    account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_ids bigint[] NOT NULL DEFAULT '{}',
    rule_ids bigint[] NOT NULL DEFAULT '{}',
    comment text NOT NULL DEFAULT '',
    category varchar(16) NOT NULL DEFAULT 'other'
        CHECK (category IN ('spam', 'legal', 'violation', 'other')),
    forwarded boolean NOT NULL DEFAULT false,
    uri text NOT NULL DEFAULT '',
    assigned_account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
    action_taken_at timestamptz,
    action_taken_by_account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reports_open ON reports (id DESC) WHERE action_taken_at IS NULL;
CREATE INDEX reports_target ON reports (target_account_id, id DESC);
CREATE UNIQUE INDEX reports_uri ON reports (uri) WHERE uri <> '';

CREATE TABLE report_notes (
    id bigint PRIMARY KEY,
    report_id bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
    content text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_notes_report ON report_notes (report_id, id);

CREATE TABLE account_warnings (
    id bigint PRIMARY KEY,
    account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    action varchar(32) NOT NULL,
    text text NOT NULL DEFAULT '',
    report_id bigint REFERENCES reports (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_warnings_target ON account_warnings (target_account_id, id DESC);

-- The audit log: one row per moderation or administration action. account_id is NULL when
-- the action came from the command line.
CREATE TABLE admin_actions (
    id bigint PRIMARY KEY,
    account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
    action varchar(64) NOT NULL,
    target_type varchar(32) NOT NULL,
    target_id text NOT NULL,
    details jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_actions_target ON admin_actions (target_type, target_id, id DESC);

CREATE TABLE domain_blocks (
    id bigint PRIMARY KEY,
    domain varchar(255) NOT NULL UNIQUE,
    severity varchar(16) NOT NULL DEFAULT 'silence'
        CHECK (severity IN ('suspend', 'silence', 'noop')),
    reject_media boolean NOT NULL DEFAULT false,
    reject_reports boolean NOT NULL DEFAULT false,
    private_comment text NOT NULL DEFAULT '',
    public_comment text NOT NULL DEFAULT '',
    obfuscate boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE domain_allows (
    id bigint PRIMARY KEY,
    domain varchar(255) NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE media_hash_blocks (
    sha256 varchar(64) PRIMARY KEY,
    comment text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The block that governs a domain: its own or its nearest parent domain's.
CREATE FUNCTION pinhole_domain_block(target text) RETURNS domain_blocks
LANGUAGE sql STABLE AS $$
    SELECT * FROM domain_blocks
    WHERE domain = lower(target) OR right(lower(target), length(domain) + 1) = '.' || domain
    ORDER BY length(domain) DESC
    LIMIT 1
$$;

-- Remote accounts are created in several places (inbox, lookups, dereferencing): the
-- trigger gives each new account of a blocked domain the block's limits, stamped with the
-- block's created_at so that lifting the block lifts exactly those limits.
CREATE FUNCTION pinhole_apply_domain_block() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    block domain_blocks;
BEGIN
    IF NEW.domain = '' THEN
        RETURN NEW;
    END IF;
    block := pinhole_domain_block(NEW.domain);
    IF block.id IS NULL THEN
        RETURN NEW;
    END IF;
    IF block.severity = 'suspend' AND NEW.suspended_at IS NULL THEN
        NEW.suspended_at := block.created_at;
    ELSIF block.severity = 'silence' AND NEW.silenced_at IS NULL THEN
        NEW.silenced_at := block.created_at;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER accounts_domain_block BEFORE INSERT ON accounts
FOR EACH ROW EXECUTE FUNCTION pinhole_apply_domain_block();
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
