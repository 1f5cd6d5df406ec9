"""Following, locked accounts, follow requests, blocks, mutes and relationships."""

import asyncio


async def _relationship(user, other) -> dict:
    response = await user.get("/api/v1/accounts/relationships", params={"id[]": other.account_id})
    assert response.status_code == 200
    return response.json()[0]


async def _account(user, other) -> dict:
    return (await user.get(f"/api/v1/accounts/{other.account_id}")).json()


async def test_follow_an_open_account_counts_on_both_sides(make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    response = await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")
    assert response.status_code == 200
    assert response.json()["following"] is True
    assert (await _account(alice, bob))["followers_count"] == 1
    assert (await _account(alice, alice))["following_count"] == 1
    assert (await _relationship(bob, alice))["followed_by"] is True
    again = await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")
    assert again.json()["following"] is True
    assert (await _account(alice, bob))["followers_count"] == 1


async def test_locked_account_turns_follow_into_request_until_authorized(make_user):
    alice, bob = await make_user("alice"), await make_user("bob", locked=True)
    response = await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")
    assert response.json()["following"] is False
    assert response.json()["requested"] is True
    requests = (await bob.get("/api/v1/follow_requests")).json()
    assert [a["username"] for a in requests] == ["alice"]
    me = (await bob.get("/api/v1/accounts/verify_credentials")).json()
    assert me["source"]["follow_requests_count"] == 1
    authorized = await bob.post(f"/api/v1/follow_requests/{alice.account_id}/authorize")
    assert authorized.status_code == 200
    assert authorized.json()["followed_by"] is True
    assert (await _relationship(alice, bob))["following"] is True
    assert (await bob.get("/api/v1/follow_requests")).json() == []
    assert (await _account(alice, bob))["followers_count"] == 1


async def test_rejected_request_leaves_no_follow(make_user):
    alice, bob = await make_user("alice"), await make_user("bob", locked=True)
    await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")
    rejected = await bob.post(f"/api/v1/follow_requests/{alice.account_id}/reject")
    assert rejected.status_code == 200
    relationship = await _relationship(alice, bob)
    assert relationship["following"] is False and relationship["requested"] is False
    missing = await bob.post(f"/api/v1/follow_requests/{alice.account_id}/authorize")
    assert missing.status_code == 404


async def test_unfollow(make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")
    response = await alice.post(f"/api/v1/accounts/{bob.account_id}/unfollow")
    assert response.json()["following"] is False
    assert (await _account(alice, bob))["followers_count"] == 0
    assert (await _account(alice, alice))["following_count"] == 0


async def test_block_removes_follows_both_ways_and_prevents_new_ones(make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")
    await bob.post(f"/api/v1/accounts/{alice.account_id}/follow")
    blocked = await alice.post(f"/api/v1/accounts/{bob.account_id}/block")
    assert blocked.json()["blocking"] is True
    assert blocked.json()["following"] is False and blocked.json()["followed_by"] is False
    assert (await _relationship(bob, alice))["blocked_by"] is True
    assert (await _account(alice, alice))["followers_count"] == 0
    assert (await _account(alice, alice))["following_count"] == 0
    refused = await bob.post(f"/api/v1/accounts/{alice.account_id}/follow")
    assert refused.status_code == 403
    assert (await bob.get(f"/api/v1/accounts/{alice.account_id}/followers")).status_code == 404
    assert [a["username"] for a in (await alice.get("/api/v1/blocks")).json()] == ["bob"]
    await alice.post(f"/api/v1/accounts/{bob.account_id}/unblock")
    assert (await bob.post(f"/api/v1/accounts/{alice.account_id}/follow")).json()["following"]


async def test_mute_and_unmute(make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    muted = await alice.post(
        f"/api/v1/accounts/{bob.account_id}/mute", json={"notifications": False}
    )
    assert muted.json()["muting"] is True
    assert muted.json()["muting_notifications"] is False
    assert [a["username"] for a in (await alice.get("/api/v1/mutes")).json()] == ["bob"]
    unmuted = await alice.post(f"/api/v1/accounts/{bob.account_id}/unmute")
    assert unmuted.json()["muting"] is False


async def test_cannot_follow_block_or_mute_yourself_or_nobody(make_user):
    alice = await make_user("alice")
    for action in ("follow", "block", "mute"):
        response = await alice.post(f"/api/v1/accounts/{alice.account_id}/{action}")
        assert response.status_code == 403, action
        missing = await alice.post(f"/api/v1/accounts/999999/{action}")
        assert missing.status_code == 404, action


async def test_followers_list_is_paginated_with_link_headers(make_user, http):
    star = await make_user("star")
    fans = [await make_user(f"fan{i}") for i in range(5)]
    for fan in fans:
        await fan.post(f"/api/v1/accounts/{star.account_id}/follow")
    first = await http.get(f"/api/v1/accounts/{star.account_id}/followers", params={"limit": 2})
    assert [a["username"] for a in first.json()] == ["fan4", "fan3"]
    assert 'rel="next"' in first.headers["link"]
    next_url = first.headers["link"].split(";")[0].strip("<>")
    second = await http.get(next_url)
    assert [a["username"] for a in second.json()] == ["fan2", "fan1"]
    prev_url = second.headers["link"].split(", ")[1].split(";")[0].strip("<>")
    back = await http.get(prev_url)
    assert [a["username"] for a in back.json()] == ["fan4", "fan3"]
    following = await http.get(f"/api/v1/accounts/{fans[0].account_id}/following")
    assert [a["username"] for a in following.json()] == ["star"]
    bad = await http.get(f"/api/v1/accounts/{star.account_id}/followers", params={"max_id": "abc"})
    assert bad.status_code == 422


async def test_concurrent_follows_keep_counters_exact(make_user):
    star = await make_user("star")
    fans = [await make_user(f"fan{i}") for i in range(8)]
    await asyncio.gather(
        *(fan.post(f"/api/v1/accounts/{star.account_id}/follow") for fan in fans for _ in range(2))
    )
    assert (await _account(star, star))["followers_count"] == 8


async def test_relationships_for_several_ids(make_user):
    alice, bob, carol = await make_user("alice"), await make_user("bob"), await make_user("carol")
    await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")
    response = await alice.get(
        "/api/v1/accounts/relationships",
        params=[("id[]", bob.account_id), ("id[]", carol.account_id)],
    )
    assert [(r["id"], r["following"]) for r in response.json()] == [
        (bob.account_id, True),
        (carol.account_id, False),
    ]
