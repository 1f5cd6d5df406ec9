"""Feed benchmark: seeds a realistic graph into a bench database and Redis prefix, runs the real
web server (uvicorn, separate processes) and worker, and prints JSON figures: home feed latency
under a fixed offered load (open loop), saturation throughput against a floor measured in the
same run, the pull and rebuild paths, fan-out to 10,000 followers, and time until a new post
is visible.

    .venv/bin/python bench/feeds.py            # seeds once (a few minutes), then measures
    .venv/bin/python bench/feeds.py --reseed   # drop the bench database and seed again
    .venv/bin/python bench/feeds.py --drop     # remove the bench database and Redis keys

Needs PostgreSQL and Redis on 127.0.0.1 (or PINHOLE_TEST_DATABASE_URL / PINHOLE_TEST_REDIS_URL)
and, for saturation, `wrk` (apt-get install wrk); without it a Python closed loop is used.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve()
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import numpy as np  # noqa: E402

from tests.rig import Services, free_port  # noqa: E402

BENCH_DB = "pinhole_bench_feeds"
PREFIX = "benchfeeds:"
SEED_VERSION = 1
ACCOUNTS = 10_000
POSTS = 1_000_000
COMMENTS = 300_000
FAVOURITES = 2_000_000
BIG_FOLLOWERS = [9_999, 8_000, 7_000, 6_000, 5_500]  # ranks 0-4: pulled at the default threshold
DAYS = 180
PYTHON = sys.executable


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def token_for(index: int) -> str:
    return f"bench-token-{index:05d}"


# Seeding


def _ids(start_ms: np.ndarray, salt: np.ndarray) -> np.ndarray:
    return (start_ms.astype(np.int64) << 16) | (salt.astype(np.int64) & 0xFFFF)


def _sequence(from_ms: int, count: int) -> np.ndarray:
    """`count` distinct ids from a moment on (at most 60,000 per millisecond)."""
    k = np.arange(count)
    return _ids(from_ms + k // 60_000, k)


async def seed(conn: asyncpg.Connection) -> None:
    """Everything through COPY: accounts, users, tokens, a power-law follow graph, posts with
    albums, comments, hashtags and likes, all with consistent counters."""
    # Rows are made consistent here; skipping per-row foreign-key triggers makes COPY ~10x faster.
    await conn.execute("SET session_replication_role = replica")
    rng = np.random.default_rng(42)
    now_ms = int(time.time() * 1000)
    start_ms = now_ms - DAYS * 86_400_000
    n = ACCOUNTS
    account_ids = _ids(np.full(n, start_ms - 86_400_000) + np.arange(n), np.arange(n))
    user_ids = _ids(np.full(n, start_ms - 86_400_000 + n) + np.arange(n), np.arange(n))

    log("follow graph")
    followers_per_rank = np.minimum(n - 1, np.round(10_000 * (np.arange(n) + 1.0) ** -0.7))
    followers_per_rank[: len(BIG_FOLLOWERS)] = BIG_FOLLOWERS
    follow_pairs = []
    for rank in range(n):
        count = int(followers_per_rank[rank])
        chosen = rng.choice(n - 1, size=count, replace=False)
        chosen[chosen >= rank] += 1  # skip the account itself
        follow_pairs.append(np.stack([chosen, np.full(count, rank)], axis=1))
    follows = np.concatenate(follow_pairs)
    following_count = np.bincount(follows[:, 0], minlength=n)
    followers_count = np.bincount(follows[:, 1], minlength=n)

    log("posts")
    weights = (np.arange(n) + 1.0) ** -0.5
    authors = rng.choice(n, size=POSTS, p=weights / weights.sum())
    post_ms = np.sort(rng.integers(start_ms, now_ms - 60_000, size=POSTS))
    post_ids = _ids(post_ms, np.arange(POSTS))
    visibility = rng.choice(
        np.array(["public", "unlisted", "private"]), size=POSTS, p=[0.92, 0.05, 0.03]
    )
    comment_parent = np.sort(rng.integers(0, POSTS, size=COMMENTS))
    comment_ms = np.minimum(
        post_ms[comment_parent] + rng.integers(1, 3 * 86_400_000, COMMENTS), now_ms - 1000
    )
    order = np.argsort(comment_ms)
    comment_parent, comment_ms = comment_parent[order], comment_ms[order]
    comment_ids = _ids(comment_ms, np.arange(COMMENTS) + POSTS)
    comment_authors = rng.choice(n, size=COMMENTS, p=weights / weights.sum())
    replies_count = np.bincount(comment_parent, minlength=POSTS)

    fav_posts = rng.integers(0, POSTS, size=FAVOURITES)
    fav_accounts = rng.integers(0, n, size=FAVOURITES)
    unique = np.unique(fav_accounts.astype(np.int64) * POSTS + fav_posts)
    fav_accounts, fav_posts = unique // POSTS, unique % POSTS
    favourites_count = np.bincount(fav_posts, minlength=POSTS)

    statuses_count = np.bincount(authors, minlength=n) + np.bincount(comment_authors, minlength=n)
    last_ms = np.zeros(n, dtype=np.int64)
    np.maximum.at(last_ms, authors, post_ms)
    np.maximum.at(last_ms, comment_authors, comment_ms)

    def ts(ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, UTC)

    private_key = "-----BEGIN PRIVATE KEY-----\n" + "M" * 1620 + "\n-----END PRIVATE KEY-----\n"
    public_key = "-----BEGIN PUBLIC KEY-----\n" + "M" * 392 + "\n-----END PUBLIC KEY-----\n"
    base = "http://bench.example"
    log("copy accounts, users, tokens")
    await conn.copy_records_to_table(
        "accounts",
        columns=[
            "id",
            "username",
            "display_name",
            "note",
            "uri",
            "url",
            "inbox_url",
            "outbox_url",
            "followers_url",
            "following_url",
            "public_key_pem",
            "private_key_pem",
            "key_id",
            "followers_count",
            "following_count",
            "statuses_count",
            "last_status_at",
            "created_at",
        ],
        records=[
            (
                int(account_ids[i]),
                f"user{i}",
                f"User {i}",
                f"<p>Photos by user {i}</p>",
                f"{base}/users/user{i}",
                f"{base}/@user{i}",
                f"{base}/users/user{i}/inbox",
                f"{base}/users/user{i}/outbox",
                f"{base}/users/user{i}/followers",
                f"{base}/users/user{i}/following",
                public_key,
                private_key,
                f"{base}/users/user{i}#main-key",
                int(followers_count[i]),
                int(following_count[i]),
                int(statuses_count[i]),
                ts(int(last_ms[i])) if last_ms[i] else None,
                ts(start_ms - 86_400_000),
            )
            for i in range(n)
        ],
    )
    await conn.copy_records_to_table(
        "users",
        columns=["id", "account_id", "email", "password_hash", "confirmed_at", "last_active_at"],
        records=[
            (
                int(user_ids[i]),
                int(account_ids[i]),
                f"user{i}@bench.example",
                "x",
                ts(start_ms),
                ts(now_ms),
            )
            for i in range(n)
        ],
    )
    app_id = int(_ids(np.array([start_ms - 86_400_000 - 1]), np.array([0]))[0])
    await conn.execute(
        """INSERT INTO oauth_apps (id, name, redirect_uris, scopes, client_id, client_secret)
           VALUES ($1, 'bench', 'urn:ietf:wg:oauth:2.0:oob', 'read write follow', 'bench', 'bench')""",
        app_id,
    )
    await conn.copy_records_to_table(
        "oauth_tokens",
        columns=["id", "token_hash", "app_id", "user_id", "scopes"],
        records=[
            (
                int(user_ids[i]) + 1,
                hashlib.sha256(token_for(i).encode()).hexdigest(),
                app_id,
                int(user_ids[i]),
                "read write follow",
            )
            for i in range(n)
        ],
    )
    log(f"copy {len(follows)} follows")
    follow_ids = _sequence(start_ms - 43_200_000, len(follows))
    await conn.copy_records_to_table(
        "follows",
        columns=["id", "account_id", "target_account_id"],
        records=zip(
            follow_ids.tolist(),
            account_ids[follows[:, 0]].tolist(),
            account_ids[follows[:, 1]].tolist(),
            strict=True,
        ),
    )
    log("copy posts and comments")
    captions = [
        f"Golden hour, frame {k}. Shot on a walk by the harbour, light through the clouds."
        for k in range(100)
    ]

    def post_rows():
        for k in range(POSTS):
            author = int(authors[k])
            pid = int(post_ids[k])
            text = captions[k % 100]
            yield (
                pid,
                int(account_ids[author]),
                f"{base}/users/user{author}/statuses/{pid}",
                f"{base}/@user{author}/{pid}",
                True,
                f"<p>{text}</p>",
                text,
                str(visibility[k]),
                None,
                None,
                pid,
                int(replies_count[k]),
                int(favourites_count[k]),
                ts(int(post_ms[k])),
            )
        for k in range(COMMENTS):
            author = int(comment_authors[k])
            cid, parent = int(comment_ids[k]), int(comment_parent[k])
            yield (
                cid,
                int(account_ids[author]),
                f"{base}/users/user{author}/statuses/{cid}",
                f"{base}/@user{author}/{cid}",
                True,
                "<p>Lovely shot!</p>",
                "Lovely shot!",
                "public",
                int(post_ids[parent]),
                int(account_ids[authors[parent]]),
                int(post_ids[parent]),
                0,
                0,
                ts(int(comment_ms[k])),
            )

    await conn.copy_records_to_table(
        "posts",
        columns=[
            "id",
            "account_id",
            "uri",
            "url",
            "local",
            "content",
            "text",
            "visibility",
            "in_reply_to_id",
            "in_reply_to_account_id",
            "conversation_id",
            "replies_count",
            "favourites_count",
            "created_at",
        ],
        records=post_rows(),
    )
    log("copy media, tags, likes")
    album = 1 + (rng.random(POSTS) < 0.3) + (rng.random(POSTS) < 0.1)
    media_post = np.repeat(np.arange(POSTS), album)
    media_pos = np.arange(len(media_post)) - np.repeat(np.cumsum(album) - album, album)
    media_ids = _sequence(start_ms - 3 * 86_400_000, len(media_post))

    def media_rows():
        for k in range(len(media_post)):
            p = int(media_post[k])
            key = hashlib.sha1(f"{p}-{k}".encode()).hexdigest()
            renditions = json.dumps(
                {
                    "original": {"key": f"{key}/original.jpg", "width": 4000, "height": 3000},
                    "large": {"key": f"{key}/large.webp", "width": 2048, "height": 1536},
                    "small": {"key": f"{key}/small.webp", "width": 640, "height": 480},
                    "thumbnail": {"key": f"{key}/thumb.webp", "width": 320, "height": 320},
                }
            )
            yield (
                int(media_ids[k]),
                int(account_ids[authors[p]]),
                int(post_ids[p]),
                int(media_pos[k]),
                "image",
                "ready",
                "A harbour at dusk",
                "image/jpeg",
                2_400_000,
                key,
                renditions,
                "LKO2?U%2Tw=w]~RBVZRi};RPxuwH",
                4000,
                3000,
            )

    await conn.copy_records_to_table(
        "media_attachments",
        columns=[
            "id",
            "account_id",
            "post_id",
            "position",
            "type",
            "state",
            "description",
            "mime_type",
            "file_size",
            "sha256",
            "renditions",
            "blurhash",
            "width",
            "height",
        ],
        records=media_rows(),
    )
    tag_names = [f"tag{t}" for t in range(2000)]
    tag_ids = _ids(np.full(2000, start_ms - 86_400_000 + 2 * n) + np.arange(2000), np.arange(2000))
    await conn.copy_records_to_table(
        "tags",
        columns=["id", "name", "display_name"],
        records=[(int(tag_ids[t]), tag_names[t], tag_names[t]) for t in range(2000)],
    )
    tagged = np.flatnonzero(rng.random(POSTS) < 0.25)
    tag_w = (np.arange(2000) + 1.0) ** -1.0
    pairs = np.unique(
        np.concatenate(
            [
                tagged.astype(np.int64) * 2000
                + rng.choice(2000, size=len(tagged), p=tag_w / tag_w.sum()),
                tagged[: len(tagged) // 2].astype(np.int64) * 2000
                + rng.integers(0, 2000, len(tagged) // 2),
            ]
        )
    )
    await conn.copy_records_to_table(
        "post_tags",
        columns=["post_id", "tag_id"],
        records=zip(post_ids[pairs // 2000].tolist(), tag_ids[pairs % 2000].tolist(), strict=True),
    )
    await conn.copy_records_to_table(
        "favourites",
        columns=["id", "account_id", "post_id"],
        records=zip(
            _sequence(start_ms - 2 * 86_400_000, len(fav_posts)).tolist(),
            account_ids[fav_accounts].tolist(),
            post_ids[fav_posts].tolist(),
            strict=True,
        ),
    )
    await conn.execute("SET session_replication_role = DEFAULT")
    log("vacuum analyze")
    await conn.execute("VACUUM ANALYZE")
    await conn.execute(
        "CREATE TABLE bench_seed (version integer NOT NULL, seeded_at timestamptz DEFAULT now())"
    )
    await conn.execute("INSERT INTO bench_seed (version) VALUES ($1)", SEED_VERSION)


# The bench database and Redis prefix, made once and reused


def node_env(services: Services, database_url: str, port: int, data_dir: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("PINHOLE_")},
        "PINHOLE_HOST": "127.0.0.1",
        "PINHOLE_PORT": str(port),
        "PINHOLE_DATABASE_URL": database_url,
        "PINHOLE_REDIS_URL": services.redis_url,
        "PINHOLE_REDIS_PREFIX": PREFIX,
        "PINHOLE_QUEUE_NAME": PREFIX + "queue",
        "PINHOLE_DATA_DIR": str(data_dir),
        "PINHOLE_SECRET_KEY": "bench-secret-key-not-for-production-use-000000",
        "PINHOLE_HTTPS": "false",
        "PYTHONPATH": str(ROOT),
    }


async def prepare_database(services: Services, reseed: bool) -> str:
    database_url = services.database_url(BENCH_DB)
    admin = await asyncpg.connect(services.admin_dsn)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", BENCH_DB)
        if exists and reseed:
            await admin.execute(f'DROP DATABASE "{BENCH_DB}" WITH (FORCE)')
            exists = False
        if not exists:
            await admin.execute(f'CREATE DATABASE "{BENCH_DB}"')
    finally:
        await admin.close()
    from node import db

    db.configure_database(database_url)
    with contextlib.redirect_stdout(sys.stderr):  # stdout is the JSON report
        await db.migrate()
    conn = await asyncpg.connect(database_url)
    try:
        seeded = await conn.fetchval(
            "SELECT version FROM bench_seed"
            if await conn.fetchval("SELECT to_regclass('bench_seed') IS NOT NULL")
            else "SELECT NULL"
        )
        if seeded != SEED_VERSION:
            if seeded is not None:
                raise SystemExit("the bench database is from another seed version: use --reseed")
            started = time.perf_counter()
            await seed(conn)
            log(f"seeded in {time.perf_counter() - started:.0f} s")
        # Active users: everyone read their feed just now (the bench marks some inactive later).
        await conn.execute("UPDATE users SET last_active_at = now()")
        await conn.execute(
            """INSERT INTO feed_pulled_authors (account_id, local_followers, since_id)
               SELECT a.id, a.followers_count, 0 FROM accounts a
               WHERE a.followers_count > 5000 ON CONFLICT (account_id) DO NOTHING"""
        )
    finally:
        await conn.close()
    return database_url


async def build_feeds(reseed: bool) -> None:
    """Every user's Redis feed, rebuilt from PostgreSQL (what reads would do), once — and again
    when an earlier run left its probe posts (fan-out, time to visible) at the top of the feeds:
    every run reads the seeded feeds, not the same few probes."""
    from node import db
    from node.redis import redis
    from timeline.home import rebuild

    client = redis()
    marker = PREFIX + "bench:feeds-built"
    probes = await db.execute(
        "DELETE FROM posts WHERE text LIKE 'fan-out probe %' OR text LIKE 'visible probe %'"
    )
    if reseed or probes != "DELETE 0":
        async for stale in client.scan_iter(match=f"{PREFIX}*", count=5000):
            await client.delete(stale)
    if await client.get(marker):
        return
    ids = [r["id"] for r in await db.fetch("SELECT account_id AS id FROM users ORDER BY id")]
    started = time.perf_counter()
    queue = list(ids)

    async def worker() -> None:
        while queue:
            await rebuild(queue.pop())

    await asyncio.gather(*(worker() for _ in range(8)))
    await client.set(marker, b"1")
    log(f"built {len(ids)} feeds in {time.perf_counter() - started:.0f} s")


# Processes: web servers, the worker, and the floor


class Processes:
    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.running: list[subprocess.Popen] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log_file = (self.scratch / f"{name}.log").open("ab")
        process = subprocess.Popen(
            args, env=env, cwd=self.scratch, stdout=log_file, stderr=subprocess.STDOUT
        )
        self.running.append(process)
        return process

    def stop_some(self, stopping: list[subprocess.Popen]) -> None:
        for process in stopping:
            process.terminate()
        for process in stopping:
            process.wait(timeout=15)

    def stop(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.terminate()
        for process in self.running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for(url: str, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def serve_floor(port: int) -> None:
    """The floor: the same JSON from memory, and a minimal feed (one Redis read, one asyncpg
    query, msgspec) — what a feed endpoint cannot go below on this machine."""
    import msgspec
    import uvicorn
    from litestar import Litestar, Request, Response, get

    from node import db
    from node.redis import redis
    from node.settings import get_settings

    encode = msgspec.json.Encoder().encode
    page = (Path(os.environ["BENCH_FLOOR_PAGE"])).read_bytes()
    query = """SELECT p.id, p.content, p.created_at, p.favourites_count, a.username,
                      a.display_name FROM posts p JOIN accounts a ON a.id = p.account_id
               WHERE p.id = ANY($1::bigint[]) ORDER BY p.id DESC"""

    @get("/floor/static")
    async def static() -> Response:
        return Response(content=page, media_type="application/json")

    @get("/floor/minimal")
    async def minimal(request: Request) -> Response:
        account = request.query_params["u"]
        ids = await redis().zrevrangebyscore(
            f"{get_settings().redis_prefix}feed:home:{account}", "+inf", "(0", start=0, num=20
        )
        rows = await db.fetch(query, [int(i) for i in ids])
        return Response(
            content=encode(
                [
                    {
                        "id": str(r["id"]),
                        "content": r["content"],
                        "created_at": r["created_at"],
                        "favourites_count": r["favourites_count"],
                        "account": {"username": r["username"], "display_name": r["display_name"]},
                    }
                    for r in rows
                ]
            ),
            media_type="application/json",
        )

    async def lifespan(_app):
        await db.open_pool(min_size=2, max_size=10)
        yield
        await db.close_pool()

    from contextlib import asynccontextmanager

    app = Litestar(
        [static, minimal],
        lifespan=[asynccontextmanager(lifespan)],
        openapi_config=None,
        signature_namespace={"Request": Request, "Response": Response},
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# Load generators


class Client:
    """A minimal keep-alive HTTP/1.1 client: cheap enough not to be the bottleneck."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int) -> Client:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def send(self, raw: bytes) -> int:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def raw_get(path: str, token: str | None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n".encode()


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {
        "p50_ms": at(0.5),
        "p90_ms": at(0.9),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


async def open_loop(
    ports: list[int], requests: list[bytes], rate: float, seconds: float, connections: int = 64
) -> dict[str, object]:
    """Fixed offered load: request k is due at start + k/rate whether or not earlier ones have
    answered; latency counts from when it was due (no coordinated omission)."""
    idle: asyncio.Queue[tuple[Client, int]] = asyncio.Queue()
    clients = []
    for c in range(connections):
        port = ports[c % len(ports)]
        client = await Client.connect(port)
        clients.append(client)
        idle.put_nowait((client, port))
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    lags: list[float] = []
    statuses: dict[int, int] = {}
    total = int(rate * seconds)
    start = loop.time() + 0.05

    async def one(k: int, due: float) -> None:
        client, port = await idle.get()
        sent = loop.time()
        status = await client.send(requests[k % len(requests)])
        done = loop.time()
        latencies.append(done - due)
        lags.append(sent - due)
        statuses[status] = statuses.get(status, 0) + 1
        idle.put_nowait((client, port))

    tasks = []
    for k in range(total):
        due = start + k / rate
        wait = due - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(one(k, due)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    for client in clients:
        client.close()
    return {
        "offered_rps": rate,
        "achieved_rps": round(total / elapsed, 1),
        "requests": total,
        "statuses": statuses,
        **percentiles(latencies),
        "queued_p99_ms": percentiles(lags).get("p99_ms"),
    }


async def closed_loop(
    ports: list[int], requests: list[bytes], seconds: float, connections: int = 32
) -> dict[str, object]:
    """Saturation without wrk: each connection sends its next request as soon as it may."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = loop.time() + seconds
    counter = iter(range(10**9))

    async def run(c: int) -> None:
        client = await Client.connect(ports[c % len(ports)])
        while loop.time() < deadline:
            sent = loop.time()
            status = await client.send(requests[next(counter) % len(requests)])
            latencies.append(loop.time() - sent)
            statuses[status] = statuses.get(status, 0) + 1
        client.close()

    started = loop.time()
    await asyncio.gather(*(run(c) for c in range(connections)))
    return {
        "rps": round(len(latencies) / (loop.time() - started), 1),
        "statuses": statuses,
        "generator": "python",
        **percentiles(latencies),
    }


WRK_SCRIPT = r"""
local lines = {}
local i = 0
init = function(args)
  for line in io.lines(args[1]) do lines[#lines + 1] = line end
  i = math.random(#lines)
end
request = function()
  i = i % #lines + 1
  local path, token = lines[i]:match("^(%S+)%s+(%S+)$")
  if token == "-" then return wrk.format("GET", path) end
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end
done = function(summary, latency, requests)
  io.write(string.format('WRK {"requests": %d, "duration_us": %d, "non_2xx": %d, "errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


async def saturate(
    scratch: Path, ports: list[int], lines: list[str], seconds: float, connections: int = 32
) -> dict[str, object]:
    """Closed-loop maximum throughput: wrk (C, two threads) per web port, summed."""
    wrk = shutil.which("wrk")
    if wrk is None:
        requests = [
            raw_get(*line.split(" ")) if not line.endswith(" -") else raw_get(line[:-2], None)
            for line in lines
        ]
        return await closed_loop(ports, requests, seconds, connections)
    script = scratch / "feeds.lua"
    script.write_text(WRK_SCRIPT)
    data = scratch / "lines.txt"
    data.write_text("\n".join(lines) + "\n")
    runs = [
        await asyncio.create_subprocess_exec(
            wrk,
            "-t1",
            f"-c{connections // len(ports)}",
            f"-d{max(1, round(seconds))}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
            "--",
            str(data),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for port in ports
    ]
    results = []
    for run in runs:
        out, _ = await run.communicate()
        for line in out.decode().splitlines():
            if line.startswith("WRK "):
                results.append(json.loads(line[4:]))
    if not results:
        raise RuntimeError(f"wrk gave no figures; its output: {out.decode()[-500:]}")
    rps = sum(r["requests"] / (r["duration_us"] / 1e6) for r in results)
    return {
        "rps": round(rps, 1),
        "non_2xx": sum(r["non_2xx"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "p50_ms": round(max(r["p50_us"] for r in results) / 1000, 2),
        "p99_ms": round(max(r["p99_us"] for r in results) / 1000, 2),
        "generator": f"wrk, {connections} connections",
    }


# Measurements


async def pick_users() -> dict[str, list[tuple[int, str]]]:
    """(account id, token) of the readers each scenario uses, disjoint."""
    from node import db

    rows = await db.fetch(
        "SELECT id, substring(username FROM 5)::int AS rank FROM accounts ORDER BY rank"
    )
    by_rank = {r["rank"]: r["id"] for r in rows}
    big = [by_rank[r] for r in range(len(BIG_FOLLOWERS))]
    pull_rows = await db.fetch(
        """SELECT account_id FROM follows WHERE target_account_id = ANY($1::bigint[])
           GROUP BY account_id HAVING count(*) = $2 ORDER BY account_id LIMIT 500""",
        big,
        len(big),
    )
    rank_of = {v: k for k, v in by_rank.items()}
    pull = [(r["account_id"], token_for(rank_of[r["account_id"]])) for r in pull_rows]
    taken = {a for a, _ in pull}
    rest = [r for r in range(100, ACCOUNTS) if by_rank[r] not in taken]
    rng = np.random.default_rng(7)
    rng.shuffle(rest)
    active = [(by_rank[r], token_for(r)) for r in rest[:2000]]
    inactive = [(by_rank[r], token_for(r)) for r in rest[2000:3000]]
    author = 50
    follower = await db.fetchval(
        """SELECT f.account_id FROM follows f WHERE f.target_account_id = $1
             AND f.account_id = ANY($2::bigint[]) LIMIT 1""",
        by_rank[author],
        [a for a, _ in active],
    )
    return {
        "active": active,
        "pull": pull,
        "inactive": inactive,
        "author": [(by_rank[author], token_for(author))],
        "follower": [(follower, token_for(rank_of[follower]))],
        "top": [(by_rank[0], token_for(0))],
    }


async def fan_out_to_everyone(top_account: int) -> dict[str, object]:
    """Push posts by the account followed by every other (9,999 followers + its own feed), with
    the threshold raised so that it is pushed, not pulled."""
    from node import db
    from node.ids import new_id
    from node.settings import get_settings, use_settings
    from timeline import fanout, store

    settings = get_settings()
    use_settings(replace(settings, feed_push_threshold=1_000_000))
    totals, feeds = [], 0
    try:
        for k in range(5):
            post_id = new_id()
            await db.execute(
                """INSERT INTO posts (id, account_id, content, text, visibility)
                   VALUES ($1, $2, $3, $3, 'public')""",
                post_id,
                top_account,
                f"fan-out probe {k}",
            )
            result = await fanout.fan_out_post(post_id)
            totals.append(result.seconds)
            feeds = result.feeds
        followers = [
            r["account_id"]
            for r in await db.fetch(
                "SELECT account_id FROM follows WHERE target_account_id = $1", top_account
            )
        ]
        started = time.perf_counter()
        await store.push([new_id()], followers)
        lua_only = time.perf_counter() - started
    finally:
        use_settings(settings)
    return {
        "followers": len(followers),
        "feeds_pushed": feeds,
        "runs": len(totals),
        "p50_ms": round(statistics.median(totals) * 1000, 1),
        "max_ms": round(max(totals) * 1000, 1),
        "redis_lua_push_only_ms": round(lua_only * 1000, 1),
    }


async def time_to_visible(
    port: int, author: tuple[int, str], follower: tuple[int, str]
) -> dict[str, object]:
    """A post through the API, then the follower's home feed polled until it shows it."""
    import httpx

    samples = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        for k in range(5):
            started = time.perf_counter()
            response = await http.post(
                "/api/v1/statuses",
                data={"status": f"visible probe {k} {time.time()}"},
                headers={"Authorization": f"Bearer {author[1]}"},
            )
            post_id = response.json()["id"]
            while True:
                page = await http.get(
                    "/api/v1/timelines/home",
                    params={"limit": 5},
                    headers={"Authorization": f"Bearer {follower[1]}"},
                )
                if any(s["id"] == post_id for s in page.json()):
                    break
                if time.perf_counter() - started > 10:
                    raise RuntimeError("post not visible within 10 s")
                await asyncio.sleep(0.005)
            samples.append(time.perf_counter() - started)
            await asyncio.sleep(0.2)
    return {
        "runs": len(samples),
        **{k: v for k, v in percentiles(samples).items() if k in ("p50_ms", "max_ms")},
    }


async def make_inactive(users: list[tuple[int, str]]) -> None:
    """These users left a month ago: no longer active, their feeds expired."""
    from node import db
    from node.redis import redis

    ids = [a for a, _ in users]
    await db.execute(
        "UPDATE users SET last_active_at = now() - interval '30 days' WHERE account_id = ANY($1::bigint[])",
        ids,
    )
    await redis().delete(
        *[f"{PREFIX}feed:home:{a}" for a in ids], *[f"{PREFIX}feed:active:{a}" for a in ids]
    )


def home_lines(users: list[tuple[int, str]]) -> list[str]:
    return [f"/api/v1/timelines/home {token}" for _, token in users]


async def run(args: argparse.Namespace) -> dict[str, object]:
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    services = Services.start()
    scratch = Path(tempfile.mkdtemp(prefix="pinhole-bench-feeds-"))
    processes = Processes(scratch)
    try:
        database_url = await prepare_database(services, args.reseed)
        web_ports = [free_port() for _ in range(args.web)]
        floor_ports = [free_port() for _ in range(args.web)]
        env = node_env(services, database_url, web_ports[0], scratch)
        from node import db
        from node.settings import Settings, use_settings

        use_settings(Settings.from_env(env).with_secret_key())
        db.configure_database(database_url)
        await db.open_pool(min_size=2, max_size=8)
        await build_feeds(args.reseed)
        users = await pick_users()

        for port in web_ports:
            processes.start(
                f"web-{port}",
                [PYTHON, "-m", "node.cli", "web", "--port", str(port)],
                {**env, "PINHOLE_DOMAIN": f"127.0.0.1:{web_ports[0]}"},
            )
        processes.start("worker", [PYTHON, "-m", "node.cli", "worker"], env)
        for port in web_ports:
            wait_for(f"http://127.0.0.1:{port}/health/live")
        log(f"web processes on {web_ports}; home feed with cold caches (also the warm-up)")
        active = home_lines(users["active"])
        active_raw = [raw_get("/api/v1/timelines/home", t) for _, t in users["active"]]
        # Fresh processes render every post of a page and PostgreSQL reads pages it has not
        # cached: measured once, it warms both for the steady state measured below.
        home_cold = await saturate(scratch, web_ports, active, args.seconds)

        import httpx

        async with httpx.AsyncClient() as http:
            sample = await http.get(
                f"http://127.0.0.1:{web_ports[0]}/api/v1/timelines/home",
                headers={"Authorization": f"Bearer {users['active'][0][1]}"},
            )
        page_file = scratch / "page.json"
        page_file.write_bytes(sample.content)
        floors = [
            processes.start(
                f"floor-{port}",
                [PYTHON, str(SCRIPT), "--serve-floor", str(port)],
                {**env, "BENCH_FLOOR_PAGE": str(page_file)},
            )
            for port in floor_ports
        ]
        for port in floor_ports:
            wait_for(f"http://127.0.0.1:{port}/floor/static")

        seconds = args.seconds
        log("saturation: floor (static JSON, minimal feed) and home feed")
        static = await saturate(scratch, floor_ports, ["/floor/static -"] * 10, seconds)
        minimal = await saturate(
            scratch, floor_ports, [f"/floor/minimal?u={a} -" for a, _ in users["active"]], seconds
        )
        processes.stop_some(floors)  # their connections go back to PostgreSQL
        # The app's fixed cost of an authenticated API request (token, rate limit, middleware)
        # with one account rendered: what every endpoint pays before its own work.
        authed = await saturate(
            scratch,
            web_ports,
            [f"/api/v1/accounts/verify_credentials {t}" for _, t in users["active"]],
            seconds,
        )
        home_sat = await saturate(scratch, web_ports, active, seconds)
        pull_sat = await saturate(scratch, web_ports, home_lines(users["pull"]), seconds)
        log(f"fixed rate {args.rate}/s: home feed (active users, then pull path)")
        home_fixed = await open_loop(web_ports, active_raw, args.rate, seconds * 1.5)
        # Above saturation an open loop only measures the queue: also at half the saturation.
        half = max(10, round(home_sat["rps"] / 2))
        home_half = await open_loop(web_ports, active_raw, half, seconds)
        pull_fixed = await open_loop(
            web_ports,
            [raw_get("/api/v1/timelines/home", t) for _, t in users["pull"]],
            args.rate,
            seconds,
        )
        log("rebuild path: returning inactive users")
        await make_inactive(users["inactive"])
        rebuild_fixed = await open_loop(
            web_ports,
            [raw_get("/api/v1/timelines/home", t) for _, t in users["inactive"]],
            100,
            len(users["inactive"]) / 100,
        )
        log("fan-out and time to visible")
        fan_out = await fan_out_to_everyone(users["top"][0][0])
        visible = await time_to_visible(web_ports[0], users["author"][0], users["follower"][0])
        counts = await db.fetchrow(
            """SELECT (SELECT count(*) FROM accounts) AS accounts,
                      (SELECT count(*) FROM posts WHERE in_reply_to_id IS NULL) AS posts,
                      (SELECT count(*) FROM posts WHERE in_reply_to_id IS NOT NULL) AS comments,
                      (SELECT count(*) FROM favourites) AS likes,
                      (SELECT count(*) FROM follows) AS follows,
                      (SELECT count(*) FROM media_attachments) AS media,
                      (SELECT max(followers_count) FROM accounts) AS max_followers"""
        )
        await db.close_pool()
        ratio = round(home_sat["rps"] / minimal["rps"], 2) if minimal.get("rps") else None
        return {
            "load_average_at_start": load_at_start,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "machine": {
                "cores": os.cpu_count(),
                "web_processes": args.web,
                "worker_processes": 1,
                "note": "app, PostgreSQL, Redis and the load generator share the machine; a load "
                "average above the core count means other work competed for it",
            },
            "dataset": dict(counts),
            "authenticated_request_baseline_verify_credentials": authed,
            "floor": {
                "static_json_from_memory": static,
                "minimal_feed_redis_plus_one_query": minimal,
            },
            "home_feed": {
                "saturation": home_sat,
                "saturation_right_after_start_cold_caches": home_cold,
                "ratio_to_minimal_feed": ratio,
                f"fixed_rate_{args.rate}_rps": home_fixed,
                "fixed_rate_half_saturation": home_half,
            },
            "pull_path_following_5_big_accounts": {
                "saturation": pull_sat,
                f"fixed_rate_{args.rate}_rps": pull_fixed,
            },
            "rebuild_path_returning_inactive_users": {"fixed_rate_100_rps": rebuild_fixed},
            "fan_out_to_all_followers_of_the_top_account": fan_out,
            "post_visible_to_a_follower": visible,
            "targets": {
                "home_p99_under_20ms_at_fixed_rate": home_fixed.get("p99_ms", 1e9) < 20,
                "saturation_at_least_1500_rps": home_sat["rps"] >= 1500,
                "saturation_at_least_40pct_of_minimal": (ratio or 0) >= 0.4,
                "rebuild_p99_under_50ms": rebuild_fixed.get("p99_ms", 1e9) < 50,
                "fan_out_10k_under_150ms": fan_out["p50_ms"] < 150,
                "post_visible_under_1s": visible["max_ms"] < 1000,
            },
        }
    finally:
        processes.stop()
        services.stop()


async def drop() -> None:
    """Remove the bench database and the bench's Redis keys."""
    import redis.asyncio as aioredis

    services = Services.start()
    try:
        admin = await asyncpg.connect(services.admin_dsn)
        await admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        await admin.close()
        client = aioredis.Redis.from_url(services.redis_url)
        async for stale in client.scan_iter(match=f"{PREFIX}*", count=5000):
            await client.delete(stale)
        await client.aclose()
    finally:
        services.stop()
    log("bench data removed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reseed", action="store_true", help="drop the bench data and seed again")
    parser.add_argument(
        "--web", type=int, default=2, help="web processes (default 2: one per core)"
    )
    parser.add_argument("--rate", type=int, default=500, help="fixed offered load, requests/s")
    parser.add_argument("--seconds", type=float, default=10, help="length of each load run")
    parser.add_argument("--drop", action="store_true", help="remove the bench data and stop")
    parser.add_argument("--serve-floor", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_floor:
        serve_floor(args.serve_floor)
        return
    if args.drop:
        asyncio.run(drop())
        return
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(run(args)), indent=2, default=str))


if __name__ == "__main__":
    main()
