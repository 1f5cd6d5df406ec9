"""Token identities kept in this web process, so an API request costs no database round trip
to learn who is calling. Safe because PostgreSQL says when to forget: triggers NOTIFY the
`pinhole_auth` channel whenever a token is revoked or deleted, or a user or account changes in
a way that can end access (migration 0100), and every process drops its whole cache then.
Without that channel (not started, or its connection lost) nothing is cached."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import asyncpg

from node import db

log = logging.getLogger("pinhole.auth")

CHANNEL = "pinhole_auth"
MAX_ENTRIES = 20_000
TTL_SECONDS = 60.0  # a backstop, should a notification ever be lost with its connection
RECONNECT_SECONDS = 2.0

T = TypeVar("T")


class TokenCache(Generic[T]):
    """Lookups by token digest, remembered while the change channel is listened to."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[T, float]] = {}
        self._generation = 0  # bumped on every forget: a lookup begun before it is not kept
        self._connection: asyncpg.Connection | None = None
        self._reconnect: asyncio.Task | None = None
        self._stopping = False

    @property
    def active(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    async def get(self, digest: str, load: Callable[[], Awaitable[T | None]]) -> T | None:
        entry = self._entries.get(digest)
        if entry is not None:
            if entry[1] > time.monotonic():
                return entry[0]
            del self._entries[digest]
        generation = self._generation
        value = await load()
        if value is not None and self.active and generation == self._generation:
            if len(self._entries) >= MAX_ENTRIES:
                del self._entries[next(iter(self._entries))]  # the oldest
            self._entries[digest] = (value, time.monotonic() + TTL_SECONDS)
        return value

    def forget_all(self) -> None:
        self._generation += 1
        self._entries.clear()

    async def start(self) -> None:
        """Listen for changes; caching starts once the channel is open."""
        self._stopping = False
        try:
            self._connection = await db.listen(CHANNEL, self.forget_all, self._lost)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("token cache off until the database can be listened to: %s", exc)
            self._lost()

    async def stop(self) -> None:
        self._stopping = True
        if self._reconnect is not None:
            self._reconnect.cancel()
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            await connection.close()
        self.forget_all()

    def _lost(self) -> None:
        self.forget_all()
        self._connection = None
        if not self._stopping and (self._reconnect is None or self._reconnect.done()):
            self._reconnect = asyncio.get_running_loop().create_task(self._reopen())

    async def _reopen(self) -> None:
        await asyncio.sleep(RECONNECT_SECONDS)
        await self.start()
