"""The `pinhole` command: run, web, worker, migrate, admin."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any

from node.admin_cli import add_admin_commands
from node.settings import Settings, SettingsError, use_settings


def _settings_from_env(args: argparse.Namespace) -> Settings:
    env = dict(os.environ)
    if getattr(args, "host", None):
        env["PINHOLE_HOST"] = args.host
    if getattr(args, "port", None):
        env["PINHOLE_PORT"] = str(args.port)
    try:
        return Settings.from_env(env)
    except SettingsError as exc:
        print(f"pinhole: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _prepare(args: argparse.Namespace, *, embedded_allowed: bool):
    """Settings with database and Redis URLs, starting embedded servers where none are set."""
    from node.embedded import EmbeddedServers, EmbeddedUnavailable, start_postgres, start_redis

    settings = _settings_from_env(args)
    servers = EmbeddedServers()
    try:
        if not settings.database_url:
            if not embedded_allowed:
                raise EmbeddedUnavailable("set PINHOLE_DATABASE_URL")
            print("pinhole: starting embedded PostgreSQL in", settings.data_dir / "postgres")
            settings = replace(settings, database_url=start_postgres(settings.data_dir, servers))
        if not settings.redis_url:
            if not embedded_allowed:
                raise EmbeddedUnavailable("set PINHOLE_REDIS_URL")
            print(
                "pinhole: starting embedded Redis-compatible server in", settings.data_dir / "redis"
            )
            settings = replace(settings, redis_url=start_redis(settings.data_dir, servers))
    except EmbeddedUnavailable as exc:
        servers.stop()
        print(f"pinhole: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    settings = settings.with_secret_key()
    use_settings(settings)
    from node.observability import configure_logging

    configure_logging(json_lines=settings.log_json)
    from node.db import configure_database

    configure_database(settings.database_url)
    return settings, servers


def _port_sharing_socket(host: str, port: int) -> socket.socket:
    """A listening socket with SO_REUSEPORT: each web process binds its own, and the kernel
    spreads new connections over them (no process accepts for the others)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        print(f"pinhole: cannot bind {host}:{port}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _start_more_web_processes(settings: Settings, count: int) -> list[subprocess.Popen]:
    """`count` more web processes on the same port, with this process's database and Redis
    (which may be embedded servers this process started)."""
    env = {
        **os.environ,
        "PINHOLE_HOST": settings.host,
        "PINHOLE_PORT": str(settings.port),
        "PINHOLE_DATABASE_URL": settings.database_url,
        "PINHOLE_REDIS_URL": settings.redis_url,
    }
    command = [sys.executable, "-m", "node.cli", "web", "--started-by", str(os.getpid())]
    return [subprocess.Popen(command, env=env) for _ in range(count)]


def _stop_processes(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


async def _stop_when_orphaned(server: Any, parent_pid: int) -> None:
    """A web process started by another stops when that one is gone (even killed)."""
    while os.getppid() == parent_pid:  # noqa: ASYNC110 - no event tells of a parent's death
        await asyncio.sleep(1)
    server.should_exit = True


async def _serve(
    settings: Settings, *, with_web: bool, with_worker: bool, started_by: int | None = None
) -> None:
    """Serve the web app and/or the worker. With PINHOLE_WEB_PROCESSES above one, this process
    starts the others and all share the port; `started_by` (the first one's pid) marks one of
    those others."""
    import uvicorn

    from workers.main import build_worker

    worker = (
        build_worker(own_pool=not with_web, handle_signals=not with_web) if with_worker else None
    )
    if not with_web:
        assert worker is not None
        await worker.async_run()
        return
    from node.app import create_app

    server = uvicorn.Server(
        uvicorn.Config(
            create_app(),
            host=settings.host,
            port=settings.port,
            log_level="info",
            log_config=None,  # logs go through node.observability's handler
            access_log=False,  # the request middleware writes one access line per request
            # Longer than a load balancer's or client's idle timeout, so that the client (not
            # us) closes idle keep-alive connections and never sends on one we just closed.
            timeout_keep_alive=65,
            proxy_headers=True,
            server_header=False,
            # Streaming responses never end by themselves: a stop waits this long for them.
            timeout_graceful_shutdown=5,
        )
    )
    sockets = None
    others: list[subprocess.Popen] = []
    orphan_watch = None
    if started_by is not None or settings.web_processes > 1:
        sockets = [_port_sharing_socket(settings.host, settings.port)]
    if started_by is not None:
        orphan_watch = asyncio.create_task(_stop_when_orphaned(server, started_by))
    elif settings.web_processes > 1:
        others = _start_more_web_processes(settings, settings.web_processes - 1)
    worker_task = asyncio.create_task(worker.async_run()) if worker else None
    started = asyncio.create_task(server.serve(sockets=sockets))
    # uvicorn exposes only a flag for "listening", no event to wait on.
    while not server.started and not started.done():  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    if server.started and started_by is None:
        processes = f", {settings.web_processes} web processes" if others else ""
        print(
            f"pinhole is running at {settings.base_url} "
            f"(bound to {settings.host}:{settings.port}{processes})",
            flush=True,
        )
    try:
        await started
    finally:
        if orphan_watch is not None:
            orphan_watch.cancel()
        if worker is not None and worker_task is not None:
            worker_task.cancel()
            await worker.close()
        await asyncio.to_thread(_stop_processes, others)


def _run_serving(main: Coroutine[None, None, None]) -> None:
    """Run a serving process's main coroutine on uvloop where it is installed (uvicorn[standard]
    brings it): its event loop and transports cost much less per request than asyncio's."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def _stop_on_sigterm() -> None:
    """Treat SIGTERM like Ctrl-C so that embedded servers are stopped on the way out."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def cmd_run(args: argparse.Namespace) -> None:
    _stop_on_sigterm()
    settings, servers = _prepare(args, embedded_allowed=True)
    try:
        from node.db import migrate

        asyncio.run(migrate())
        _run_serving(_serve(settings, with_web=True, with_worker=True))
    except KeyboardInterrupt:
        pass
    finally:
        servers.stop()
        print("pinhole: stopped", flush=True)


def cmd_web(args: argparse.Namespace) -> None:
    settings, _ = _prepare(args, embedded_allowed=False)
    _run_serving(_serve(settings, with_web=True, with_worker=False, started_by=args.started_by))


def cmd_worker(args: argparse.Namespace) -> None:
    settings, _ = _prepare(args, embedded_allowed=False)
    _run_serving(_serve(settings, with_web=False, with_worker=True))


def cmd_migrate(args: argparse.Namespace) -> None:
    _, servers = _prepare(args, embedded_allowed=True)
    try:
        from node.db import migrate

        asyncio.run(migrate())
        print("pinhole: database is up to date")
    finally:
        servers.stop()


def cmd_create_user(args: argparse.Namespace) -> None:
    _, servers = _prepare(args, embedded_allowed=True)
    password = args.password or getpass.getpass("Password: ")

    async def create() -> None:
        from node import accounts, db
        from node.errors import PinholeError

        await db.migrate()
        await db.open_pool(min_size=1, max_size=2)
        try:
            created = await accounts.create_local_user(
                args.name, args.email, password, role="admin" if args.admin else "user"
            )
            print(f"pinhole: created {args.name} (account id {created.account_id})")
        except PinholeError as exc:
            print(f"pinhole: {exc.message}", file=sys.stderr)
            raise SystemExit(1) from None
        finally:
            await db.close_pool()

    try:
        asyncio.run(create())
    finally:
        servers.stop()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pinhole", description="A federated photo sharing node.")
    commands = parser.add_subparsers(dest="command", required=True)

    for name, func, help_text in (
        ("run", cmd_run, "start everything: embedded servers if none configured, web, worker"),
        ("web", cmd_web, "run the web processes (configured database and Redis)"),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--host", help="address to bind (PINHOLE_HOST, default 127.0.0.1)")
        sub.add_argument("--port", type=int, help="port to bind (PINHOLE_PORT, default 8000)")
        sub.set_defaults(func=func, started_by=None)
        if name == "web":  # set on the extra web processes the first one starts
            sub.add_argument("--started-by", type=int, help=argparse.SUPPRESS)
    commands.add_parser("worker", help="run one job worker").set_defaults(func=cmd_worker)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    admin = commands.add_parser("admin", help="administration").add_subparsers(
        dest="admin_command", required=True
    )
    create = admin.add_parser("create-user", help="create a local user")
    create.add_argument("name")
    create.add_argument("--email", required=True)
    create.add_argument("--password")
    create.add_argument("--admin", action="store_true", help="give the user the admin role")
    create.set_defaults(func=cmd_create_user)
    add_admin_commands(admin)
    return parser


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
