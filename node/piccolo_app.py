"""The Piccolo app holding every table of the node (they reference each other)."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from node.piccolo_migrations import APP_NAME
from node.tables import TABLES

APP_CONFIG = AppConfig(
    app_name=APP_NAME,
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=TABLES,
)
