"""Rate limits as clients meet them, with two web processes sharing one database and one Redis
prefix: the budget is the node's, not each process's."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
from redis.asyncio import Redis

from node import ratelimit
from node.ids import new_id
from tests.rig import NodeProcess, Services, register_app, sign_up

LIMITS = {
    "PINHOLE_RATE_LIMIT_ENABLED": "true",
    "PINHOLE_RATE_LIMIT_API": "10/1h",
    "PINHOLE_RATE_LIMIT_FEEDS": "3/1h",
    "PINHOLE_RATE_LIMIT_SIGN_UP": "3/1h",
    "PINHOLE_RATE_LIMIT_SIGN_IN": "1000/1h",
    "PINHOLE_RATE_LIMIT_INBOX": "2/1h",
}


class Pair:
    """Two `pinhole run` processes on one database and one Redis prefix."""

    def __init__(self, first: NodeProcess, second: NodeProcess, redis_url: str) -> None:
        self.first, self.second = first, second
        self.prefix = first.env["PINHOLE_REDIS_PREFIX"]
        self.redis_url = redis_url

    async def forget_limits(self) -> None:
        client = Redis.from_url(self.redis_url)
        try:
            async for key in client.scan_iter(match=f"{self.prefix}ratelimit:*", count=1000):
                await client.delete(key)
        finally:
            await client.aclose()

    async def user_token(self, username: str) -> str:
        async with httpx.AsyncClient(base_url=self.first.url, timeout=30) as http:
            token = (await sign_up(http, username))["access_token"]
        await self.forget_limits()
        return token


@pytest.fixture(scope="module")
async def pair(services: Services) -> AsyncIterator[Pair]:
    database_url = await services.create_database()
    shared = {
        **LIMITS,
        "PINHOLE_REDIS_PREFIX": f"rl{os.getpid()}:",
        "PINHOLE_QUEUE_NAME": f"rl{os.getpid()}:queue",
    }
    first = NodeProcess.configure(
        database_url=database_url, redis_url=services.redis_url, extra_env=shared
    )
    second = NodeProcess.configure(
        database_url=database_url, redis_url=services.redis_url, extra_env=shared
    )
    first.start()
    second.start()
    yield Pair(first, second, services.redis_url)
    first.stop()
    second.stop()


def client(node: NodeProcess, token: str | None = None, **kwargs) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(base_url=node.url, timeout=30, headers=headers, **kwargs)


async def test_429_arrives_exactly_after_the_budget_across_two_processes(pair):
    token = await pair.user_token("walker")
    async with client(pair.first, token) as a, client(pair.second, token) as b:
        for spent in range(1, 11):
            response = await (a if spent % 2 else b).get("/api/v1/accounts/verify_credentials")
            assert response.status_code == 200, (spent, response.text)
            assert response.headers["X-RateLimit-Limit"] == "10"
            assert response.headers["X-RateLimit-Remaining"] == str(10 - spent)
        for over in (b, a):
            refused = await over.get("/api/v1/accounts/verify_credentials")
            assert refused.status_code == 429
            assert refused.json() == {"error": "Too many requests"}
            # One token comes back every 360 s (10 per hour).
            assert 300 < int(refused.headers["Retry-After"]) <= 360
            assert refused.headers["X-RateLimit-Remaining"] == "0"
            assert refused.headers["X-RateLimit-Limit"] == "10"
            reset = datetime.fromisoformat(refused.headers["X-RateLimit-Reset"])
            assert reset.tzinfo is not None


async def test_concurrent_requests_never_exceed_the_budget(pair):
    token = await pair.user_token("rusher")
    async with client(pair.first, token) as a, client(pair.second, token) as b:
        responses = await asyncio.gather(
            *((a if n % 2 else b).get("/api/v1/accounts/verify_credentials") for n in range(30))
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 10 + [429] * 20


async def test_feed_reads_have_their_own_smaller_budget(pair):
    token = await pair.user_token("reader")
    async with client(pair.first, token) as a, client(pair.second, token) as b:
        for n in range(3):
            response = await (a, b)[n % 2].get("/api/v1/timelines/public")
            assert response.status_code == 200, response.text
        refused = await a.get("/api/v1/timelines/public")
        assert refused.status_code == 429
        assert refused.headers["X-RateLimit-Limit"] == "3"
        # Other API calls still have budget left.
        other = await b.get("/api/v1/accounts/verify_credentials")
        assert other.status_code == 200
        assert other.headers["X-RateLimit-Remaining"] == "6"


async def account_request(http: httpx.AsyncClient, username: str) -> httpx.Response:
    """POST /api/v1/accounts with a fresh app token."""
    app = await register_app(http)
    token = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "write",
        },
    )
    return await http.post(
        "/api/v1/accounts",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        data={
            "username": username,
            "email": f"{username}@example.com",
            "password": "correct horse battery",
            "agreement": "true",
        },
    )


async def test_sign_ups_are_limited_per_address(pair):
    await pair.forget_limits()
    async with client(pair.first) as a, client(pair.second) as b:
        for n in range(3):
            response = await account_request((a, b)[n % 2], f"joiner{n}")
            assert response.status_code == 200, response.text
        refused = await account_request(b, "joiner3")
        assert refused.status_code == 429
        assert refused.headers["X-RateLimit-Limit"] == "3"
    # Another address still may.
    other = httpx.AsyncHTTPTransport(local_address="127.0.0.7")
    async with client(pair.second, transport=other) as elsewhere:
        assert (await sign_up(elsewhere, "joiner4"))["access_token"]


async def test_anonymous_calls_are_limited_per_address(pair):
    await pair.forget_limits()
    async with (
        client(pair.first) as a,
        client(pair.second, transport=httpx.AsyncHTTPTransport(local_address="127.0.0.8")) as c,
    ):
        for _ in range(10):
            assert (await a.get("/api/v1/instance")).status_code == 200
        assert (await a.get("/api/v1/instance")).status_code == 429
        assert (await c.get("/api/v1/instance")).status_code == 200
        # Health checks are never limited.
        assert (await a.get("/health/live")).status_code == 200


async def test_inbox_deliveries_are_limited_per_remote_domain(pair):
    await pair.forget_limits()

    def signed_by(domain: str) -> dict[str, str]:
        return {
            "Content-Type": "application/activity+json",
            "Signature": f'keyId="https://{domain}/users/x#main-key",algorithm="rsa-sha256",'
            'headers="(request-target) host date digest",signature="AAAA"',
        }

    async with client(pair.first) as a, client(pair.second) as b:
        for http in (a, b):
            response = await http.post("/inbox", content=b"{}", headers=signed_by("spam.example"))
            assert response.status_code != 429
        refused = await a.post("/inbox", content=b"{}", headers=signed_by("spam.example"))
        assert refused.status_code == 429
        assert "Retry-After" in refused.headers
        other = await b.post("/inbox", content=b"{}", headers=signed_by("calm.example"))
        assert other.status_code != 429


async def test_leased_tokens_keep_the_budget_exact_in_one_process(node):
    """Larger budgets are taken from Redis a few tokens at a time; what callers see stays the
    same: remaining counts down by one, and a burst gets exactly the budget."""
    budget = [ratelimit.Limit("api", 100, 3600)]
    counted = f"user:counted-{new_id()}"
    remaining = [(await ratelimit.take(counted, budget)).remaining for _ in range(12)]
    assert remaining == list(range(99, 87, -1))

    burst = f"user:burst-{new_id()}"
    verdicts = await asyncio.gather(*(ratelimit.take(burst, budget) for _ in range(300)))
    assert sum(1 for v in verdicts if v.allowed) == 100
    refused = await ratelimit.take(burst, budget)
    assert not refused.allowed and refused.retry_after > 0
