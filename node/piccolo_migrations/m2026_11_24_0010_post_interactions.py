"""One live boost per account and post; list indexes for favourites, bookmarks and pins."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from node.piccolo_migrations import sql_migration

ID = "2026-11-24T00:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique boosts, favourites/bookmarks/pins by account"

SQL = """
CREATE UNIQUE INDEX posts_one_reblog_per_account ON posts (account_id, reblog_of_id)
    WHERE reblog_of_id IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX favourites_account ON favourites (account_id, id DESC);
CREATE INDEX bookmarks_account ON bookmarks (account_id, id DESC);
CREATE INDEX pins_account ON pins (account_id, id DESC);
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
