"""Public, hashtag and list timelines; lists and their members; followed hashtags; markers."""

from __future__ import annotations

from node import db
from node.ids import new_id
from tests.conftest import SignedInUser


async def publish(user: SignedInUser, status: str, **fields: object) -> str:
    response = await user.post("/api/v1/statuses", data={"status": status, **fields})
    assert response.status_code == 200, response.text
    return response.json()["id"]


async def ids_of(user_or_http, path: str, **params: object) -> list[str]:
    response = await user_or_http.get(path, params=params)
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


async def remote_post(text: str) -> str:
    """A post from another node, stored as the inbox stores one."""
    account_id, post_id = new_id(), new_id()
    await db.execute(
        """INSERT INTO accounts (id, username, domain, uri, url)
           VALUES ($1, 'faraway', 'remote.example', 'https://remote.example/users/faraway',
                   'https://remote.example/@faraway')""",
        account_id,
    )
    await db.execute(
        """INSERT INTO posts (id, account_id, uri, url, local, content, text)
           VALUES ($1, $2, $3, $3, false, $4, $4)""",
        post_id,
        account_id,
        f"https://remote.example/users/faraway/statuses/{post_id}",
        text,
    )
    return str(post_id)


async def test_public_timeline_local_remote_and_media_flags(make_user, http) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    plain = await publish(alice, "words only")
    unlisted = await publish(alice, "quiet", visibility="unlisted")
    private = await publish(alice, "friends", visibility="private")
    photo = await publish(bob, "a photo")
    await db.execute(
        """INSERT INTO media_attachments (id, account_id, post_id, type, state)
           VALUES ($1, $2, $3, 'image', 'ready')""",
        new_id(),
        int(bob.account_id),
        int(photo),
    )
    comment = await publish(bob, "nice", in_reply_to_id=plain)
    remote = await remote_post("from afar")

    everything = await ids_of(http, "/api/v1/timelines/public")
    assert everything == [remote, photo, plain]
    assert unlisted not in everything and private not in everything and comment not in everything
    assert await ids_of(http, "/api/v1/timelines/public", local="true") == [photo, plain]
    assert await ids_of(http, "/api/v1/timelines/public", remote="true") == [remote]
    assert await ids_of(http, "/api/v1/timelines/public", only_media="true") == [photo]
    assert await ids_of(http, "/api/v1/timelines/public", limit=1, max_id=photo) == [plain]
    # A signed-in reader does not see the accounts they block.
    assert (await alice.post(f"/api/v1/accounts/{bob.account_id}/block")).status_code == 200
    assert await ids_of(alice, "/api/v1/timelines/public", local="true") == [plain]


async def test_hashtag_timeline_with_any_all_and_none(make_user, http) -> None:
    alice = await make_user("alice")
    cats = await publish(alice, "#cats")
    both = await publish(alice, "#cats and #dogs")
    dogs = await publish(alice, "#Dogs")
    birds = await publish(alice, "#birds")
    await publish(alice, "#cats but unlisted", visibility="unlisted")

    assert await ids_of(http, "/api/v1/timelines/tag/cats") == [both, cats]
    assert await ids_of(http, "/api/v1/timelines/tag/CATS") == [both, cats]
    assert await ids_of(http, "/api/v1/timelines/tag/cats", **{"any[]": ["dogs", "birds"]}) == [
        birds,
        dogs,
        both,
        cats,
    ]
    assert await ids_of(http, "/api/v1/timelines/tag/cats", **{"all[]": "dogs"}) == [both]
    assert await ids_of(http, "/api/v1/timelines/tag/cats", **{"none[]": "dogs"}) == [cats]
    assert await ids_of(http, "/api/v1/timelines/tag/cats", **{"all[]": "unheard"}) == []
    assert await ids_of(http, "/api/v1/timelines/tag/nothing") == []
    assert await ids_of(http, "/api/v1/timelines/tag/cats", limit=1, max_id=both) == [cats]
    assert await ids_of(http, "/api/v1/timelines/tag/cats", remote="true") == []


