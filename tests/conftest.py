"""Shared fixtures: one real node process on a fresh database, a clean state for every test,
and users made through the real API."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from itertools import count

import asyncpg
import httpx
import pytest

os.environ.setdefault("PINHOLE_DATA_DIR", tempfile.mkdtemp(prefix="pinhole-tests-"))

from node import db  # noqa: E402
from node.settings import Settings, use_settings  # noqa: E402
from tests.rig import NodeProcess, Services, sign_up  # noqa: E402


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    started = Services.start()
    yield started
    started.stop()


@pytest.fixture(scope="session")
async def node(services: Services) -> AsyncIterator[NodeProcess]:
    """The node under test, with this test process pointed at the same database and Redis."""
    database_url = await services.create_database()
    process = NodeProcess.configure(database_url=database_url, redis_url=services.redis_url)
    process.start()
    settings = Settings.from_env(process.env)
    use_settings(replace(settings, data_dir=process.data_dir))
    db.configure_database(database_url)
    await db.open_pool(min_size=1, max_size=5)
    yield process
    await db.close_pool()
    from node.redis import close_redis

    await close_redis()
    process.stop()
    await services.drop_databases()


async def _truncate_everything() -> None:
    tables = await db.fetch(
        """SELECT tablename FROM pg_tables
           WHERE schemaname = 'public' AND tablename <> 'migration'"""
    )
    if not tables:
        return
    names = ", ".join(f'"{row["tablename"]}"' for row in tables)
    # The node's worker may be mid-job (a cron job at start): a deadlock here is retried.
    for attempt in range(5):
        try:
            await db.execute(f"TRUNCATE {names} CASCADE")
            return
        except asyncpg.exceptions.DeadlockDetectedError:
            if attempt == 4:
                raise
            await asyncio.sleep(0.2)


async def _clear_redis(prefix: str) -> None:
    from node.redis import redis

    client = redis()
    async for key in client.scan_iter(match=f"{prefix}*", count=1000):
        await client.delete(key)


@pytest.fixture(autouse=True)
async def clean_state(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Each test starts with an empty node (only for tests that use the node)."""
    if "node" not in request.fixturenames:
        yield
        return
    node: NodeProcess = request.getfixturevalue("node")
    await _truncate_everything()
    await _clear_redis(node.env["PINHOLE_REDIS_PREFIX"])
    yield


@pytest.fixture
async def http(node: NodeProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=node.url, timeout=30) as client:
        yield client


@dataclass
class SignedInUser:
    username: str
    email: str
    password: str
    token: str
    account_id: str
    client: httpx.AsyncClient

    async def get(self, path: str, **kwargs) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def post(self, path: str, **kwargs) -> httpx.Response:
        return await self.client.post(path, **kwargs)


_serial = count(1)


@pytest.fixture
async def make_user(node: NodeProcess) -> AsyncIterator:
    clients: list[httpx.AsyncClient] = []

    async def make(username: str | None = None, *, locked: bool = False) -> SignedInUser:
        username = username or f"user{next(_serial)}"
        async with httpx.AsyncClient(base_url=node.url, timeout=30) as anonymous:
            token = (await sign_up(anonymous, username))["access_token"]
        client = httpx.AsyncClient(
            base_url=node.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
        )
        clients.append(client)
        me = (await client.get("/api/v1/accounts/verify_credentials")).json()
        if locked:
            response = await client.patch(
                "/api/v1/accounts/update_credentials", data={"locked": "true"}
            )
            assert response.status_code == 200, response.text
        return SignedInUser(
            username=username,
            email=f"{username}@example.com",
            password="correct horse battery",
            token=token,
            account_id=me["id"],
            client=client,
        )

    yield make
    for client in clients:
        await client.aclose()
