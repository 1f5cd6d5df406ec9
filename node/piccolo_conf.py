"""Piccolo configuration: one engine whose DSN is set at start (`node.db.configure_database`)."""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

from node.settings import get_settings

DB = PostgresEngine(config={"dsn": get_settings().database_url}, extensions=())

APP_REGISTRY = AppRegistry(apps=["node.piccolo_app"])
