"""Web sessions: one row per signed-in browser, so people can list and end their sessions."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from node.piccolo_migrations import sql_migration

ID = "2026-11-24T01:10:00:000000"  # 0070: the 70th minute
VERSION = "1.38.0"
DESCRIPTION = "web sessions"

SQL = """
CREATE TABLE web_sessions (
    id bigint PRIMARY KEY,
    token_hash varchar(64) NOT NULL UNIQUE,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent text NOT NULL DEFAULT '',
    ip varchar(64) NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX web_sessions_user ON web_sessions (user_id, last_seen_at DESC);
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
