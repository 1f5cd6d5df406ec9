"""Domain blocks match host names whatever the port (accounts' domains may carry one)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from node.piccolo_migrations import sql_migration

ID = "2026-11-24T01:21:00:000000"  # 0081: the 81st minute
VERSION = "1.38.0"
DESCRIPTION = "domain blocks match hosts regardless of port"

SQL = """
CREATE OR REPLACE FUNCTION pinhole_domain_block(target text) RETURNS domain_blocks
LANGUAGE sql STABLE AS $$
    SELECT * FROM domain_blocks
    WHERE domain = split_part(lower(target), ':', 1)
       OR right(split_part(lower(target), ':', 1), length(domain) + 1) = '.' || domain
    ORDER BY length(domain) DESC
    LIMIT 1
$$;
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
