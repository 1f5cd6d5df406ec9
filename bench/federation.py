"""Federation throughput on this machine, printed as JSON.

- inbox: signed Like activities from 100 remote actors POSTed to a real node's shared inbox over
  keep-alive connections: accepted (202) per second, and processed per second by its worker;
- delivery: one post by an account with 1,000 remote followers on 100 servers (a local sink
  listening on 100 loopback addresses): requests sent (one per server, thanks to shared
  inboxes) and the time until all were delivered, then more posts for deliveries per second.

Needs PostgreSQL and Redis (the local ones on 127.0.0.1, or embedded ones like the tests).
Run: .venv/bin/python bench/federation.py [--activities 6000] [--connections 32] [--posts 10]
     [--web-processes 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from federation.signatures import sign_cavage  # noqa: E402
from node.accounts import generate_key_pair  # noqa: E402
from node.ids import new_id  # noqa: E402
from tests.rig import NodeProcess, Services, free_port, sign_up  # noqa: E402

AS = "https://www.w3.org/ns/activitystreams"


async def until(predicate, interval: float = 0.01) -> None:
    """Poll an async predicate (the node and the sink run in other processes and tasks)."""
    while not await predicate():  # noqa: ASYNC110 - nothing to wait on but the database
        await asyncio.sleep(interval)


async def _true(value: bool) -> bool:
    return value


async def _none_left(count) -> bool:
    return await count() == 0


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class TinyServer:
    """A minimal HTTP/1.1 keep-alive server: GETs answer documents by path, POSTs are counted
    (and answered 202). Enough to stand for 100 remote servers without costing much CPU."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        self.posts = 0
        self.post_times: list[float] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                if method == "POST":
                    self.posts += 1
                    self.post_times.append(time.monotonic())
                    writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                else:
                    body = self.documents.get(path.split("?")[0])
                    if body is None:
                        writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    else:
                        writer.write(
                            b"HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\n"
                            + f"Content-Length: {len(body)}\r\n\r\n".encode()
                            + body
                        )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()


async def _raw_post_worker(
    host: str, port: int, requests: list[bytes], latencies: list[float], statuses: list[int]
) -> None:
    """One keep-alive connection sending its share of pre-built requests one after another."""
    reader, writer = await asyncio.open_connection(host, port)
    for request in requests:
        started = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
        if length:
            await reader.readexactly(length)
        latencies.append(time.perf_counter() - started)
        statuses.append(status)
    writer.close()


