"""Media bytes are shared by key: an index of the keys each attachment uses, and a counter of
deletions of bytes, so that processing can tell whether bytes it wrote may have gone."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from node.piccolo_migrations import sql_migration

ID = "2026-11-24T00:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "media: index of storage keys, byte deletion counter"

SQL = """
-- Keys name their content, so two attachments can use the same bytes; before bytes go, the
-- rows still using any of them are found through this index rather than by reading them all.
CREATE INDEX media_attachments_keys ON media_attachments
    USING gin (jsonb_path_query_array(renditions, '$.*.key'));

-- Advanced by media/service.py after each deletion of bytes (under an exclusive advisory lock);
-- processing that sees it move while it wrote checks that its bytes are still there.
CREATE SEQUENCE media_byte_deletions;
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
