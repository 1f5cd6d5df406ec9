"""The Piccolo app of the node: its migrations (plain SQL) and the engine they run on.

Queries are hand-written SQL on the engine's asyncpg pool (node/db.py): the feed and inbox
paths need exact control of round trips, and one schema written once in the migrations
is easier to read than table classes that repeat it.
"""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from node.piccolo_migrations import APP_NAME

APP_CONFIG = AppConfig(
    app_name=APP_NAME,
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[],
)