async def test_lists_crud_members_and_timeline(make_user) -> None:
    alice, bob, carol = await make_user("alice"), await make_user("bob"), await make_user("carol")
    assert (await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")).status_code == 200

    created = await alice.post("/api/v1/lists", json={"title": "Friends"})
    assert created.status_code == 200, created.text
    entity = created.json()
    assert entity["title"] == "Friends" and entity["replies_policy"] == "list"
    assert entity["exclusive"] is False
    list_id = entity["id"]
    assert (await alice.post("/api/v1/lists", data={"title": " "})).status_code == 422
    assert (
        await alice.post("/api/v1/lists", data={"title": "x", "replies_policy": "all"})
    ).status_code == 422

    updated = await alice.client.put(f"/api/v1/lists/{list_id}", data={"title": "Close friends"})
    assert updated.json()["title"] == "Close friends"
    assert [item["id"] for item in (await alice.get("/api/v1/lists")).json()] == [list_id]
    # Someone else's list does not exist for them.
    assert (await bob.get(f"/api/v1/lists/{list_id}")).status_code == 404
    assert (await bob.get(f"/api/v1/timelines/list/{list_id}")).status_code == 404

    add = await alice.post(
        f"/api/v1/lists/{list_id}/accounts", data={"account_ids[]": bob.account_id}
    )
    assert add.status_code == 200, add.text
    not_followed = await alice.post(
        f"/api/v1/lists/{list_id}/accounts", data={"account_ids[]": carol.account_id}
    )
    assert not_followed.status_code == 404
    members = (await alice.get(f"/api/v1/lists/{list_id}/accounts")).json()
    assert [m["username"] for m in members] == ["bob"]
    assert [
        item["id"] for item in (await alice.get(f"/api/v1/accounts/{bob.account_id}/lists")).json()
    ] == [list_id]

    bobs = await publish(bob, "bob's photo")
    await publish(carol, "carol's photo")
    assert await ids_of(alice, f"/api/v1/timelines/list/{list_id}") == [bobs]

    removed = await alice.client.request(
        "DELETE", f"/api/v1/lists/{list_id}/accounts", data={"account_ids[]": bob.account_id}
    )
    assert removed.status_code == 200, removed.text
    assert await ids_of(alice, f"/api/v1/timelines/list/{list_id}") == []
    assert (await alice.client.delete(f"/api/v1/lists/{list_id}")).status_code == 200
    assert (await alice.get(f"/api/v1/lists/{list_id}")).status_code == 404


async def test_unfollow_takes_the_account_out_of_lists(make_user) -> None:
    from tests.rig import wait_until

    alice, bob = await make_user("alice"), await make_user("bob")
    assert (await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")).status_code == 200
    list_id = (await alice.post("/api/v1/lists", data={"title": "L"})).json()["id"]
    await alice.post(f"/api/v1/lists/{list_id}/accounts", data={"account_ids[]": bob.account_id})
    assert (await alice.post(f"/api/v1/accounts/{bob.account_id}/unfollow")).status_code == 200

    async def emptied() -> bool:
        return (await alice.get(f"/api/v1/lists/{list_id}/accounts")).json() == []

    await wait_until(emptied)


async def test_followed_hashtags(make_user) -> None:
    alice = await make_user("alice")
    followed = await alice.post("/api/v1/tags/Photography/follow")
    assert followed.status_code == 200, followed.text
    assert followed.json()["name"] == "photography" and followed.json()["following"] is True
    assert (await alice.post("/api/v1/tags/Photography/follow")).status_code == 200
    await alice.post("/api/v1/tags/film/follow")
    listed = (await alice.get("/api/v1/followed_tags")).json()
    assert [t["name"] for t in listed] == ["film", "photography"]
    unfollowed = await alice.post("/api/v1/tags/film/unfollow")
    assert unfollowed.json()["following"] is False
    assert [t["name"] for t in (await alice.get("/api/v1/followed_tags")).json()] == ["photography"]
    assert (await alice.post("/api/v1/tags/not%20a%20tag/follow")).status_code == 422
    assert (await alice.post("/api/v1/tags/neverused/unfollow")).status_code == 404


async def test_markers_keep_where_reading_stopped(make_user) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    assert (await alice.get("/api/v1/markers", params={"timeline[]": "home"})).json() == {}
    post_id = await publish(alice, "read up to here")
    saved = await alice.post("/api/v1/markers", data={"home[last_read_id]": post_id})
    assert saved.status_code == 200, saved.text
    assert saved.json()["home"]["last_read_id"] == post_id
    assert saved.json()["home"]["version"] == 1
    again = await alice.post(
        "/api/v1/markers",
        json={"home": {"last_read_id": post_id}, "notifications": {"last_read_id": "12345"}},
    )
    assert again.json()["home"]["version"] == 2
    both = (
        await alice.get("/api/v1/markers", params={"timeline[]": ["home", "notifications"]})
    ).json()
    assert both["home"]["last_read_id"] == post_id
    assert both["notifications"]["last_read_id"] == "12345"
    assert set((await alice.get("/api/v1/markers", params={"timeline[]": "home"})).json()) == {
        "home"
    }
    assert (await bob.get("/api/v1/markers")).json() == {}
    bad = await alice.post("/api/v1/markers", data={"home[last_read_id]": "x"})
    assert bad.status_code == 422
