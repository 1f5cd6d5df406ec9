"""A test rig: real PostgreSQL and Redis (local ones when reachable, embedded otherwise) and
real pinhole node processes on loopback addresses."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from node.embedded import EmbeddedServers, start_postgres, start_redis

ROOT = Path(__file__).resolve().parent.parent


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class Services:
    """Where PostgreSQL (an admin DSN) and Redis are, and what to stop at the end."""

    admin_dsn: str
    redis_url: str
    embedded: EmbeddedServers = field(default_factory=EmbeddedServers)
    created_databases: list[str] = field(default_factory=list)

    @classmethod
    def start(cls) -> Services:
        embedded = EmbeddedServers()
        scratch = Path(tempfile.mkdtemp(prefix="pinhole-test-services-"))
        admin_dsn = os.environ.get("PINHOLE_TEST_DATABASE_URL", "")
        if not admin_dsn:
            if _reachable("127.0.0.1", 5432):
                admin_dsn = "postgresql://postgres@127.0.0.1:5432/postgres"
            else:
                admin_dsn = start_postgres(scratch, embedded, database="postgres")
        redis_url = os.environ.get("PINHOLE_TEST_REDIS_URL", "")
        if not redis_url:
            if _reachable("127.0.0.1", 6379):
                redis_url = "redis://127.0.0.1:6379/0"
            else:
                redis_url = start_redis(scratch, embedded)
        return cls(admin_dsn=admin_dsn, redis_url=redis_url, embedded=embedded)

    def database_url(self, name: str) -> str:
        """The DSN of database `name` on the same server as the admin DSN."""
        base, _, rest = self.admin_dsn.partition("?")
        head, _, _ = base.rpartition("/")
        return f"{head}/{name}" + (f"?{rest}" if rest else "")

    async def create_database(self, prefix: str = "pinhole_test") -> str:
        name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.created_databases.append(name)
        return self.database_url(name)

    async def drop_databases(self) -> None:
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            for name in self.created_databases:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    def stop(self) -> None:
        self.embedded.stop()


@dataclass
class NodeProcess:
    """One pinhole node (`pinhole run`: web + worker) as a real process."""

    host: str
    port: int
    env: dict[str, str]
    data_dir: Path
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def domain(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def configure(
        cls,
        *,
        database_url: str,
        redis_url: str,
        host: str = "127.0.0.1",
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> NodeProcess:
        port = port or free_port(host)
        data_dir = Path(tempfile.mkdtemp(prefix=f"pinhole-node-{host}-{port}-"))
        prefix = f"t{os.getpid()}-{port}:"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PINHOLE_")},
            "PINHOLE_HOST": host,
            "PINHOLE_PORT": str(port),
            "PINHOLE_DATABASE_URL": database_url,
            "PINHOLE_REDIS_URL": redis_url,
            "PINHOLE_DATA_DIR": str(data_dir),
            "PINHOLE_HTTPS": "false",
            "PINHOLE_SECRET_KEY": secrets.token_urlsafe(32),
            "PINHOLE_ALLOW_PRIVATE_ADDRESSES": "true",
            "PINHOLE_REDIS_PREFIX": prefix,
            "PINHOLE_QUEUE_NAME": prefix + "queue",
            # Tests sign up many users from one address; rate-limit tests turn this back on.
            "PINHOLE_RATE_LIMIT_ENABLED": "false",
            **(extra_env or {}),
        }
        return cls(host=host, port=port, env=env, data_dir=data_dir)

    def start(self, timeout: float = 60.0) -> None:
        self.log_path = self.data_dir / "node.log"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "node.cli", "run"],
            env=self.env,
            cwd=self.data_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"node exited at start:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/health/live", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"node did not start in {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-8000:] if self.log_path else ""


async def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05):  # noqa: ASYNC109
    """Poll an async predicate until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


# Accounts through the API, as apps make them (tests, the federation rig and the benches)

DEFAULT_SCOPES = "read write follow push"


async def register_app(http: httpx.AsyncClient, scopes: str = DEFAULT_SCOPES) -> dict:
    response = await http.post(
        "/api/v1/apps",
        data={
            "client_name": "tests",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": scopes,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


async def sign_up(
    http: httpx.AsyncClient,
    username: str,
    password: str = "correct horse battery",
    *,
    scopes: str = DEFAULT_SCOPES,
) -> dict:
    """Sign up through the API as an app would: client credentials, then POST /api/v1/accounts.
    Returns the new user's token response (`access_token`…)."""
    app = await register_app(http, scopes)
    app_token = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": scopes,
        },
    )
    assert app_token.status_code == 200, app_token.text
    response = await http.post(
        "/api/v1/accounts",
        headers={"Authorization": f"Bearer {app_token.json()['access_token']}"},
        json={
            "username": username,
            "email": f"{username}@example.com",
            "password": password,
            "agreement": True,
            "locale": "en",
        },
    )
    assert response.status_code == 200, response.text
    return response.json()