def _signed_request(url: str, body: bytes, key_id: str, private_pem: str) -> bytes:
    headers = sign_cavage("POST", url, key_id=key_id, private_key_pem=private_pem, body=body)
    path = "/" + url.split("/", 3)[3]
    lines = [f"POST {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def spawn(node: NodeProcess, command: str) -> subprocess.Popen:
    """`pinhole <command>` for the bench node, logging into its data folder."""
    log = (node.data_dir / f"{command}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "node.cli", command],
        env=node.env,
        cwd=node.data_dir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def start_web(node: NodeProcess) -> subprocess.Popen:
    """Web only (no worker in the same process), once the database is migrated."""
    subprocess.run(
        [sys.executable, "-m", "node.cli", "migrate"],
        env=node.env,
        cwd=node.data_dir,
        check=True,
        capture_output=True,
    )
    web = spawn(node, "web")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{node.url}/health/live", timeout=1).status_code == 200:
                return web
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the web process did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


async def _sign_up(node: NodeProcess, username: str) -> tuple[str, str]:
    async with httpx.AsyncClient(base_url=node.url, timeout=60) as client:
        access = (await sign_up(client, username))["access_token"]
        me = await client.get(
            "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {access}"}
        )
        return access, me.json()["id"]


async def bench_inbox(
    node: NodeProcess, pool: asyncpg.Pool, activities: int, connections: int
) -> tuple[subprocess.Popen, dict]:
    """Signed Likes from 100 remote actors (served by a tiny peer) into the shared inbox."""
    peer = TinyServer()
    peer_host, peer_port = "127.0.0.7", free_port("127.0.0.7")
    server = await asyncio.start_server(peer.handle, peer_host, peer_port)
    origin = f"http://{peer_host}:{peer_port}"
    private_pem, public_pem = generate_key_pair()
    actors = [f"{origin}/users/actor{n}" for n in range(100)]
    for uri in actors:
        peer.documents[uri[len(origin) :]] = json.dumps(
            {
                "@context": [AS, "https://w3id.org/security/v1"],
                "id": uri,
                "type": "Person",
                "preferredUsername": uri.rsplit("/", 1)[-1],
                "inbox": uri + "/inbox",
                "endpoints": {"sharedInbox": origin + "/inbox"},
                "followers": uri + "/followers",
                "publicKey": {"id": uri + "#main-key", "owner": uri, "publicKeyPem": public_pem},
            }
        ).encode()
    token, _ = await _sign_up(node, "inboxowner")
    async with httpx.AsyncClient(
        base_url=node.url, timeout=60, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        post_uris = []
        for n in range((activities + len(actors) - 1) // len(actors)):
            post_uris.append(
                (await client.post("/api/v1/statuses", data={"status": f"post {n}"})).json()["uri"]
            )
    progress(f"{len(post_uris)} posts to like; signing {activities} activities")
    inbox = f"{node.url}/inbox"
    requests = []
    for n in range(activities):
        actor = actors[n % len(actors)]
        body = json.dumps(
            {
                "@context": AS,
                "id": f"{actor}#likes/{n}",
                "type": "Like",
                "actor": actor,
                "object": post_uris[n // len(actors)],
            }
        ).encode()
        requests.append(_signed_request(inbox, body, actor + "#main-key", private_pem))
    # Warm up: the node fetches each actor once (key cache), as it would in steady state.
    warm = [
        _signed_request(
            inbox,
            json.dumps(
                {"@context": AS, "id": f"{a}#warm", "type": "Like", "actor": a, "object": "x"}
            ).encode(),
            a + "#main-key",
            private_pem,
        )
        for a in actors
    ]
    await asyncio.gather(
        *(_raw_post_worker(node.host, node.port, warm[i::10], [], []) for i in range(10))
    )
    await asyncio.sleep(1.0)
    progress("warm-up done; sending")
    latencies: list[float] = []
    statuses: list[int] = []
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _raw_post_worker(node.host, node.port, requests[i::connections], latencies, statuses)
            for i in range(connections)
        )
    )
    accepted_seconds = time.perf_counter() - started
    accepted = statuses.count(202)
    progress(f"{accepted} accepted in {accepted_seconds:.1f} s; starting the worker")
    # The worker starts only now, so the web process had the CPU to itself above and the
    # worker's rate below is its own.
    worker = spawn(node, "worker")

    async def queued() -> int:
        return await pool.fetchval("SELECT count(*) FROM inbox_activities WHERE state = 'queued'")

    first_done = None

    async def drained() -> bool:
        nonlocal first_done
        left = await queued()
        if first_done is None and left < activities:
            first_done = time.perf_counter()
        return left == 0

    await until(drained, 0.05)
    processed_seconds = time.perf_counter() - (first_done or started)
    progress(f"processed in {processed_seconds:.1f} s")
    outcomes = await pool.fetch(
        """SELECT state, count(*) FROM inbox_activities WHERE activity_id NOT LIKE '%#warm'
           GROUP BY state"""
    )
    likes = await pool.fetchval("SELECT count(*) FROM favourites")
    server.close()
    latencies.sort()
    return worker, {
        "activities": activities,
        "connections": connections,
        "accepted": accepted,
        "other_statuses": sorted(set(statuses) - {202}),
        "accepted_per_second": round(accepted / accepted_seconds),
        "latency_ms": {
            "p50": round(statistics.median(latencies) * 1000, 2),
            "p99": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        },
        "processed_per_second": round(activities / processed_seconds),
        "all_processed_after_s": round(processed_seconds, 2),
        "outcomes": {row["state"]: row["count"] for row in outcomes},
        "favourites_stored": likes,
    }


async def queue_drained(node: NodeProcess) -> int:
    """Wait until the node's job queue is empty (the likes above leave notification jobs
    behind); how many jobs were waiting."""
    client = Redis.from_url(node.env["PINHOLE_REDIS_URL"])
    queue = node.env["PINHOLE_QUEUE_NAME"]
    waiting = await client.zcard(queue)

    async def empty() -> bool:
        return await client.zcard(queue) == 0

    await until(empty, 0.1)
    await client.aclose()
    return waiting


async def bench_delivery(node: NodeProcess, pool: asyncpg.Pool, posts: int) -> dict:
    """A post to 1,000 followers on 100 servers; then `posts` more, for deliveries per second."""
    progress(f"waited for {await queue_drained(node)} queued jobs to finish first")
    sink = TinyServer()
    port = free_port("127.0.1.1")
    hosts = [f"127.0.1.{n}" for n in range(1, 101)]
    server = await asyncio.start_server(sink.handle, hosts, port)
    token, author_id = await _sign_up(node, "deliverer")
    progress("delivery: 1,000 followers on 100 servers")
    rows = []
    follows = []
    for n in range(1000):
        host = f"{hosts[n % 100]}:{port}"
        account_id = new_id()
        uri = f"http://{host}/users/f{n}"
        rows.append((account_id, f"f{n}", host, uri, uri + "/inbox", f"http://{host}/inbox"))
        follows.append((new_id(), account_id, int(author_id)))
    await pool.executemany(
        """INSERT INTO accounts (id, username, domain, uri, inbox_url, shared_inbox_url,
               fetched_at) VALUES ($1, $2, $3, $4, $5, $6, now())""",
        rows,
    )
    await pool.executemany(
        "INSERT INTO follows (id, account_id, target_account_id) VALUES ($1, $2, $3)", follows
    )
    await pool.execute("UPDATE accounts SET followers_count = 1000 WHERE id = $1", int(author_id))
    async with httpx.AsyncClient(
        base_url=node.url, timeout=60, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        started = time.monotonic()
        await client.post("/api/v1/statuses", data={"status": "to a thousand followers"})
        await until(lambda: _true(sink.posts >= 100))
        first_post = time.monotonic() - started
        await asyncio.sleep(0.5)
        one_post_requests = sink.posts
        before = sink.posts
        started = time.monotonic()
        for n in range(posts):
            await client.post("/api/v1/statuses", data={"status": f"more {n}"})
        await until(lambda: _true(sink.posts >= before + 100 * posts))
        many = time.monotonic() - started
    states = await pool.fetch("SELECT state, count(*) FROM deliveries GROUP BY state")
    server.close()
    return {
        "followers": 1000,
        "servers": 100,
        "requests_for_one_post": one_post_requests,
        "one_post_all_delivered_s": round(first_post, 3),
        "posts_after": posts,
        "deliveries_per_second": round(100 * posts / many),
        "delivery_states": {row["state"]: row["count"] for row in states},
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--activities", type=int, default=6000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument(
        "--web-processes", type=int, default=1, help="PINHOLE_WEB_PROCESSES of the node"
    )
    args = parser.parse_args()
    load_at_start = os.getloadavg()[0]  # other work on the machine: compare within a run
    services = Services.start()
    database_url = await services.create_database("pinhole_bench_federation")
    node = NodeProcess.configure(
        database_url=database_url,
        redis_url=services.redis_url,
        host="127.0.0.6",
        extra_env={
            "PINHOLE_RATE_LIMIT_ENABLED": "false",
            "PINHOLE_WEB_PROCESSES": str(args.web_processes),
        },
    )
    web = await asyncio.to_thread(start_web, node)
    worker = None
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        worker, inbox = await bench_inbox(node, pool, args.activities, args.connections)
        result = {
            "machine_cpus": os.cpu_count(),
            "load_average_at_start": load_at_start,
            "web_processes": args.web_processes,
            "inbox": inbox,
            "delivery": await bench_delivery(node, pool, args.posts),
            "load_average_at_end": os.getloadavg()[0],
        }
        print(json.dumps(result, indent=2))
    finally:
        await pool.close()
        for process in (worker, web):
            if process is not None:
                stop(process)
        await services.drop_databases()
        services.stop()


if __name__ == "__main__":
    asyncio.run(main())
