"""Real-time latency on this machine, printed as JSON: from a like or a direct message being
sent (the HTTP request starts) to the event arriving on the recipient's streaming WebSocket,
p50/p90/p99, while 1,000 streaming connections are open (each user on `user` and `direct`, a
tenth of them also on `public`) and a background of public posts streams to those.

One `pinhole run` process (web + worker, as the default deployment) on a fresh database.
Users and their tokens are written straight into the database (signing up 1,000 people through
the API would spend minutes hashing passwords); everything measured goes through the API.
Needs PostgreSQL and Redis (the local ones on 127.0.0.1, or embedded ones like the tests).

Run: .venv/bin/python bench/realtime.py [--connections 1000] [--samples 300] [--public-rate 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from node.embedded import EmbeddedServers, start_postgres  # noqa: E402
from node.ids import new_id  # noqa: E402
from tests.rig import NodeProcess, Services  # noqa: E402

SCOPES = "read write follow push"


@dataclass
class User:
    account_id: int
    username: str
    token: str
    ws: ClientConnection | None = None
    arrivals: dict[str, float] = field(default_factory=dict)  # measured events, by key
    waiting: dict[str, asyncio.Future[float]] = field(default_factory=dict)
    received: int = 0
    listener: asyncio.Task[None] | None = None

    async def arrival(self, key: str) -> float | None:
        """When the event with this key arrived (waiting for it up to 10 s)."""
        if key in self.arrivals:
            return self.arrivals.pop(key)
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[key] = future
        try:
            return await asyncio.wait_for(future, 10)
        except TimeoutError:
            return None
        finally:
            self.waiting.pop(key, None)
            self.arrivals.pop(key, None)


async def seed_users(pool: asyncpg.Pool, count: int) -> list[User]:
    """Accounts, users and access tokens, as sign-up would leave them (no password use)."""
    users = []
    rows_accounts, rows_users, rows_tokens = [], [], []
    for n in range(count):
        account_id, user_id, token = new_id(), new_id(), secrets.token_urlsafe(32)
        username = f"rt{n}"
        uri = f"http://bench.invalid/users/{username}"
        rows_accounts.append((account_id, username, uri))
        rows_users.append((user_id, account_id, f"{username}@example.com"))
        rows_tokens.append((new_id(), hashlib.sha256(token.encode()).hexdigest(), user_id, SCOPES))
        users.append(User(account_id, username, token))
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            "INSERT INTO accounts (id, username, domain, uri) VALUES ($1, $2, '', $3)",
            rows_accounts,
        )
        await conn.executemany(
            """INSERT INTO users (id, account_id, email, password_hash, confirmed_at,
                   message_requests) VALUES ($1, $2, $3, 'unused', now(), false)""",
            rows_users,
        )
        await conn.executemany(
            "INSERT INTO oauth_tokens (id, token_hash, user_id, scopes) VALUES ($1, $2, $3, $4)",
            rows_tokens,
        )
    return users


def _key_of(message: dict) -> str | None:
    """What a measured event is about: the liked post of a notification, the latest message
    of a conversation."""
    payload = json.loads(message["payload"]) if message["payload"].startswith("{") else {}
    if message["event"] == "notification" and payload.get("type") == "favourite":
        return f"like:{payload['status']['id']}:{payload['account']['id']}"
    if message["event"] in ("conversation", "pinhole.conversation_request"):
        return f"dm:{payload['last_status']['id']}"
    return None


async def listen(user: User) -> None:
    assert user.ws is not None
    async for raw in user.ws:
        user.received += 1
        message = json.loads(raw)
        key = _key_of(message) if "event" in message else None
        if key is None:
            continue
        now = time.perf_counter()
        future = user.waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_result(now)
        else:
            user.arrivals[key] = now


async def open_streams(node: NodeProcess, users: list[User], public_share: float) -> float:
    started = time.perf_counter()
    base = node.url.replace("http://", "ws://") + "/api/v1/streaming"

    async def open_one(user: User, public: bool) -> None:
        user.ws = await connect(
            f"{base}?stream=user",
            additional_headers={"Authorization": f"Bearer {user.token}"},
            proxy=None,
            open_timeout=60,
            ping_interval=None,
        )
        await user.ws.send(json.dumps({"type": "subscribe", "stream": "direct"}))
        if public:
            await user.ws.send(json.dumps({"type": "subscribe", "stream": "public"}))
        user.listener = asyncio.create_task(listen(user))

    every = round(1 / public_share) if public_share else 0
    batch = 50
    for i in range(0, len(users), batch):
        await asyncio.gather(
            *(
                open_one(u, bool(every) and (i + j) % every == 0)
                for j, u in enumerate(users[i : i + batch])
            )
        )
    return time.perf_counter() - started


async def background_posts(
    client: httpx.AsyncClient, authors: list[User], rate: float, stop: asyncio.Event
) -> int:
    """Public posts at a steady rate: they stream to every `public` subscriber."""
    sent = 0
    while not stop.is_set() and rate > 0:
        author = random.choice(authors)
        await client.post(
            "/api/v1/statuses",
            data={"status": f"background {sent}"},
            headers={"Authorization": f"Bearer {author.token}"},
        )
        sent += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1 / rate)
    return sent


async def measure_like(
    client: httpx.AsyncClient, author: User, fan: User, post_id: str
) -> float | None:
    started = time.perf_counter()
    response = await client.post(
        f"/api/v1/statuses/{post_id}/favourite",
        headers={"Authorization": f"Bearer {fan.token}"},
    )
    response.raise_for_status()
    arrived = await author.arrival(f"like:{post_id}:{fan.account_id}")
    return None if arrived is None else arrived - started


async def measure_dm(client: httpx.AsyncClient, sender: User, recipient: User) -> float | None:
    started = time.perf_counter()
    response = await client.post(
        "/api/v1/statuses",
        data={"status": f"@{recipient.username} hello", "visibility": "direct"},
        headers={"Authorization": f"Bearer {sender.token}"},
    )
    response.raise_for_status()
    arrived = await recipient.arrival(f"dm:{response.json()['id']}")
    return None if arrived is None else arrived - started


def summary(samples: list[float | None]) -> dict[str, object]:
    got = sorted(s * 1000 for s in samples if s is not None)
    if not got:
        return {"samples": 0, "lost": len(samples)}

    def pct(p: float) -> float:
        return round(got[min(len(got) - 1, int(p * len(got)))], 1)

    return {
        "samples": len(got),
        "lost": len(samples) - len(got),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": round(got[-1], 1),
        "mean_ms": round(statistics.fmean(got), 1),
    }


def _services(own_postgres: bool) -> Services:
    """The shared local servers, or (own_postgres) a PostgreSQL of the bench's own, so that
    other work on the machine cannot take its connections."""
    if not own_postgres:
        return Services.start()
    embedded = EmbeddedServers()
    scratch = Path(tempfile.mkdtemp(prefix="pinhole-bench-realtime-"))
    admin_dsn = start_postgres(scratch, embedded, database="postgres")
    redis_url = Services.start().redis_url
    return Services(admin_dsn=admin_dsn, redis_url=redis_url, embedded=embedded)


async def run(args: argparse.Namespace) -> dict[str, object]:
    load_before = round(os.getloadavg()[0], 2)  # the machine is shared: say how busy it was
    services = _services(args.own_postgres)
    database_url = await services.create_database("pinhole_bench_realtime")
    node = NodeProcess.configure(database_url=database_url, redis_url=services.redis_url)
    node.start()
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    stop = asyncio.Event()
    users: list[User] = []
    try:
        users = await seed_users(pool, args.connections)
        connect_seconds = await open_streams(node, users, args.public_share)
        async with httpx.AsyncClient(
            base_url=node.url, timeout=30, limits=httpx.Limits(max_connections=20)
        ) as client:
            authors = users[: args.samples // 3 + 1]
            posts = {}
            for author in authors:
                response = await client.post(
                    "/api/v1/statuses",
                    data={"status": "like me", "visibility": "unlisted"},
                    headers={"Authorization": f"Bearer {author.token}"},
                )
                posts[author.account_id] = response.json()["id"]
            await asyncio.sleep(2)  # let the posts' own jobs finish
            background = asyncio.create_task(
                background_posts(client, users[-50:], args.public_rate, stop)
            )
            likes: list[float | None] = []
            dms: list[float | None] = []
            fans = users[len(authors) :]
            random.seed(7)
            started = time.perf_counter()
            for i in range(args.samples):
                author = authors[i % len(authors)]
                fan = fans[i % len(fans)]  # a new fan each time: a repeat like makes no event
                likes.append(await measure_like(client, author, fan, posts[author.account_id]))
                sender, recipient = random.sample(users, 2)
                dms.append(await measure_dm(client, sender, recipient))
                await asyncio.sleep(args.pause)
            elapsed = time.perf_counter() - started
            stop.set()
            public_posts = await background
        received = sum(u.received for u in users)
        return {
            "load_average_1m": {"before": load_before, "after": round(os.getloadavg()[0], 2)},
            "connections": args.connections,
            "public_subscribers": sum(
                1
                for i in range(args.connections)
                if args.public_share and i % round(1 / args.public_share) == 0
            ),
            "connect_seconds": round(connect_seconds, 2),
            "like_to_notification": summary(likes),
            "dm_to_conversation": summary(dms),
            "background_public_posts": public_posts,
            "events_received": received,
            "measure_seconds": round(elapsed, 1),
        }
    finally:
        stop.set()
        for user in users:
            if user.ws is not None:
                await user.ws.close()
        await pool.close()
        node.stop()
        await services.drop_databases()
        services.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=300, help="likes and DMs measured (each)")
    parser.add_argument(
        "--public-share", type=float, default=0.1, help="connections also on public"
    )
    parser.add_argument("--public-rate", type=float, default=5.0, help="background public posts/s")
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between samples")
    parser.add_argument(
        "--own-postgres", action="store_true", help="run an embedded PostgreSQL for the bench"
    )
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
