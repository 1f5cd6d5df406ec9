"""Posts through the real API: captions, albums, threads, likes, visibility, edits, deletes."""

from __future__ import annotations

import asyncio
import json
import re

import httpx

from node import db
from node.ids import new_id
from node.settings import get_settings


async def publish(user, **fields) -> dict:
    response = await user.post("/api/v1/statuses", json=fields)
    assert response.status_code == 200, response.text
    return response.json()


async def me(user) -> dict:
    return (await user.get("/api/v1/accounts/verify_credentials")).json()


async def follow(follower, target) -> None:
    response = await follower.post(f"/api/v1/accounts/{target.account_id}/follow")
    assert response.status_code == 200, response.text
    assert response.json()["following"]


async def ready_media(owner, count: int = 1, *, state: str = "ready") -> list[str]:
    """Processed photos of `owner`, as the media service leaves them (setup data only)."""
    ids = []
    for n in range(count):
        media_id = new_id()
        renditions = {
            name: {"key": f"{name}/{media_id}.webp", "mime": "image/webp", "width": w, "height": h}
            for name, w, h in (
                ("original", 4000, 3000),
                ("large", 2048, 1536),
                ("small", 640, 480),
                ("thumbnail", 320, 320),
            )
        }
        await db.execute(
            """INSERT INTO media_attachments (id, account_id, type, state, description,
                   renditions, blurhash, width, height, focus_x, focus_y)
               VALUES ($1, $2, 'image', $3, $4, $5::jsonb, 'LEHV6nWB2yk8pyo0adR*.7kCMdnj',
                       4000, 3000, 0.5, -0.25)""",
            media_id,
            int(owner.account_id),
            state,
            f"photo {n}",
            json.dumps(renditions),
        )
        ids.append(str(media_id))
    return ids


def links(response: httpx.Response) -> dict[str, str]:
    return {
        rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers["link"])
    }


# --- publishing --------------------------------------------------------------------------------


