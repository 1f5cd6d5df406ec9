"""Database access: the Piccolo engine's pool, plain-SQL helpers that join Piccolo transactions,
and migrations."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg

from node.piccolo_conf import DB


def configure_database(url: str) -> None:
    """Point the engine at this database (before the pool opens)."""
    DB.config = {"dsn": url}


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Nothing to reset when a connection goes back to the pool: the app sets no session state
    (no SET, LISTEN or advisory locks on pooled connections). asyncpg's default reset would send
    `RESET ALL; UNLISTEN *; …` on every release: one more round trip per query. An open
    transaction is still rolled back by asyncpg before this runs."""


async def open_pool(min_size: int = 2, max_size: int = 20) -> None:
    await DB.start_connection_pool(min_size=min_size, max_size=max_size, reset=_keep_session)


async def close_pool() -> None:
    await DB.close_connection_pool()


async def listen(
    channel: str, on_notify: Callable[[], None], on_lost: Callable[[], None]
) -> asyncpg.Connection:
    """A connection of its own (outside the pool) that calls `on_notify` for each NOTIFY on
    `channel` and `on_lost` once if the connection ends; close it to stop."""
    connection = await asyncpg.connect(**DB.config)
    await connection.add_listener(channel, lambda *_: on_notify())
    connection.add_termination_listener(lambda _: on_lost())
    return connection


def transaction():
    """A transaction that Piccolo queries and the helpers below both join."""
    return DB.transaction()


def _connection_in_transaction() -> asyncpg.Connection | None:
    current = DB.current_transaction.get()
    return current.connection if current else None


async def fetch(sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = _connection_in_transaction()
    if conn is not None:
        return await conn.fetch(sql, *args)
    return await DB.pool.fetch(sql, *args)


async def fetchrow(sql: str, *args: Any) -> asyncpg.Record | None:
    conn = _connection_in_transaction()
    if conn is not None:
        return await conn.fetchrow(sql, *args)
    return await DB.pool.fetchrow(sql, *args)


async def fetchval(sql: str, *args: Any) -> Any:
    conn = _connection_in_transaction()
    if conn is not None:
        return await conn.fetchval(sql, *args)
    return await DB.pool.fetchval(sql, *args)


async def execute(sql: str, *args: Any) -> str:
    conn = _connection_in_transaction()
    if conn is not None:
        return await conn.execute(sql, *args)
    return await DB.pool.execute(sql, *args)


async def executemany(sql: str, rows: Sequence[Sequence[Any]]) -> None:
    conn = _connection_in_transaction()
    if conn is not None:
        await conn.executemany(sql, rows)
    else:
        await DB.pool.executemany(sql, rows)


_MIGRATION_LOCK = 7_340_001  # advisory lock id: one migrator at a time


async def migrate() -> None:
    """Apply every pending migration; safe when several processes start at once."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    conn = await asyncpg.connect(DB.config["dsn"])
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        response = await run_forwards(app_name="all", migration_id="all", fake=False)
        if not response.success:
            raise RuntimeError(f"migration failed: {response.message}")
    finally:
        await conn.close()


def migrate_sync() -> None:
    asyncio.run(migrate())
