"""The home feed: fan-out into Redis, merge on follow, removal on unfollow and block, read-time
filters, pagination, and rebuild from PostgreSQL when the Redis feed is gone."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from node import db
from node.ids import new_id
from node.redis import key, redis
from tests.conftest import SignedInUser
from tests.rig import wait_until


async def publish(user: SignedInUser, status: str, **fields: object) -> dict:
    response = await user.post("/api/v1/statuses", data={"status": status, **fields})
    assert response.status_code == 200, response.text
    return response.json()


async def home(user: SignedInUser, **params: object) -> httpx.Response:
    response = await user.get("/api/v1/timelines/home", params=params)
    assert response.status_code == 200, response.text
    return response


async def home_ids(user: SignedInUser, **params: object) -> list[str]:
    return [s["id"] for s in (await home(user, **params)).json()]


async def feed_members(account_id: str) -> list[str]:
    """What the Redis feed holds (posts only, newest first)."""
    raw = await redis().zrevrangebyscore(key("feed", "home", account_id), "+inf", "(0")
    return [m.decode() for m in raw]


async def follow(user: SignedInUser, target: SignedInUser) -> None:
    response = await user.post(f"/api/v1/accounts/{target.account_id}/follow")
    assert response.status_code == 200, response.text


async def shows(user: SignedInUser, expected: list[str], **params: object) -> bool:
    return await home_ids(user, **params) == expected


async def test_post_is_pushed_into_followers_feeds_and_the_authors_own(make_user) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    await follow(alice, bob)
    assert await home_ids(alice) == []  # reading builds alice's (empty) feed
    assert await home_ids(bob) == []
    post = await publish(bob, "first light over the harbour")

    async def pushed() -> bool:
        return post["id"] in await feed_members(alice.account_id) and post[
            "id"
        ] in await feed_members(bob.account_id)

    await wait_until(pushed)
    status = (await home(alice)).json()[0]
    assert status["account"]["username"] == "bob"
    assert status["content"]
    assert status["favourited"] is False
    assert await home_ids(bob) == [post["id"]]


async def test_new_follow_merges_the_followees_recent_posts_in_order(make_user) -> None:
    alice, bob, carol = await make_user("alice"), await make_user("bob"), await make_user("carol")
    await follow(alice, carol)
    older = await publish(bob, "older")
    carols = await publish(carol, "from carol")
    newer = await publish(bob, "newer")
    await wait_until(lambda: shows(alice, [carols["id"]]))

    await follow(alice, bob)

    # Redis gets what is newer than the oldest post it holds; older pages are pulled.
    async def in_redis() -> bool:
        return await feed_members(alice.account_id) == [newer["id"], carols["id"]]

    await wait_until(in_redis)
    assert await home_ids(alice) == [newer["id"], carols["id"], older["id"]]


async def test_unfollow_removes_the_followees_posts(make_user) -> None:
    alice, bob, carol = await make_user("alice"), await make_user("bob"), await make_user("carol")
    await follow(alice, bob)
    await follow(alice, carol)
    await home_ids(alice)
    bobs = await publish(bob, "bob's")
    carols = await publish(carol, "carol's")
    await wait_until(lambda: shows(alice, [carols["id"], bobs["id"]]))

    response = await alice.post(f"/api/v1/accounts/{bob.account_id}/unfollow")
    assert response.status_code == 200
    await wait_until(lambda: shows(alice, [carols["id"]]))

    async def gone_from_redis() -> bool:
        return bobs["id"] not in await feed_members(alice.account_id)

    await wait_until(gone_from_redis)


async def test_block_hides_posts_both_ways(make_user) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    await follow(alice, bob)
    await follow(bob, alice)
    await home_ids(alice)
    await home_ids(bob)
    bobs = await publish(bob, "bob's")
    alices = await publish(alice, "alice's")
    await wait_until(lambda: shows(alice, [alices["id"], bobs["id"]]))
    await wait_until(lambda: shows(bob, [alices["id"], bobs["id"]]))

    response = await bob.post(f"/api/v1/accounts/{alice.account_id}/block")
    assert response.status_code == 200
    # At once, whatever Redis still holds: reads filter blocks in both directions.
    assert await home_ids(alice) == [alices["id"]]
    assert await home_ids(bob) == [bobs["id"]]

    async def removed_from_both() -> bool:
        return bobs["id"] not in await feed_members(alice.account_id) and alices[
            "id"
        ] not in await feed_members(bob.account_id)

    await wait_until(removed_from_both)


async def test_mute_hides_posts_until_unmuted(make_user) -> None:
    alice, bob, carol = await make_user("alice"), await make_user("bob"), await make_user("carol")
    await follow(alice, bob)
    await follow(alice, carol)
    await home_ids(alice)
    bobs = await publish(bob, "bob's")
    carols = await publish(carol, "carol's")
    await wait_until(lambda: shows(alice, [carols["id"], bobs["id"]]))

    assert (await alice.post(f"/api/v1/accounts/{bob.account_id}/mute")).status_code == 200
    assert await home_ids(alice) == [carols["id"]]
    assert (await alice.post(f"/api/v1/accounts/{bob.account_id}/unmute")).status_code == 200
    assert await home_ids(alice) == [carols["id"], bobs["id"]]


async def test_boosts_of_muted_or_blocked_authors_are_hidden(make_user) -> None:
    alice, bob, carol = await make_user("alice"), await make_user("bob"), await make_user("carol")
    await follow(alice, bob)
    await home_ids(alice)
    carols = await publish(carol, "carol's photo")
    boost = await bob.post(f"/api/v1/statuses/{carols['id']}/reblog")
    assert boost.status_code == 200, boost.text
    boost_id = boost.json()["id"]
    await wait_until(lambda: shows(alice, [boost_id]))
    entity = (await home(alice)).json()[0]
    assert entity["reblog"]["id"] == carols["id"]
    assert entity["reblog"]["account"]["username"] == "carol"

    assert (await alice.post(f"/api/v1/accounts/{carol.account_id}/mute")).status_code == 200
    assert await home_ids(alice) == []
    assert (await alice.post(f"/api/v1/accounts/{carol.account_id}/unmute")).status_code == 200
    assert await home_ids(alice) == [boost_id]
    assert (await carol.post(f"/api/v1/accounts/{alice.account_id}/block")).status_code == 200
    assert await home_ids(alice) == []


async def test_deleted_post_leaves_the_feed(make_user) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    await follow(alice, bob)
    await home_ids(alice)
    kept = await publish(bob, "kept")
    deleted = await publish(bob, "deleted")
    await wait_until(lambda: shows(alice, [deleted["id"], kept["id"]]))

    response = await bob.client.delete(f"/api/v1/statuses/{deleted['id']}")
    assert response.status_code == 200, response.text
    assert await home_ids(alice) == [kept["id"]]

    async def gone_from_redis() -> bool:
        return deleted["id"] not in await feed_members(alice.account_id)

    await wait_until(gone_from_redis)


async def test_followers_only_and_direct_posts_reach_only_their_audience(make_user) -> None:
    alice, bob, carol = await make_user("alice"), await make_user("bob"), await make_user("carol")
    await follow(alice, bob)
    await follow(carol, bob)
    await home_ids(alice)
    await home_ids(carol)
    private = await publish(bob, "for followers", visibility="private")
    direct = await publish(bob, "@alice just for you", visibility="direct")
    public = await publish(bob, "for everyone")
    await wait_until(lambda: shows(carol, [public["id"], private["id"]]))
    await wait_until(lambda: shows(alice, [public["id"], direct["id"], private["id"]]))
    assert await home_ids(bob) == [public["id"], direct["id"], private["id"]]

    # Carol's feed is rebuilt from PostgreSQL: the same rules hold there.
    await redis().delete(key("feed", "home", carol.account_id))
    assert await home_ids(carol) == [public["id"], private["id"]]


async def test_comments_stay_under_their_post(make_user) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    await follow(alice, bob)
    await home_ids(alice)
    photo = await publish(bob, "a photo")
    comment = await publish(bob, "a comment", in_reply_to_id=photo["id"])
    await wait_until(lambda: shows(alice, [photo["id"]]))
    assert comment["id"] not in await feed_members(alice.account_id)


async def test_feed_is_rebuilt_after_its_redis_key_is_lost(make_user) -> None:
    alice, bob, carol = await make_user("alice"), await make_user("bob"), await make_user("carol")
    await follow(alice, bob)
    await follow(alice, carol)
    await home_ids(alice)
    posts = [await publish(author, f"post {i}") for i, author in enumerate([bob, carol, alice] * 3)]
    expected = [p["id"] for p in reversed(posts)]
    await wait_until(lambda: shows(alice, expected))

    await redis().delete(key("feed", "home", alice.account_id))
    assert await home_ids(alice) == expected
    assert await feed_members(alice.account_id) == expected
    # Rebuilt once: an empty feed is marked built too, and is not rebuilt on every read.
    assert await redis().zscore(key("feed", "home", alice.account_id), "~") == -1


async def test_returning_inactive_user_gets_no_pushes_then_a_rebuilt_feed(make_user) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    await follow(alice, bob)
    before = await publish(bob, "before")
    await wait_until(lambda: shows(alice, [before["id"]]))
    # Alice stays away for a month: her feed expired and she is no longer active.
    await db.execute(
        "UPDATE users SET last_active_at = now() - interval '30 days' WHERE account_id = $1",
        int(alice.account_id),
    )
    await redis().delete(
        key("feed", "home", alice.account_id), key("feed", "active", alice.account_id)
    )
    while_away = await publish(bob, "while away")
    await wait_until(lambda: shows(bob, [while_away["id"], before["id"]]))
    assert not await redis().exists(key("feed", "home", alice.account_id))

    assert await home_ids(alice) == [while_away["id"], before["id"]]
    active = await db.fetchval(
        "SELECT last_active_at > now() - interval '1 minute' FROM users WHERE account_id = $1",
        int(alice.account_id),
    )
    assert active
    assert await redis().ttl(key("feed", "home", alice.account_id)) > 13 * 86400


def _cursor(link: str, rel: str) -> dict[str, str]:
    for part in link.split(","):
        url, _, kind = part.partition(";")
        if f'rel="{rel}"' in kind:
            query = parse_qs(urlsplit(url.strip().strip("<>")).query)
            return {k: v[0] for k, v in query.items()}
    raise AssertionError(f"no {rel} link in {link!r}")


async def test_pages_walk_the_feed_with_link_headers(make_user) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    await follow(alice, bob)
    await home_ids(alice)
    ids = [(await publish(bob, f"photo {i}"))["id"] for i in range(5)]
    newest_first = list(reversed(ids))
    await wait_until(lambda: shows(alice, newest_first))

    first = await home(alice, limit=2)
    assert [s["id"] for s in first.json()] == newest_first[:2]
    second = await home(alice, **_cursor(first.headers["link"], "next"))
    assert [s["id"] for s in second.json()] == newest_first[2:4]
    third = await home(alice, **_cursor(second.headers["link"], "next"))
    assert [s["id"] for s in third.json()] == newest_first[4:]
    back = await home(alice, **_cursor(third.headers["link"], "prev"))
    assert [s["id"] for s in back.json()] == newest_first[2:4]
    assert await home_ids(alice, since_id=ids[2]) == newest_first[:2]
    assert await home_ids(alice, min_id=ids[0], limit=2) == [ids[2], ids[1]]
    assert await home_ids(alice, max_id=ids[3], since_id=ids[0]) == [ids[2], ids[1]]
    bad = await alice.get("/api/v1/timelines/home", params={"max_id": "nope"})
    assert bad.status_code == 422
    async with httpx.AsyncClient(base_url=str(alice.client.base_url)) as anonymous:
        assert (await anonymous.get("/api/v1/timelines/home")).status_code == 401


async def test_pages_past_what_redis_holds_come_from_postgres(make_user) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    ids = [(await publish(bob, f"old {i}"))["id"] for i in range(4)]
    await follow(alice, bob)
    await home_ids(alice)
    newest_first = list(reversed(ids))
    await wait_until(lambda: shows(alice, newest_first))
    # Keep only the two newest in Redis, as the cap does for long feeds.
    await redis().zrem(key("feed", "home", alice.account_id), ids[0], ids[1])
    assert await home_ids(alice, limit=3) == newest_first[:3]
    assert await home_ids(alice, max_id=ids[2]) == [ids[1], ids[0]]
    assert await home_ids(alice, min_id=ids[0], limit=2) == [ids[2], ids[1]]


async def test_posts_with_a_followed_hashtag_appear_in_home(make_user) -> None:
    alice, carol = await make_user("alice"), await make_user("carol")
    followed = await alice.post("/api/v1/tags/Sunsets/follow")
    assert followed.status_code == 200, followed.text
    assert followed.json()["following"] is True
    await home_ids(alice)
    tagged = await publish(carol, "golden hour #sunsets")
    await publish(carol, "no tag here")
    await publish(carol, "quiet #sunsets", visibility="unlisted")
    await wait_until(lambda: shows(alice, [tagged["id"]]))

    await redis().delete(key("feed", "home", alice.account_id))
    assert await home_ids(alice) == [tagged["id"]]


async def test_exclusive_list_members_leave_the_home_feed(make_user) -> None:
    alice, bob, carol = await make_user("alice"), await make_user("bob"), await make_user("carol")
    await follow(alice, bob)
    await follow(alice, carol)
    await home_ids(alice)
    bobs = await publish(bob, "bob's")
    carols = await publish(carol, "carol's")
    await wait_until(lambda: shows(alice, [carols["id"], bobs["id"]]))

    created = await alice.post("/api/v1/lists", data={"title": "Family", "exclusive": "true"})
    assert created.status_code == 200, created.text
    list_id = created.json()["id"]
    added = await alice.post(
        f"/api/v1/lists/{list_id}/accounts", data={"account_ids[]": bob.account_id}
    )
    assert added.status_code == 200, added.text
    assert await home_ids(alice) == [carols["id"]]
    timeline = await alice.get(f"/api/v1/timelines/list/{list_id}")
    assert [s["id"] for s in timeline.json()] == [bobs["id"]]


async def test_feed_shows_each_post_as_it_is_now(make_user) -> None:
    """Statuses in the feed are rendered once and reused; every change to a post, its author,
    its media or the reader's own state must still show on the next read."""
    alice, bob, carol = await make_user("alice"), await make_user("bob"), await make_user("carol")
    await follow(alice, bob)
    await home_ids(alice)
    post = await publish(bob, "a #harbour at dawn")
    boost = await carol.post(f"/api/v1/statuses/{post['id']}/reblog")
    assert boost.status_code == 200, boost.text
    await follow(alice, carol)

    async def first_two() -> list[dict]:
        page = (await home(alice)).json()
        return page[:2] if len(page) >= 2 else []

    shown = await wait_until(first_two)
    assert [s["id"] for s in shown] == [boost.json()["id"], post["id"]]
    assert shown[1]["favourited"] is False and shown[1]["favourites_count"] == 0

    edited = await bob.client.put(
        f"/api/v1/statuses/{post['id']}", data={"status": "the #harbour at noon"}
    )
    assert edited.status_code == 200, edited.text
    renamed = await bob.client.patch(
        "/api/v1/accounts/update_credentials", data={"display_name": "Bob B."}
    )
    assert renamed.status_code == 200, renamed.text
    assert (await alice.post(f"/api/v1/statuses/{post['id']}/favourite")).status_code == 200
    assert (await alice.post(f"/api/v1/statuses/{post['id']}/bookmark")).status_code == 200

    boosted, original = (await home(alice)).json()[:2]
    for status in (original, boosted["reblog"]):
        assert "noon" in status["content"]
        assert status["account"]["display_name"] == "Bob B."
        assert status["favourites_count"] == 1 and status["reblogs_count"] == 1
        assert status["favourited"] is True and status["bookmarked"] is True
        assert status["edited_at"] is not None
    assert boosted["favourited"] is True  # a boost carries the reader's state of the original
    assert boosted["account"]["id"] == carol.account_id

    # Hashtags saved without touching the post row (as remote updates may) still show.
    tag_id = new_id()
    await db.execute(
        "INSERT INTO tags (id, name, display_name) VALUES ($1, 'sunrise', 'sunrise')", tag_id
    )
    await db.execute(
        "INSERT INTO post_tags (post_id, tag_id) VALUES ($1, $2)", int(post["id"]), tag_id
    )
    original = (await home(alice)).json()[1]
    assert sorted(t["name"] for t in original["tags"]) == ["harbour", "sunrise"]
