"""ActivityPub archives people request of their own account: one row per request."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from node.piccolo_migrations import sql_migration

ID = "2026-11-24T01:30:00:000000"  # 0090: the 90th minute
VERSION = "1.38.0"
DESCRIPTION = "account archives"

SQL = """
CREATE TABLE account_archives (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    storage_key text NOT NULL DEFAULT '',
    state varchar(16) NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'ready', 'failed')),
    byte_size bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX account_archives_account ON account_archives (account_id, id);
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
