"""Account search reads stored folded names: computing the fold (unaccent, NFKC) for every
candidate row at query time cost more than the match itself (measured by bench/search.py)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from node.piccolo_migrations import sql_migration

ID = "2026-11-24T01:02:00:000000"  # 0062
VERSION = "1.38.0"
DESCRIPTION = "search: stored folded account names"

SQL = """
-- Generated columns: kept by PostgreSQL in every write, nothing for the services to do.
ALTER TABLE accounts
    ADD COLUMN search_name text
        GENERATED ALWAYS AS (pinhole_fold(username || ' ' || display_name)) STORED,
    ADD COLUMN search_display_name text
        GENERATED ALWAYS AS (pinhole_fold(display_name)) STORED;

DROP INDEX IF EXISTS accounts_search_names;
DROP INDEX IF EXISTS accounts_search_display_name;
CREATE INDEX accounts_search_display_name ON accounts (search_display_name text_pattern_ops);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX accounts_search_names ON accounts USING gin (search_name gin_trgm_ops);
    END IF;
END $$;
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