async def test_caption_links_hashtags_mentions_and_urls(make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    status = await publish(
        alice,
        status="Sunset at the pier #GoldenHour #café with @bob and @nobody\n"
        "more: https://example.com/a?b=1#c <b>bold</b>",
    )
    base = get_settings().base_url
    content = status["content"]
    assert (
        f'<a href="{base}/tags/goldenhour" class="mention hashtag" rel="tag">'
        "#<span>GoldenHour</span></a>" in content
    )
    assert f'href="{base}/tags/caf%C3%A9"' in content
    assert (
        f'<span class="h-card" translate="no"><a href="{base}/@bob" class="u-url mention">'
        "@<span>bob</span></a></span>" in content
    )
    assert "@nobody" in content and 'mention">@<span>nobody' not in content
    assert '<a href="https://example.com/a?b=1#c"' in content
    assert "&lt;b&gt;bold&lt;/b&gt;" in content and "<b>" not in content
    assert content.startswith("<p>") and "<br>" in content
    assert sorted(t["name"] for t in status["tags"]) == ["café", "goldenhour"]
    assert status["tags"][0]["url"].startswith(f"{base}/tags/")
    assert status["mentions"] == [
        {"id": bob.account_id, "username": "bob", "url": f"{base}/@bob", "acct": "bob"}
    ]
    assert status["account"]["id"] == alice.account_id
    assert status["visibility"] == "public"
    assert status["application"]["name"] == "tests"
    assert status["favourited"] is False and status["reblog"] is None
    assert status["uri"] == f"{base}/users/alice/statuses/{status['id']}"
    assert (await me(alice))["statuses_count"] == 1

    shown = (await bob.get(f"/api/v1/statuses/{status['id']}")).json()
    assert shown["content"] == content
    assert await db.fetchval("SELECT count(*) FROM tags") == 2


async def test_form_encoded_and_multipart_bodies_are_accepted(make_user):
    alice = await make_user("alice")
    media = await ready_media(alice, 2)
    form = await alice.post(
        "/api/v1/statuses",
        data={"status": "form #one", "visibility": "unlisted", "media_ids[]": media[::-1]},
    )
    assert form.status_code == 200, form.text
    assert form.json()["visibility"] == "unlisted"
    assert [m["id"] for m in form.json()["media_attachments"]] == media[::-1]
    multipart = await alice.post(
        "/api/v1/statuses",
        files={"status": (None, "multipart #two"), "sensitive": (None, "true")},
    )
    assert multipart.status_code == 200, multipart.text
    assert multipart.json()["sensitive"] is True
    assert multipart.json()["tags"] == [
        {"name": "two", "url": f"{get_settings().base_url}/tags/two"}
    ]


async def test_album_keeps_the_order_of_media_ids(make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    first, second, third = await ready_media(alice, 3)
    status = await publish(
        alice, status="Three of the lake", media_ids=[third, first, second], sensitive=False
    )
    attachments = status["media_attachments"]
    assert [m["id"] for m in attachments] == [third, first, second]
    media_base = get_settings().public_media_url
    photo = attachments[1]
    assert photo["type"] == "image"
    assert photo["url"] == f"{media_base}/original/{first}.webp"
    assert photo["preview_url"] == f"{media_base}/small/{first}.webp"
    assert photo["meta"]["original"] == {
        "width": 4000,
        "height": 3000,
        "size": "4000x3000",
        "aspect": 4000 / 3000,
    }
    assert photo["meta"]["small"]["size"] == "640x480"
    assert photo["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    assert photo["description"] == "photo 0"
    assert photo["blurhash"] == "LEHV6nWB2yk8pyo0adR*.7kCMdnj"
    positions = await db.fetch(
        "SELECT id, position FROM media_attachments WHERE post_id = $1 ORDER BY position",
        int(status["id"]),
    )
    assert [str(r["id"]) for r in positions] == [third, first, second]

    # Attached media cannot go on a second post, nor can someone else's media.
    again = await bob.post("/api/v1/statuses", json={"status": "mine?", "media_ids": [first]})
    assert again.status_code == 422
    assert "media_ids" in again.json()["error"]
    reuse = await alice.post("/api/v1/statuses", json={"media_ids": [first]})
    assert reuse.status_code == 422
    assert "already attached" in reuse.json()["error"]

    # A photo-only post (no caption) is fine; it shows in only_media.
    (photo_only,) = await ready_media(alice)
    await publish(alice, media_ids=[photo_only])
    await publish(alice, status="text only")
    only_media = (
        await bob.get(f"/api/v1/accounts/{alice.account_id}/statuses", params={"only_media": "1"})
    ).json()
    assert len(only_media) == 2
    assert all(s["media_attachments"] for s in only_media)


async def test_bad_input_gets_a_clear_error(make_user):
    alice = await make_user("alice")
    too_long = await alice.post("/api/v1/statuses", json={"status": "x" * 2201})
    assert too_long.status_code == 422
    assert "status" in too_long.json()["error"] and "2200" in too_long.json()["error"]
    assert (await publish(alice, status="y" * 2200))["id"]

    too_many = await alice.post(
        "/api/v1/statuses", json={"status": "album", "media_ids": await ready_media(alice, 21)}
    )
    assert too_many.status_code == 422
    assert "media_ids" in too_many.json()["error"] and "20" in too_many.json()["error"]

    unknown_media = await alice.post(
        "/api/v1/statuses", json={"status": "hi", "media_ids": [str(new_id())]}
    )
    assert unknown_media.status_code == 422
    assert "media_ids" in unknown_media.json()["error"]
    malformed_media = await alice.post(
        "/api/v1/statuses", json={"status": "hi", "media_ids": ["not-an-id"]}
    )
    assert malformed_media.status_code == 422

    (processing,) = await ready_media(alice, state="processing")
    busy = await alice.post("/api/v1/statuses", json={"status": "hi", "media_ids": [processing]})
    assert busy.status_code == 422
    assert "media is still being processed" in busy.json()["error"]

    empty = await alice.post("/api/v1/statuses", json={"status": "   "})
    assert empty.status_code == 422
    assert "status" in empty.json()["error"]

    bad_visibility = await alice.post(
        "/api/v1/statuses", json={"status": "hi", "visibility": "friends"}
    )
    assert bad_visibility.status_code == 422
    assert "visibility" in bad_visibility.json()["error"]

    malformed = await alice.post(
        "/api/v1/statuses",
        content=b'{"status": "broken',
        headers={"Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert "JSON" in malformed.json()["error"]

    for path in ("/api/v1/statuses/123456789", "/api/v1/statuses/nope"):
        missing = await alice.get(path)
        assert missing.status_code == 404
        assert missing.json() == {"error": "Record not found"}
    reply_to_missing = await alice.post(
        "/api/v1/statuses", json={"status": "hi", "in_reply_to_id": "123"}
    )
    assert reply_to_missing.status_code == 404

    anonymous = await httpx.AsyncClient(base_url=str(alice.client.base_url)).post(
        "/api/v1/statuses", json={"status": "hi"}
    )
    assert anonymous.status_code == 401
    # Nothing above left a post behind except the one of 2,200 characters.
    assert (await me(alice))["statuses_count"] == 1
    assert (
        await db.fetchval("SELECT count(*) FROM media_attachments WHERE post_id IS NOT NULL") == 0
    )


async def test_idempotency_key_returns_the_same_status(make_user):
    alice = await make_user("alice")
    headers = {"Idempotency-Key": "draft-42"}
    responses = await asyncio.gather(
        *(
            alice.post("/api/v1/statuses", json={"status": "only once"}, headers=headers)
            for _ in range(5)
        )
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    later = await alice.post("/api/v1/statuses", json={"status": "only once"}, headers=headers)
    assert later.json()["id"] == responses[0].json()["id"]
    assert (await me(alice))["statuses_count"] == 1

    other = await alice.post(
        "/api/v1/statuses", json={"status": "another"}, headers={"Idempotency-Key": "draft-43"}
    )
    assert other.json()["id"] != responses[0].json()["id"]
    # A failed attempt does not burn the key.
    failed = await alice.post(
        "/api/v1/statuses", json={"status": ""}, headers={"Idempotency-Key": "draft-44"}
    )
    assert failed.status_code == 422
    retried = await alice.post(
        "/api/v1/statuses", json={"status": "fixed"}, headers={"Idempotency-Key": "draft-44"}
    )
    assert retried.status_code == 200
    # Keys are per account.
    bob = await make_user("bob")
    bobs = await bob.post("/api/v1/statuses", json={"status": "mine"}, headers=headers)
    assert bobs.json()["account"]["id"] == bob.account_id


# --- threads and likes -------------------------------------------------------------------------


async def test_comments_form_a_thread_in_context(make_user):
    alice, bob, carol = await make_user("alice"), await make_user("bob"), await make_user("carol")
    root = await publish(alice, status="Morning fog")
    bob_reply = await publish(bob, status="@alice lovely", in_reply_to_id=root["id"])
    alice_answer = await publish(alice, status="thanks!", in_reply_to_id=bob_reply["id"])
    carol_reply = await publish(carol, status="wow", in_reply_to_id=root["id"])
    bob_again = await publish(bob, status="agreed", in_reply_to_id=carol_reply["id"])

    assert bob_reply["in_reply_to_id"] == root["id"]
    assert bob_reply["in_reply_to_account_id"] == alice.account_id
    shown = (await carol.get(f"/api/v1/statuses/{root['id']}")).json()
    assert shown["replies_count"] == 2

    context = (await carol.get(f"/api/v1/statuses/{root['id']}/context")).json()
    assert context["ancestors"] == []
    assert [s["id"] for s in context["descendants"]] == [
        bob_reply["id"],
        alice_answer["id"],
        carol_reply["id"],
        bob_again["id"],
    ]
    deep = (await carol.get(f"/api/v1/statuses/{alice_answer['id']}/context")).json()
    assert [s["id"] for s in deep["ancestors"]] == [root["id"], bob_reply["id"]]
    assert deep["descendants"] == []
    anonymous = httpx.AsyncClient(base_url=str(alice.client.base_url))
    assert (await anonymous.get(f"/api/v1/statuses/{root['id']}/context")).status_code == 200
    await anonymous.aclose()


async def test_favourites_from_two_users_are_counted_exactly(make_user):
    alice, bob, carol = await make_user("alice"), await make_user("bob"), await make_user("carol")
    status = await publish(alice, status="Golden hour")
    path = f"/api/v1/statuses/{status['id']}"
    first = await bob.post(f"{path}/favourite")
    assert first.status_code == 200
    assert first.json()["favourited"] is True
    assert first.json()["favourites_count"] == 1
    again = await bob.post(f"{path}/favourite")
    assert again.json()["favourites_count"] == 1
    assert (await carol.post(f"{path}/favourite")).json()["favourites_count"] == 2

    seen_by_alice = (await alice.get(path)).json()
    assert seen_by_alice["favourites_count"] == 2 and seen_by_alice["favourited"] is False
    favourited_by = await alice.get(f"{path}/favourited_by")
    assert [a["username"] for a in favourited_by.json()] == ["carol", "bob"]

    undone = await bob.post(f"{path}/unfavourite")
    assert undone.json()["favourited"] is False and undone.json()["favourites_count"] == 1
    assert (await bob.post(f"{path}/unfavourite")).json()["favourites_count"] == 1
    assert (await alice.get(path)).json()["favourites_count"] == 1
    missing = await bob.post("/api/v1/statuses/4242/favourite")
    assert missing.status_code == 404


async def test_concurrent_favourites_are_all_counted(make_user, node):
    alice = await make_user("alice")
    status = await publish(alice, status="Popular")
    fans = await asyncio.gather(*(make_user(f"fan{n}") for n in range(20)))
    path = f"/api/v1/statuses/{status['id']}"
    # One connection per request: a kept-alive connection left idle while twenty accounts
    # are made can be closed by the server just as it is reused.
    clients = [
        httpx.AsyncClient(
            base_url=node.url,
            timeout=60,
            headers={"Authorization": f"Bearer {fan.token}"},
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        for fan in fans
    ]
    try:
        responses = await asyncio.gather(*(c.post(f"{path}/favourite") for c in clients))
        assert all(r.status_code == 200 for r in responses)
        assert (await alice.get(path)).json()["favourites_count"] == 20
        # The same people again, twice each, at once: nothing changes.
        await asyncio.gather(*(c.post(f"{path}/favourite") for c in clients for _ in range(2)))
        assert (await alice.get(path)).json()["favourites_count"] == 20
        favourites = "SELECT count(*) FROM favourites WHERE post_id = $1"
        assert await db.fetchval(favourites, int(status["id"])) == 20
        # Half take theirs back while the others like it again.
        await asyncio.gather(
            *(c.post(f"{path}/unfavourite") for c in clients[:10]),
            *(c.post(f"{path}/favourite") for c in clients[10:]),
        )
        assert (await alice.get(path)).json()["favourites_count"] == 10
    finally:
        for client in clients:
            await client.aclose()


async def test_boosts_count_and_show_who_boosted(make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    status = await publish(alice, status="Share this")
    boost = await bob.post(f"/api/v1/statuses/{status['id']}/reblog")
    assert boost.status_code == 200, boost.text
    assert boost.json()["reblog"]["id"] == status["id"]
    assert boost.json()["reblog"]["reblogs_count"] == 1
    assert boost.json()["reblogged"] is True
    again = await bob.post(f"/api/v1/statuses/{status['id']}/reblog")
    assert again.json()["id"] == boost.json()["id"]
    who = (await alice.get(f"/api/v1/statuses/{status['id']}/reblogged_by")).json()
    assert [a["username"] for a in who] == ["bob"]
    bobs_posts = (await alice.get(f"/api/v1/accounts/{bob.account_id}/statuses")).json()
    assert [s["reblog"]["id"] for s in bobs_posts] == [status["id"]]
    no_boosts = await alice.get(
        f"/api/v1/accounts/{bob.account_id}/statuses", params={"exclude_reblogs": "true"}
    )
    assert no_boosts.json() == []

    undone = await bob.post(f"/api/v1/statuses/{status['id']}/unreblog")
    assert undone.json()["reblogged"] is False and undone.json()["reblogs_count"] == 0
    assert (await alice.get(f"/api/v1/accounts/{bob.account_id}/statuses")).json() == []
    assert (await bob.get(f"/api/v1/statuses/{boost.json()['id']}")).status_code == 404

    private = await publish(alice, status="friends", visibility="private")
    await follow(bob, alice)
    refused = await bob.post(f"/api/v1/statuses/{private['id']}/reblog")
    assert refused.status_code == 403


# --- visibility --------------------------------------------------------------------------------


async def test_followers_only_post_is_hidden_from_non_followers(make_user, http):
    alice, bob, carol = await make_user("alice"), await make_user("bob"), await make_user("carol")
    await follow(bob, alice)
    private = await publish(alice, status="for friends", visibility="private")
    path = f"/api/v1/statuses/{private['id']}"

    assert (await bob.get(path)).status_code == 200
    assert (await bob.get(path)).json()["visibility"] == "private"
    assert (await carol.get(path)).status_code == 404
    assert (await http.get(path)).status_code == 404
    assert (await carol.post(f"{path}/favourite")).status_code == 404
    assert (await carol.get(f"{path}/context")).status_code == 404
    reply = await carol.post(
        "/api/v1/statuses", json={"status": "hi", "in_reply_to_id": private["id"]}
    )
    assert reply.status_code == 404

    listing = f"/api/v1/accounts/{alice.account_id}/statuses"
    assert [s["id"] for s in (await bob.get(listing)).json()] == [private["id"]]
    assert (await carol.get(listing)).json() == []
    assert (await alice.get(listing)).json()[0]["id"] == private["id"]

    # Unfollowing takes the post away again.
    await bob.post(f"/api/v1/accounts/{alice.account_id}/unfollow")
    assert (await bob.get(path)).status_code == 404


async def test_direct_post_is_visible_only_to_the_mentioned(make_user, http):
    alice, bob, carol = await make_user("alice"), await make_user("bob"), await make_user("carol")
    await follow(carol, alice)
    direct = await publish(alice, status="@bob the key is under the mat", visibility="direct")
    path = f"/api/v1/statuses/{direct['id']}"
    assert (await alice.get(path)).status_code == 200
    assert (await bob.get(path)).json()["visibility"] == "direct"
    assert (await carol.get(path)).status_code == 404
    assert (await http.get(path)).status_code == 404
    assert (await carol.get(f"/api/v1/accounts/{alice.account_id}/statuses")).json() == []
    # A direct message is not one of the profile's posts.
    assert (await me(alice))["statuses_count"] == 0
    answer = await publish(
        bob, status="@alice thanks", visibility="direct", in_reply_to_id=direct["id"]
    )
    context = (await alice.get(f"{path}/context")).json()
    assert [s["id"] for s in context["descendants"]] == [answer["id"]]
    assert (await carol.get(f"/api/v1/statuses/{answer['id']}")).status_code == 404


async def test_blocked_user_sees_nothing_of_the_blocker(make_user):
    alice, bob, carol = await make_user("alice"), await make_user("bob"), await make_user("carol")
    post = await publish(alice, status="public view")
    carols = await publish(carol, status="a thread")
    alice_comment = await publish(alice, status="nice", in_reply_to_id=carols["id"])
    bob_fav = await bob.post(f"/api/v1/statuses/{post['id']}/favourite")
    assert bob_fav.status_code == 200
    await alice.post(f"/api/v1/accounts/{bob.account_id}/block")

    assert (await bob.get(f"/api/v1/statuses/{post['id']}")).status_code == 404
    assert (await bob.post(f"/api/v1/statuses/{post['id']}/favourite")).status_code == 404
    assert (await bob.post(f"/api/v1/statuses/{post['id']}/reblog")).status_code == 404
    assert (await bob.get(f"/api/v1/accounts/{alice.account_id}/statuses")).json() == []
    thread = (await bob.get(f"/api/v1/statuses/{carols['id']}/context")).json()
    assert thread["descendants"] == []
    assert (await carol.get(f"/api/v1/statuses/{carols['id']}/context")).json()["descendants"][0][
        "id"
    ] == alice_comment["id"]
    assert (await bob.get("/api/v1/favourites")).json() == []
    # The blocker does not see the blocked either, and favourited_by leaves them out.
    bobs = await publish(bob, status="hello?")
    assert (await alice.get(f"/api/v1/statuses/{bobs['id']}")).status_code == 404
    assert (await alice.get(f"/api/v1/statuses/{post['id']}/favourited_by")).json() == []
    # Mentioning the blocker in a post links nothing; a direct message to them is refused.
    mention = await publish(bob, status="@alice please", visibility="unlisted")
    assert mention["mentions"] == [] and "h-card" not in mention["content"]
    refused = await bob.post(
        "/api/v1/statuses", json={"status": "@alice please", "visibility": "direct"}
    )
    assert refused.status_code == 403


async def test_posts_of_suspended_accounts_disappear(make_user, http):
    alice, bob = await make_user("alice"), await make_user("bob")
    root = await publish(alice, status="still here")
    comment = await publish(bob, status="soon gone", in_reply_to_id=root["id"])
    signed_out = (await http.get(f"/api/v1/statuses/{root['id']}")).json()
    assert "favourited" not in signed_out and "bookmarked" not in signed_out
    # A moderator's suspension, as the moderation service records it.
    await db.execute("UPDATE accounts SET suspended_at = now() WHERE id = $1", int(bob.account_id))
    assert (await alice.get(f"/api/v1/statuses/{comment['id']}")).status_code == 404
    context = (await alice.get(f"/api/v1/statuses/{root['id']}/context")).json()
    assert context["descendants"] == []


# --- edits and deletes -------------------------------------------------------------------------


async def test_edit_keeps_history_and_source(make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    (photo,) = await ready_media(alice)
    status = await publish(alice, status="First words #draft", media_ids=[photo])
    path = f"/api/v1/statuses/{status['id']}"
    history = (await bob.get(f"{path}/history")).json()
    assert len(history) == 1 and "First words" in history[0]["content"]

    edited = await alice.client.put(
        path,
        json={
            "status": "Second words #final @bob",
            "spoiler_text": "lake",
            "media_attributes": [{"id": photo, "description": "a calm lake", "focus": "0.1,0.2"}],
        },
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert "Second words" in body["content"] and body["edited_at"] is not None
    assert body["spoiler_text"] == "lake" and body["sensitive"] is True
    assert [t["name"] for t in body["tags"]] == ["final"]
    assert [m["username"] for m in body["mentions"]] == ["bob"]
    assert body["media_attachments"][0]["description"] == "a calm lake"
    assert body["media_attachments"][0]["meta"]["focus"] == {"x": 0.1, "y": 0.2}

    third = await alice.client.put(path, data={"status": "Third words"})
    assert third.status_code == 200
    history = (await bob.get(f"{path}/history")).json()
    assert [
        ("First" in v["content"], "Second" in v["content"], "Third" in v["content"])
        for v in history
    ] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]
    assert history[0]["media_attachments"][0]["description"] == "photo 0"
    assert history[1]["media_attachments"][0]["description"] == "a calm lake"
    assert history[0]["created_at"] == status["created_at"]
    assert history[0]["account"]["id"] == alice.account_id

    source = (await alice.get(f"{path}/source")).json()
    assert source == {"id": status["id"], "text": "Third words", "spoiler_text": "lake"}
    # An edit that changes nothing adds no version.
    await alice.client.put(path, json={"status": "Third words"})
    assert len((await bob.get(f"{path}/history")).json()) == 3

    assert (await bob.client.put(path, json={"status": "mine now"})).status_code == 403
    assert (await bob.get(f"{path}/source")).status_code == 403
    too_long = await alice.client.put(path, json={"status": "z" * 2201})
    assert too_long.status_code == 422
    not_in_post = await alice.client.put(
        path, json={"media_attributes": [{"id": str(new_id()), "description": "x"}]}
    )
    assert not_in_post.status_code == 422


async def test_delete_returns_the_source_and_fixes_the_counts(make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    root = await publish(alice, status="Keep me")
    comment = await publish(bob, status="Delete me #gone", in_reply_to_id=root["id"])
    await alice.post(f"/api/v1/statuses/{comment['id']}/favourite")
    await alice.post(f"/api/v1/statuses/{comment['id']}/reblog")
    assert (await me(alice))["statuses_count"] == 2
    assert (await bob.get(f"/api/v1/statuses/{root['id']}")).json()["replies_count"] == 1

    assert (await alice.client.delete(f"/api/v1/statuses/{comment['id']}")).status_code == 403
    deleted = await bob.client.delete(f"/api/v1/statuses/{comment['id']}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["id"] == comment["id"]
    assert deleted.json()["text"] == "Delete me #gone"

    assert (await bob.get(f"/api/v1/statuses/{comment['id']}")).status_code == 404
    assert (await bob.client.delete(f"/api/v1/statuses/{comment['id']}")).status_code == 404
    assert (await bob.get(f"/api/v1/statuses/{root['id']}")).json()["replies_count"] == 0
    assert (await me(bob))["statuses_count"] == 0
    # Alice's boost of it went with it.
    assert (await me(alice))["statuses_count"] == 1
    assert (await alice.get(f"/api/v1/accounts/{alice.account_id}/statuses")).json()[0][
        "id"
    ] == root["id"]
    assert (await alice.get(f"/api/v1/statuses/{root['id']}/context")).json()["descendants"] == []
    assert (await alice.get("/api/v1/favourites")).json() == []
    assert await db.fetchval(
        "SELECT deleted_at IS NOT NULL FROM posts WHERE id = $1", int(comment["id"])
    )


async def test_delete_and_redraft_reuses_the_album(make_user):
    alice = await make_user("alice")
    photos = await ready_media(alice, 2)
    status = await publish(alice, status="Oops", media_ids=photos)
    deleted = await alice.client.delete(
        f"/api/v1/statuses/{status['id']}", params={"delete_media": "false"}
    )
    assert [m["id"] for m in deleted.json()["media_attachments"]] == photos
    redraft = await publish(alice, status=deleted.json()["text"] + " fixed", media_ids=photos)
    assert [m["id"] for m in redraft["media_attachments"]] == photos


# --- lists and pagination ----------------------------------------------------------------------


async def test_account_statuses_paginate_with_link_headers(make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    posted = [
        await publish(alice, status=f"photo {n} #walk" if n % 2 else f"photo {n}") for n in range(5)
    ]
    reply = await publish(
        alice, status="reply to bob", in_reply_to_id=(await publish(bob, status="hi"))["id"]
    )
    ids = [reply["id"]] + [p["id"] for p in reversed(posted)]
    path = f"/api/v1/accounts/{alice.account_id}/statuses"

    seen, url, pages = [], path, 0
    while url and pages < 10:
        page = await bob.get(url, params={"limit": 2} if url == path else None)
        assert page.status_code == 200
        if not page.json():
            break
        seen += [s["id"] for s in page.json()]
        assert "next" in links(page) and "prev" in links(page)
        url = links(page)["next"]
        pages += 1
    assert seen == ids

    first = await bob.get(path, params={"limit": 2})
    newer = await bob.get(links(first)["prev"])
    assert newer.json() == []
    older = await bob.get(path, params={"min_id": ids[3], "limit": 2})
    assert [s["id"] for s in older.json()] == ids[1:3]
    since = await bob.get(path, params={"since_id": ids[3], "limit": 2})
    assert [s["id"] for s in since.json()] == ids[:2]

    no_replies = await bob.get(path, params={"exclude_replies": "true"})
    assert [s["id"] for s in no_replies.json()] == ids[1:]
    tagged = await bob.get(path, params={"tagged": "Walk"})
    assert [s["id"] for s in tagged.json()] == [posted[3]["id"], posted[1]["id"]]
    assert (await bob.get("/api/v1/accounts/999/statuses")).status_code == 404


async def test_pins_are_limited_and_listed(make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    posted = [await publish(alice, status=f"post {n}") for n in range(6)]
    for status in posted[:5]:
        pinned = await alice.post(f"/api/v1/statuses/{status['id']}/pin")
        assert pinned.status_code == 200 and pinned.json()["pinned"] is True
    assert (await alice.post(f"/api/v1/statuses/{posted[0]['id']}/pin")).status_code == 200
    sixth = await alice.post(f"/api/v1/statuses/{posted[5]['id']}/pin")
    assert sixth.status_code == 422
    assert (await bob.post(f"/api/v1/statuses/{posted[5]['id']}/pin")).status_code == 422
    private = await publish(alice, status="private", visibility="private")
    assert (await alice.post(f"/api/v1/statuses/{private['id']}/pin")).status_code == 422

    listing = await bob.get(
        f"/api/v1/accounts/{alice.account_id}/statuses", params={"pinned": "true"}
    )
    assert {s["id"] for s in listing.json()} == {s["id"] for s in posted[:5]}
    await alice.post(f"/api/v1/statuses/{posted[0]['id']}/unpin")
    assert (await alice.post(f"/api/v1/statuses/{posted[5]['id']}/pin")).status_code == 200


async def test_favourites_and_bookmarks_lists_paginate(make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    posted = [await publish(alice, status=f"post {n}") for n in range(3)]
    for status in posted:
        await bob.post(f"/api/v1/statuses/{status['id']}/favourite")
    for status in posted[::-1]:
        bookmarked = await bob.post(f"/api/v1/statuses/{status['id']}/bookmark")
        assert bookmarked.json()["bookmarked"] is True

    page = await bob.get("/api/v1/favourites", params={"limit": 2})
    assert [s["id"] for s in page.json()] == [posted[2]["id"], posted[1]["id"]]
    assert all(s["favourited"] for s in page.json())
    rest = await bob.get(links(page)["next"])
    assert [s["id"] for s in rest.json()] == [posted[0]["id"]]

    # Bookmarks are ordered by when they were made, not by post.
    marks = await bob.get("/api/v1/bookmarks", params={"limit": 2})
    assert [s["id"] for s in marks.json()] == [posted[0]["id"], posted[1]["id"]]
    more = await bob.get(links(marks)["next"])
    assert [s["id"] for s in more.json()] == [posted[2]["id"]]
    await bob.post(f"/api/v1/statuses/{posted[0]['id']}/unbookmark")
    assert len((await bob.get("/api/v1/bookmarks")).json()) == 2
    assert (await alice.get("/api/v1/bookmarks")).json() == []


# --- a real client -----------------------------------------------------------------------------


async def test_mastodon_py_posts_favourites_and_comments(make_user, node):
    from mastodon import Mastodon

    alice, bob = await make_user("alice"), await make_user("bob")

    def client(user) -> Mastodon:
        return Mastodon(access_token=user.token, api_base_url=node.url, version_check_mode="none")

    def scenario() -> tuple:
        alice_api, bob_api = client(alice), client(bob)
        status = alice_api.status_post("Evening light #dusk @bob", visibility="public")
        bob_api.status_favourite(status["id"])
        comment = bob_api.status_post("Beautiful!", in_reply_to_id=status["id"])
        alice_view = alice_api.status(status["id"])
        bob_view = bob_api.status(status["id"])
        thread = alice_api.status_context(status["id"])
        return status, comment, alice_view, bob_view, thread, bob_api.favourites()

    status, comment, alice_view, bob_view, thread, bobs_favourites = await asyncio.to_thread(
        scenario
    )
    assert [t["name"] for t in status["tags"]] == ["dusk"]
    assert status["mentions"][0]["acct"] == "bob"
    for view in (alice_view, bob_view):
        assert view["favourites_count"] == 1
        assert view["replies_count"] == 1
    assert bob_view["favourited"] is True and alice_view["favourited"] is False
    assert [s["id"] for s in thread["descendants"]] == [comment["id"]]
    assert thread["descendants"][0]["in_reply_to_id"] == status["id"]
    assert [s["id"] for s in bobs_favourites] == [status["id"]]
