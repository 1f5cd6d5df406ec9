"""The pull side of the hybrid home feed, on a node whose push threshold is one follower: big
authors' posts are never pushed, yet appear in order, merged with pushed ones, page by page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from node import db
from node.redis import redis
from tests.conftest import SignedInUser
from tests.rig import NodeProcess, wait_until


@pytest.fixture(scope="module")
async def pull_node(node: NodeProcess) -> AsyncIterator[NodeProcess]:
    """A second node process on the same database, with its own Redis prefix and queue, that
    pulls every author with more than one local follower."""
    process = NodeProcess.configure(
        database_url=node.env["PINHOLE_DATABASE_URL"],
        redis_url=node.env["PINHOLE_REDIS_URL"],
        extra_env={"PINHOLE_FEED_PUSH_THRESHOLD": "1"},
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture
async def on_pull_node(pull_node: NodeProcess, make_user) -> AsyncIterator:
    """Users made as usual, talking to the pull node."""
    prefix = pull_node.env["PINHOLE_REDIS_PREFIX"]
    async for stale in redis().scan_iter(match=f"{prefix}feed:*", count=1000):
        await redis().delete(stale)
    clients: list[httpx.AsyncClient] = []

    async def make(username: str) -> SignedInUser:
        user = await make_user(username)
        client = httpx.AsyncClient(
            base_url=pull_node.url, timeout=30, headers={"Authorization": f"Bearer {user.token}"}
        )
        clients.append(client)
        return replace(user, client=client)

    yield make
    for client in clients:
        await client.aclose()


def feed_key(node: NodeProcess, user: SignedInUser) -> str:
    return f"{node.env['PINHOLE_REDIS_PREFIX']}feed:home:{user.account_id}"


async def publish(user: SignedInUser, status: str) -> str:
    response = await user.post("/api/v1/statuses", data={"status": status})
    assert response.status_code == 200, response.text
    return response.json()["id"]


async def home_ids(user: SignedInUser, **params: object) -> list[str]:
    response = await user.get("/api/v1/timelines/home", params=params)
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


async def follow(user: SignedInUser, target: SignedInUser) -> None:
    assert (await user.post(f"/api/v1/accounts/{target.account_id}/follow")).status_code == 200


async def test_big_authors_post_appears_without_a_push(pull_node, on_pull_node) -> None:
    alice, dave, star = (
        await on_pull_node("alice"),
        await on_pull_node("dave"),
        await on_pull_node("star"),
    )
    await follow(alice, star)
    await follow(dave, star)
    await home_ids(alice)
    await home_ids(star)
    post_id = await publish(star, "to my many fans")

    async def pulled() -> bool:
        return bool(
            await db.fetchval(
                "SELECT 1 FROM feed_pulled_authors WHERE account_id = $1", int(star.account_id)
            )
        )

    await wait_until(pulled)
    assert await home_ids(alice) == [post_id]
    members = await redis().zrange(feed_key(pull_node, alice), 0, -1)
    assert post_id.encode() not in members
    # The author's own feed is pushed to as always.
    await wait_until(lambda: _holds(pull_node, star, post_id))


async def _holds(node: NodeProcess, user: SignedInUser, post_id: str) -> bool:
    return await redis().zscore(feed_key(node, user), post_id) is not None


async def test_pushed_and_pulled_posts_merge_in_order_across_pages(pull_node, on_pull_node) -> None:
    alice, dave = await on_pull_node("alice"), await on_pull_node("dave")
    star, friend = await on_pull_node("star"), await on_pull_node("friend")
    await follow(alice, star)
    await follow(dave, star)
    await follow(alice, friend)
    await home_ids(alice)
    posted = []
    for i in range(4):
        posted.append(await publish(friend, f"friend {i}"))
        posted.append(await publish(star, f"star {i}"))
    newest_first = list(reversed(posted))
    friends = posted[0::2]
    await wait_until(lambda: _holds(pull_node, alice, friends[-1]))
    members = {m.decode() for m in await redis().zrange(feed_key(pull_node, alice), 0, -1)}
    assert set(friends) <= members and not set(posted[1::2]) & members

    pages, params = [], {"limit": 3}
    while True:
        response = await alice.get("/api/v1/timelines/home", params=params)
        page = [s["id"] for s in response.json()]
        if not page:
            break
        pages.append(page)
        params = {"limit": 3, "max_id": page[-1]}
    assert pages == [newest_first[0:3], newest_first[3:6], newest_first[6:8]]
    assert await home_ids(alice, min_id=posted[1], limit=3) == list(reversed(posted[2:5]))
    assert await home_ids(alice, since_id=posted[5]) == newest_first[:2]

    # A lost feed is rebuilt with both kinds, and reads the same.
    await redis().delete(feed_key(pull_node, alice))
    assert await home_ids(alice, limit=8) == newest_first


async def test_pulled_posts_are_filtered_at_read_time(pull_node, on_pull_node) -> None:
    alice, dave, star = (
        await on_pull_node("alice"),
        await on_pull_node("dave"),
        await on_pull_node("star"),
    )
    await follow(alice, star)
    await follow(dave, star)
    await home_ids(alice)
    await home_ids(star)
    post_id = await publish(star, "hello")
    await wait_until(lambda: _holds(pull_node, star, post_id))
    assert await home_ids(alice) == [post_id]
    assert (await alice.post(f"/api/v1/accounts/{star.account_id}/mute")).status_code == 200
    assert await home_ids(alice) == []
    assert (await alice.post(f"/api/v1/accounts/{star.account_id}/unmute")).status_code == 200
    assert (await alice.post(f"/api/v1/accounts/{star.account_id}/unfollow")).status_code == 200

    async def gone() -> bool:
        return await home_ids(alice) == []

    await wait_until(gone)
