"""Three real pinhole nodes on 127.0.0.2, .3 and .4, each with its own database and worker,
talking ActivityPub over real HTTP: what their users see of each other."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from itertools import count

import asyncpg
import httpx
import pytest
from PIL import Image, ImageDraw

from tests.federation.flows import Member, find, follow_across, join, local_id, relationship
from tests.rig import NodeProcess, Services, wait_until

pytestmark = pytest.mark.federation

_serial = count(1)
RETRIES = "1,1,2,2,3,3,5,8"  # seconds: the two-day schedule, compressed for tests


@dataclass
class Rig:
    nodes: dict[str, NodeProcess]
    pools: dict[str, asyncpg.Pool]
    databases: list[str] = field(default_factory=list)

    def pool_of(self, member: Member) -> asyncpg.Pool:
        return next(self.pools[n] for n, node in self.nodes.items() if node is member.node)


@pytest.fixture(scope="module")
async def rig(services: Services) -> AsyncIterator[Rig]:
    hosts = {"a": "127.0.0.2", "b": "127.0.0.3", "c": "127.0.0.4"}
    nodes, databases = {}, []
    for name, host in hosts.items():
        database_url = await services.create_database(f"pinhole_fed_{name}")
        databases.append(database_url.rsplit("/", 1)[-1].split("?")[0])
        extra = {"PINHOLE_DELIVERY_RETRY_DELAYS": RETRIES}
        if name == "c":
            extra["PINHOLE_AUTHORIZED_FETCH"] = "true"
        nodes[name] = NodeProcess.configure(
            database_url=database_url, redis_url=services.redis_url, host=host, extra_env=extra
        )
    await asyncio.gather(*(asyncio.to_thread(node.start) for node in nodes.values()))
    pools = {
        name: await asyncpg.create_pool(node.env["PINHOLE_DATABASE_URL"], min_size=1, max_size=2)
        for name, node in nodes.items()
    }
    yield Rig(nodes, pools, databases)
    for pool in pools.values():
        await pool.close()
    for node in nodes.values():
        node.stop()
    conn = await asyncpg.connect(services.admin_dsn)
    try:
        for name in databases:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def name(prefix: str) -> str:
    return f"{prefix}{next(_serial)}"


async def home_ids(member: Member) -> list[str]:
    return [s["uri"] for s in (await member.get("/api/v1/timelines/home")).json()]


def jpeg(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    picture = io.BytesIO()
    image = Image.new("RGB", (width, height), colour)
    ImageDraw.Draw(image).ellipse((width // 4, height // 4, width // 2, height // 2), fill="white")
    image.save(picture, "JPEG", quality=80)
    return picture.getvalue()


async def upload_photos(owner: Member, photos: list[tuple[str, int, int]]) -> list[str]:
    """Upload photos (alt text, width, height) the way an app does, and wait until each is
    processed; their media ids."""
    ids = []
    for n, (alt, width, height) in enumerate(photos):
        response = await owner.post(
            "/api/v2/media",
            files={"file": (f"photo{n}.jpg", jpeg(width, height, (40 * n, 90, 160)), "image/jpeg")},
            data={"description": alt, "focus": "0.25,-0.5"},
        )
        assert response.status_code in (200, 202), response.text
        ids.append(response.json()["id"])
    for media_id in ids:

        async def ready(media_id: str = media_id) -> bool:
            return (await owner.get(f"/api/v1/media/{media_id}")).status_code == 200

        await wait_until(ready, 60)
    return ids


async def test_follow_across_nodes_auto_and_locked(rig: Rig) -> None:
    a, b = await join(rig.nodes["a"], name("ann")), await join(rig.nodes["b"], name("bob"))
    locked = await join(rig.nodes["b"], name("lou"), locked=True)
    await follow_across(a, b)
    followers = (await b.get(f"/api/v1/accounts/{b.account_id}/followers")).json()
    assert [f["acct"] for f in followers] == [a.acct]

    locked_id = await find(a, locked)
    rel = (await a.post(f"/api/v1/accounts/{locked_id}/follow")).json()
    assert rel["requested"] is True and rel["following"] is False

    async def request_arrived():
        return (await locked.get("/api/v1/follow_requests")).json()

    requests = await wait_until(request_arrived)
    assert [r["acct"] for r in requests] == [a.acct]
    await locked.post(f"/api/v1/follow_requests/{requests[0]['id']}/authorize")

    async def accepted():
        return (await relationship(a, locked_id))["following"]

    await wait_until(accepted)


async def test_album_reaches_the_remote_followers_home_feed(rig: Rig) -> None:
    a, b = await join(rig.nodes["a"], name("ann")), await join(rig.nodes["b"], name("bob"))
    await follow_across(a, b)
    photos = [("a red door", 4000, 3000), ("the harbour at dusk", 6000, 4000), ("cat", 800, 1200)]
    media_ids = await upload_photos(b, photos)
    post = (
        await b.post(
            "/api/v1/statuses",
            data={"status": "Three from the walk #walk", "media_ids[]": media_ids},
        )
    ).json()
    assert len(post["media_attachments"]) == 3

    async def in_home():
        return post["uri"] in await home_ids(a)

    await wait_until(in_home, 15)
    shown = next(
        s for s in (await a.get("/api/v1/timelines/home")).json() if s["uri"] == post["uri"]
    )
    assert shown["account"]["acct"] == b.acct
    assert [m["description"] for m in shown["media_attachments"]] == [p[0] for p in photos]
    assert [m["blurhash"] for m in shown["media_attachments"]] == [
        m["blurhash"] for m in post["media_attachments"]
    ]
    assert shown["tags"][0]["name"] == "walk"
    widths = [m["meta"]["original"]["width"] for m in shown["media_attachments"]]
    assert widths == [4000, 2048, 800]  # the 6000 px photo travels as its large rendition
    large = shown["media_attachments"][1]["url"]
    assert large != post["media_attachments"][1]["url"]
    async with httpx.AsyncClient() as client:
        fetched = await client.get(large)
    assert fetched.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(fetched.content)).size == (2048, 1365)
    assert shown["media_attachments"][0]["meta"]["focus"] == {"x": 0.25, "y": -0.5}


async def test_remote_like_and_comment_show_on_the_origin_post(rig: Rig) -> None:
    a, b = await join(rig.nodes["a"], name("ann")), await join(rig.nodes["b"], name("bob"))
    await follow_across(a, b)
    post = (await b.post("/api/v1/statuses", data={"status": "What do you think?"})).json()
    copy_id = await local_id(rig.pool_of(a), post["uri"])
    assert (await a.post(f"/api/v1/statuses/{copy_id}/favourite")).status_code == 200
    comment = (
        await a.post(
            "/api/v1/statuses", data={"status": "Lovely light", "in_reply_to_id": str(copy_id)}
        )
    ).json()

    async def counted():
        shown = (await b.get(f"/api/v1/statuses/{post['id']}")).json()
        return shown if shown["favourites_count"] == 1 and shown["replies_count"] == 1 else None

    await wait_until(counted, 15)
    likers = (await b.get(f"/api/v1/statuses/{post['id']}/favourited_by")).json()
    assert [x["acct"] for x in likers] == [a.acct]
    context = (await b.get(f"/api/v1/statuses/{post['id']}/context")).json()
    assert [d["uri"] for d in context["descendants"]] == [comment["uri"]]
    assert context["descendants"][0]["account"]["acct"] == a.acct
    notifications = (await b.get("/api/v1/notifications")).json()
    kinds = {(n["type"], n["account"]["acct"]) for n in notifications}
    assert ("favourite", a.acct) in kinds and ("mention", a.acct) in kinds
    await a.post(f"/api/v1/statuses/{copy_id}/unfavourite")

    async def unliked():
        return (await b.get(f"/api/v1/statuses/{post['id']}")).json()["favourites_count"] == 0

    await wait_until(unliked, 15)


async def test_edit_and_delete_propagate(rig: Rig) -> None:
    a, b = await join(rig.nodes["a"], name("ann")), await join(rig.nodes["b"], name("bob"))
    await follow_across(a, b)
    post = (await b.post("/api/v1/statuses", data={"status": "first words"})).json()
    copy_id = await local_id(rig.pool_of(a), post["uri"])
    edited = await b.client.put(f"/api/v1/statuses/{post['id']}", data={"status": "better words"})
    assert edited.status_code == 200, edited.text

    async def updated():
        shown = (await a.get(f"/api/v1/statuses/{copy_id}")).json()
        return shown if "better words" in shown["content"] else None

    shown = await wait_until(updated, 15)
    assert shown["edited_at"] is not None
    await b.client.delete(f"/api/v1/statuses/{post['id']}")

    async def gone():
        return (await a.get(f"/api/v1/statuses/{copy_id}")).status_code == 404

    await wait_until(gone, 15)
    assert post["uri"] not in await home_ids(a)


async def test_unfollow_stops_delivery(rig: Rig) -> None:
    a, b = await join(rig.nodes["a"], name("ann")), await join(rig.nodes["b"], name("bob"))
    b_id = await follow_across(a, b)
    await a.post(f"/api/v1/accounts/{b_id}/unfollow")

    async def unfollowed():
        return (await b.get(f"/api/v1/accounts/{b.account_id}")).json()["followers_count"] == 0

    await wait_until(unfollowed, 15)
    post = (await b.post("/api/v1/statuses", data={"status": "nobody there"})).json()
    await asyncio.sleep(1.5)  # what would have been delivered has had its time
    assert await rig.pool_of(a).fetchval("SELECT 1 FROM posts WHERE uri = $1", post["uri"]) is None


async def test_direct_message_reaches_only_its_addressee(rig: Rig) -> None:
    a = await join(rig.nodes["a"], name("ann"))
    other = await join(rig.nodes["a"], name("oli"))
    c = await join(rig.nodes["c"], name("cat"))
    b = await join(rig.nodes["b"], name("bob"))
    for follower in (a, other, c):
        await follow_across(follower, b)
    dm = (
        await b.post(
            "/api/v1/statuses", data={"status": f"@{a.acct} just for you", "visibility": "direct"}
        )
    ).json()
    assert [m["acct"] for m in dm["mentions"]] == [a.acct]
    copy_id = await local_id(rig.pool_of(a), dm["uri"])
    seen = (await a.get(f"/api/v1/statuses/{copy_id}")).json()
    assert seen["visibility"] == "direct" and "just for you" in seen["content"]
    assert (await other.get(f"/api/v1/statuses/{copy_id}")).status_code == 404
    await asyncio.sleep(1)
    assert await rig.pools["c"].fetchval("SELECT 1 FROM posts WHERE uri = $1", dm["uri"]) is None


async def test_block_stops_everything(rig: Rig) -> None:
    a, b = await join(rig.nodes["a"], name("ann")), await join(rig.nodes["b"], name("bob"))
    await follow_across(a, b)
    a_on_b = await find(b, a)
    await b.post(f"/api/v1/accounts/{a_on_b}/block")
    b_on_a = await find(a, b)

    async def blocked():
        rel = await relationship(a, b_on_a)
        return rel["blocked_by"] and not rel["following"]

    await wait_until(blocked, 15)
    post = (await b.post("/api/v1/statuses", data={"status": "not for ann"})).json()
    refollow = await a.post(f"/api/v1/accounts/{b_on_a}/follow")
    assert refollow.status_code == 403
    await asyncio.sleep(1.5)
    assert await rig.pool_of(a).fetchval("SELECT 1 FROM posts WHERE uri = $1", post["uri"]) is None
    assert (await b.get(f"/api/v1/accounts/{b.account_id}")).json()["followers_count"] == 0


async def test_a_node_that_was_down_gets_its_deliveries_when_it_is_back(rig: Rig) -> None:
    c, b = await join(rig.nodes["c"], name("cat")), await join(rig.nodes["b"], name("bob"))
    await follow_across(c, b)
    rig.nodes["c"].stop()
    try:
        post = (await b.post("/api/v1/statuses", data={"status": "while you were out"})).json()

        async def retrying():
            row = await rig.pools["b"].fetchrow(
                """SELECT d.state, d.attempts FROM deliveries d
                   JOIN outbox_activities o ON o.id = d.activity_id
                   WHERE o.uri = $1 AND d.domain = $2""",
                post["uri"] + "/activity",
                rig.nodes["c"].domain,
            )
            return row if row and row["attempts"] >= 1 else None

        row = await wait_until(retrying, 15)
        assert row["state"] == "pending"
    finally:
        await asyncio.to_thread(rig.nodes["c"].start)
    copy_id = await local_id(rig.pools["c"], post["uri"], wait=30)
    assert (await c.get(f"/api/v1/statuses/{copy_id}")).status_code == 200


async def test_authorized_fetch_refuses_unsigned_gets_but_peers_still_federate(rig: Rig) -> None:
    c = await join(rig.nodes["c"], name("cat"))
    a = await join(rig.nodes["a"], name("ann"))
    async with httpx.AsyncClient() as anonymous:
        actor = await anonymous.get(c.uri, headers={"Accept": "application/activity+json"})
        assert actor.status_code == 401
        instance = await anonymous.get(
            f"{rig.nodes['c'].url}/actor", headers={"Accept": "application/activity+json"}
        )
        assert instance.status_code == 200
    await follow_across(a, c)  # A's fetches of C are signed, so C answers them


async def test_delivery_state_is_queryable_by_staff(rig: Rig) -> None:
    a, b = await join(rig.nodes["a"], name("ann")), await join(rig.nodes["b"], name("bob"))
    await follow_across(a, b)
    await rig.pool_of(b).execute(
        "UPDATE users SET role = 'admin' WHERE account_id = $1", int(b.account_id)
    )
    post = (await b.post("/api/v1/statuses", data={"status": "tracked"})).json()

    async def delivered():
        response = await b.get(
            "/api/v1/admin/federation/deliveries",
            params={"activity_uri": post["uri"] + "/activity"},
        )
        assert response.status_code == 200, response.text
        rows = response.json()
        return rows if rows and rows[0]["state"] == "delivered" else None

    rows = await wait_until(delivered, 15)
    assert rows[0]["domain"] == rig.nodes["a"].domain
    assert rows[0]["inbox_url"] == f"{rig.nodes['a'].url}/inbox"
    assert rows[0]["last_status"] == 202
    refused = await a.get("/api/v1/admin/federation/deliveries")
    assert refused.status_code == 403


async def test_forwarded_report_reaches_the_reported_accounts_node(rig: Rig) -> None:
    a, b = await join(rig.nodes["a"], name("ann")), await join(rig.nodes["b"], name("bob"))
    await follow_across(a, b)
    post = (await b.post("/api/v1/statuses", data={"status": "spam spam spam"})).json()
    copy_id = await local_id(rig.pool_of(a), post["uri"])
    b_on_a = await find(a, b)
    response = await a.post(
        "/api/v1/reports",
        data={
            "account_id": b_on_a,
            "status_ids[]": [str(copy_id)],
            "comment": "this is spam",
            "forward": "true",
        },
    )
    assert response.status_code == 200, response.text

    async def reported():
        return await rig.pool_of(b).fetchrow(
            "SELECT * FROM reports WHERE target_account_id = $1", int(b.account_id)
        )

    report = await wait_until(reported, 15)
    assert report["comment"] == "this is spam"
    assert report["status_ids"] == [int(post["id"])]
    reporter = await rig.pool_of(b).fetchval(
        "SELECT uri FROM accounts WHERE id = $1", report["account_id"]
    )
    assert reporter == f"{rig.nodes['a'].url}/actor"  # the server reports, not the person


async def test_profile_update_and_boost_travel(rig: Rig) -> None:
    a, b = await join(rig.nodes["a"], name("ann")), await join(rig.nodes["b"], name("bob"))
    b_on_a = await follow_across(a, b)
    await b.client.patch(
        "/api/v1/accounts/update_credentials",
        data={"display_name": "Bob Builder", "note": "I take pictures"},
    )

    async def renamed():
        shown = (await a.get(f"/api/v1/accounts/{b_on_a}")).json()
        return shown if shown["display_name"] == "Bob Builder" else None

    shown = await wait_until(renamed, 15)
    assert "I take pictures" in shown["note"]
    post = (await b.post("/api/v1/statuses", data={"status": "boost me"})).json()
    copy_id = await local_id(rig.pool_of(a), post["uri"])
    assert (await a.post(f"/api/v1/statuses/{copy_id}/reblog")).status_code == 200

    async def boosted():
        return (await b.get(f"/api/v1/statuses/{post['id']}")).json()["reblogs_count"] == 1

    await wait_until(boosted, 15)
    await a.post(f"/api/v1/statuses/{copy_id}/unreblog")

    async def unboosted():
        return (await b.get(f"/api/v1/statuses/{post['id']}")).json()["reblogs_count"] == 0

    await wait_until(unboosted, 15)
