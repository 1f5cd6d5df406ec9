"""Migrations as plain SQL, run by Piccolo's migration runner (`pinhole migrate`)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

APP_NAME = "pinhole"


def sql_migration(migration_id: str, description: str, sql: str) -> MigrationManager:
    """A migration that runs one SQL script inside the transaction Piccolo opens for it."""
    manager = MigrationManager(
        migration_id=migration_id, app_name=APP_NAME, description=description
    )

    async def run() -> None:
        from node.piccolo_conf import DB

        transaction = DB.current_transaction.get()
        await transaction.connection.execute(sql)

    manager.add_raw(run)
    return manager
