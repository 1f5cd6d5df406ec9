"""Follow suggestions and the profile directory through the real API: friends of friends first,
then popular local accounts; never someone already followed, requested, blocked, muted or
dismissed."""

from __future__ import annotations

from node import db
from tests.test_search import publish


async def follow(follower, target) -> None:
    response = await follower.post(f"/api/v1/accounts/{target.account_id}/follow")
    assert response.status_code == 200, response.text


async def suggested(user, **params) -> list[tuple[str, list[str]]]:
    response = await user.get("/api/v2/suggestions", params=params)
    assert response.status_code == 200, response.text
    return [(s["account"]["username"], s["sources"]) for s in response.json()]


async def test_friends_of_friends_come_first_then_popular_local_accounts(make_user):
    alice, bob, carol, dave, erin, ivy = [
        await make_user(name) for name in ("alice", "bob", "carol", "dave", "erin", "ivy")
    ]
    await follow(alice, bob)
    await follow(alice, carol)
    await follow(bob, dave)
    await follow(carol, dave)
    await follow(bob, erin)
    for fan in (dave, erin, bob):
        await follow(fan, ivy)  # ivy is a friend of a friend once, and followed by three
    await publish(ivy, status="popular and posting")
    quiet = await make_user("quiet")  # followed by many but never posted: not "popular here"
    for fan in (dave, erin):
        await follow(fan, quiet)

    found = await suggested(alice)
    assert found[:3] == [
        ("dave", ["friends_of_friends"]),  # followed by two of alice's followees
        ("ivy", ["friends_of_friends"]),  # one followee follows her, and she is popular
        ("erin", ["friends_of_friends"]),
    ]
    names = [name for name, _ in found]
    assert {"alice", "bob", "carol"}.isdisjoint(names)  # herself and whom she follows
    assert "quiet" not in names

    # A newcomer who follows nobody gets the popular local accounts that post.
    newcomer = await make_user("newcomer")
    assert await suggested(newcomer) == [("ivy", ["most_followed"])]
    v2 = (await newcomer.get("/api/v2/suggestions")).json()[0]
    assert v2["source"] == "global" and v2["account"]["id"] == ivy.account_id
    v1 = (await newcomer.get("/api/v1/suggestions")).json()
    assert [a["id"] for a in v1] == [ivy.account_id]
    assert await suggested(alice, limit=1) == [("dave", ["friends_of_friends"])]


async def test_dismissed_blocked_muted_and_requested_accounts_are_not_suggested(make_user, http):
    alice, bob = await make_user("alice"), await make_user("bob")
    dave, erin, frank = await make_user("dave"), await make_user("erin"), await make_user("frank")
    gina = await make_user("gina", locked=True)
    await follow(alice, bob)
    for target in (dave, erin, frank, gina):
        await follow(bob, target)
    await gina.post(f"/api/v1/follow_requests/{bob.account_id}/authorize")
    assert {name for name, _ in await suggested(alice)} == {"dave", "erin", "frank", "gina"}

    dismissed = await alice.client.delete(f"/api/v1/suggestions/{dave.account_id}")
    assert dismissed.status_code == 200 and dismissed.json() == {}
    again = await alice.client.delete(f"/api/v1/suggestions/{dave.account_id}")
    assert again.status_code == 200
    await alice.post(f"/api/v1/accounts/{erin.account_id}/mute")
    await frank.post(f"/api/v1/accounts/{alice.account_id}/block")
    await follow(alice, gina)  # a pending request
    assert await suggested(alice) == []

    assert (await alice.client.delete("/api/v1/suggestions/999")).status_code == 404
    assert (await alice.client.delete("/api/v1/suggestions/x")).status_code == 404
    assert (await alice.get("/api/v2/suggestions", params={"limit": "0"})).status_code == 422
    assert (await http.get("/api/v2/suggestions")).status_code == 401


async def test_the_directory_lists_discoverable_accounts(make_user, http):
    first, second, third = (
        await make_user("first"),
        await make_user("second"),
        await make_user("third"),
    )
    await publish(first, status="most recent poster")
    await db.execute(
        "UPDATE accounts SET discoverable = false WHERE id = $1", int(third.account_id)
    )

    new = (await http.get("/api/v1/directory", params={"order": "new"})).json()
    assert [a["username"] for a in new] == ["second", "first"]
    active = (
        await http.get("/api/v1/directory", params={"order": "active", "local": "true"})
    ).json()
    assert [a["username"] for a in active] == ["first", "second"]
    assert [
        a["username"] for a in (await http.get("/api/v1/directory?limit=1&offset=1")).json()
    ] == ["second"]
    await second.post(f"/api/v1/accounts/{first.account_id}/block")
    assert [a["username"] for a in (await second.get("/api/v1/directory")).json()] == ["second"]
    assert (await http.get("/api/v1/directory", params={"order": "popular"})).status_code == 422
    assert (await http.get("/api/v1/directory", params={"limit": "-1"})).status_code == 422
