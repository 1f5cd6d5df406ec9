"""Delivery as a remote server experiences it: retries with growing delays, none where a retry
cannot help, Retry-After honoured, and a domain that keeps failing set aside until it answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from itertools import count

import asyncpg
import pytest

from tests.federation.flows import Member, join
from tests.federation.peers import FakePeer, PeerActor
from tests.rig import NodeProcess, Services, wait_until

_serial = count(1)


@dataclass
class Sender:
    node: NodeProcess
    pool: asyncpg.Pool


@pytest.fixture(scope="module")
async def sender(services: Services) -> AsyncIterator[Sender]:
    """A node whose retries come after 0.3, 0.3 and 0.6 s, then it gives up."""
    database_url = await services.create_database("pinhole_delivery")
    node = NodeProcess.configure(
        database_url=database_url,
        redis_url=services.redis_url,
        host="127.0.0.5",
        extra_env={"PINHOLE_DELIVERY_RETRY_DELAYS": "0.3,0.3,0.6"},
    )
    await asyncio.to_thread(node.start)
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    yield Sender(node, pool)
    await pool.close()
    node.stop()
    conn = await asyncpg.connect(services.admin_dsn)
    try:
        name = database_url.rsplit("/", 1)[-1].split("?")[0]
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def followed_author(sender: Sender, peer: FakePeer) -> tuple[Member, PeerActor]:
    """A local author with one follower on the peer (its Follow accepted)."""
    author = await join(sender.node, f"author{next(_serial)}")
    follower = PeerActor.create(peer, f"reader{next(_serial)}")
    follow = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": follower.uri + "#follow",
        "type": "Follow",
        "actor": follower.uri,
        "object": author.uri,
    }
    assert (await follower.deliver(f"{sender.node.url}/inbox", follow)).status_code == 202

    async def accepted():
        return peer.deliveries("Accept")

    await wait_until(accepted)
    peer.received.clear()
    return author, follower


async def delivery_of(sender: Sender, post: dict, state: str | None = None, wait: float = 10):
    async def find():
        row = await sender.pool.fetchrow(
            """SELECT d.* FROM deliveries d JOIN outbox_activities o ON o.id = d.activity_id
               WHERE o.uri = $1""",
            post["uri"] + "/activity",
        )
        return row if row and (state is None or row["state"] == state) else None

    return await wait_until(find, wait)


def creates(peer: FakePeer, post: dict) -> list:
    return [r for r in peer.received if r.body.get("object", {}).get("id") == post["uri"]]


async def test_server_error_is_retried_until_it_answers(sender: Sender, peer: FakePeer) -> None:
    author, _ = await followed_author(sender, peer)
    peer.answers[:] = [(500, {}), (503, {})]
    post = (await author.post("/api/v1/statuses", data={"status": "try again"})).json()
    row = await delivery_of(sender, post, "delivered")
    assert row["attempts"] == 3 and row["last_status"] == 202
    attempts = creates(peer, post)
    assert len(attempts) == 3
    assert attempts[2].at - attempts[1].at >= 0.25  # the schedule's delay, not at once


@pytest.mark.parametrize("status", [400, 403, 404, 410, 422])
async def test_client_error_is_not_retried(status: int, sender: Sender, peer: FakePeer) -> None:
    author, _ = await followed_author(sender, peer)
    peer.answers[:] = [(status, {})]
    post = (await author.post("/api/v1/statuses", data={"status": "refused"})).json()
    row = await delivery_of(sender, post, "failed")
    assert row["attempts"] == 1 and row["last_status"] == status
    await asyncio.sleep(1.0)
    assert len(creates(peer, post)) == 1


@pytest.mark.parametrize("status", [401, 408, 429])
async def test_retryable_client_errors_are_retried(
    status: int, sender: Sender, peer: FakePeer
) -> None:
    author, _ = await followed_author(sender, peer)
    peer.answers[:] = [(status, {})]
    post = (await author.post("/api/v1/statuses", data={"status": "later"})).json()
    row = await delivery_of(sender, post, "delivered")
    assert row["attempts"] == 2


async def test_retry_after_is_honoured(sender: Sender, peer: FakePeer) -> None:
    author, _ = await followed_author(sender, peer)
    peer.answers[:] = [(429, {"Retry-After": "2"})]
    post = (await author.post("/api/v1/statuses", data={"status": "slow down"})).json()
    await delivery_of(sender, post, "delivered", wait=15)
    first, second = creates(peer, post)
    assert second.at - first.at >= 1.9


async def test_gives_up_after_the_last_retry(sender: Sender, peer: FakePeer) -> None:
    author, _ = await followed_author(sender, peer)
    peer.inbox_status = 503
    post = (await author.post("/api/v1/statuses", data={"status": "never"})).json()
    row = await delivery_of(sender, post, "failed", wait=15)
    assert row["attempts"] == 4 and row["last_error"].startswith("gave up")
    assert len(creates(peer, post)) == 4


async def test_failing_domain_is_set_aside_until_it_talks_to_us(
    sender: Sender, peer: FakePeer
) -> None:
    author, follower = await followed_author(sender, peer)
    # Six earlier days of failures; one more day makes the domain unavailable.
    await sender.pool.execute(
        """INSERT INTO federation_domains (domain, failure_days)
           VALUES ($1, ARRAY(SELECT current_date - d FROM generate_series(1, 6) d))
           ON CONFLICT (domain) DO UPDATE SET failure_days = EXCLUDED.failure_days,
                                              unavailable_since = NULL""",
        peer.domain,
    )
    peer.inbox_status = 503
    first = (await author.post("/api/v1/statuses", data={"status": "one"})).json()
    await delivery_of(sender, first)

    async def unavailable():
        return await sender.pool.fetchval(
            "SELECT unavailable_since FROM federation_domains WHERE domain = $1", peer.domain
        )

    await wait_until(unavailable)
    second = (await author.post("/api/v1/statuses", data={"status": "two"})).json()
    assert (await delivery_of(sender, second, "skipped"))[
        "last_error"
    ] == "domain marked unavailable"
    assert creates(peer, second) == []
    peer.inbox_status = 202
    # The domain sends us something: it is back, and deliveries go to it again.
    like = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": follower.uri + "#likes/1",
        "type": "Like",
        "actor": follower.uri,
        "object": first["uri"],
    }
    assert (await follower.deliver(f"{sender.node.url}/inbox", like)).status_code == 202

    async def available_again():
        return not await unavailable()

    await wait_until(available_again)
    third = (await author.post("/api/v1/statuses", data={"status": "three"})).json()
    await delivery_of(sender, third, "delivered")
