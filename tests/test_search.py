"""Search through the real API: people by name with typos, hashtags by prefix, posts by caption
and alt text, only ever what the searcher may see, and bad input answered as Mastodon does."""

from __future__ import annotations

import asyncio
import json

from mastodon import Mastodon

from node import db, trends
from node.ids import new_id
from node.settings import get_settings


async def publish(user, **fields) -> dict:
    response = await user.post("/api/v1/statuses", json=fields)
    assert response.status_code == 200, response.text
    return response.json()


async def photo(owner, alt_text: str) -> str:
    """A processed photo of `owner` with alt text, as the media service leaves it (setup data)."""
    media_id = new_id()
    renditions = {
        name: {"key": f"{name}/{media_id}.webp", "mime": "image/webp", "width": w, "height": h}
        for name, w, h in (("original", 1600, 1200), ("small", 640, 480))
    }
    await db.execute(
        """INSERT INTO media_attachments (id, account_id, type, state, description, renditions,
               blurhash, width, height)
           VALUES ($1, $2, 'image', 'ready', $3, $4::jsonb, 'LEHV6nWB2yk8pyo0adR*.7kCMdnj',
                   1600, 1200)""",
        media_id,
        int(owner.account_id),
        alt_text,
        json.dumps(renditions),
    )
    return str(media_id)


async def search(user, q: str, **params) -> dict:
    response = await user.get("/api/v2/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()


def ids(items: list[dict]) -> list[str]:
    return [item["id"] for item in items]


# --- accounts ----------------------------------------------------------------------------------


async def test_people_are_found_by_part_of_their_name_even_with_a_typo(make_user):
    alice = await make_user("alice")
    await alice.client.patch(
        "/api/v1/accounts/update_credentials",
        data={"display_name": "Alice Wonderland", "note": "Film photographer in Lisbon"},
    )
    alfred = await make_user("alfred")
    bob = await make_user("bob")

    # A swapped pair of letters in the username still finds her, and first.
    found = await search(bob, "alcie", type="accounts")
    assert ids(found["accounts"])[0] == alice.account_id
    assert found["accounts"][0]["display_name"] == "Alice Wonderland"
    # A letter missing from a word of the display name.
    assert ids((await search(bob, "wondrland", type="accounts"))["accounts"]) == [alice.account_id]
    # Prefixes of the username and of a word of the display name; case and accents do not matter.
    assert set(ids((await search(bob, "al", type="accounts"))["accounts"])) == {
        alice.account_id,
        alfred.account_id,
    }
    assert ids((await search(bob, "WÖNDER", type="accounts"))["accounts"]) == [alice.account_id]
    # Several words, in any order, one of them misspelt.
    assert ids((await search(bob, "wondrland alice", type="accounts"))["accounts"]) == [
        alice.account_id
    ]
    # A word of the bio.
    assert ids((await search(bob, "lisbon", type="accounts"))["accounts"]) == [alice.account_id]
    # The exact username comes first, @ and all.
    assert ids((await search(bob, "@alfred", type="accounts"))["accounts"])[0] == alfred.account_id
    # v1 account search answers the same way (signed in only).
    v1 = await bob.get("/api/v1/accounts/search", params={"q": "alcie"})
    assert v1.status_code == 200 and ids(v1.json())[0] == alice.account_id
    # Nothing like it: nothing found.
    assert (await search(bob, "zzyzx", type="accounts"))["accounts"] == []


async def test_following_and_blocks_shape_account_results(make_user):
    alice, alina, bob = await make_user("alice"), await make_user("alina"), await make_user("bob")
    await bob.post(f"/api/v1/accounts/{alina.account_id}/follow")
    # following=true keeps to the accounts the searcher follows.
    assert ids((await search(bob, "ali", type="accounts", following="true"))["accounts"]) == [
        alina.account_id
    ]
    # Followed accounts rank first among equal matches.
    assert ids((await search(bob, "ali", type="accounts"))["accounts"])[0] == alina.account_id
    # Blocking, either way, hides the account.
    await alice.post(f"/api/v1/accounts/{bob.account_id}/block")
    assert alice.account_id not in ids((await search(bob, "alice", type="accounts"))["accounts"])
    assert bob.account_id not in ids((await search(alice, "bob", type="accounts"))["accounts"])


async def test_undiscoverable_accounts_are_found_only_by_their_exact_name(make_user):
    hidden, bob = await make_user("hiddenhannah"), await make_user("bob")
    await db.execute(
        "UPDATE accounts SET discoverable = false WHERE id = $1", int(hidden.account_id)
    )
    assert (await search(bob, "hiddenh", type="accounts"))["accounts"] == []
    assert ids((await search(bob, "hiddenhannah", type="accounts"))["accounts"]) == [
        hidden.account_id
    ]


# --- hashtags ---------------------------------------------------------------------------------


async def test_hashtags_are_found_by_prefix_with_their_usage(make_user, http):
    alice, bob = await make_user("alice"), await make_user("bob")
    await publish(alice, status="Sunset at the pier #GoldenHour #café")
    await publish(bob, status="Again #goldenhour")
    await publish(bob, status="#goldfish")
    await trends.refresh_trends()  # the periodic job: this week's counts order the prefix matches
    found = await search(bob, "#gold", type="hashtags")
    names = [tag["name"] for tag in found["hashtags"]]
    assert names == ["GoldenHour", "goldfish"]  # the most used (by distinct people) first
    golden = found["hashtags"][0]
    assert golden["url"] == f"{get_settings().base_url}/tags/goldenhour"
    assert len(golden["history"]) == 7
    assert golden["history"][0]["uses"] == "2" and golden["history"][0]["accounts"] == "2"
    assert golden["following"] is False
    # The exact name first; accents folded ("cafe" finds #café); anonymous searches see tags.
    assert [t["name"] for t in (await search(bob, "goldfish", type="hashtags"))["hashtags"]][
        0
    ] == "goldfish"
    anonymous = (await http.get("/api/v2/search", params={"q": "cafe"})).json()
    assert [t["name"] for t in anonymous["hashtags"]] == ["café"]
    assert "following" not in anonymous["hashtags"][0]
    assert anonymous["statuses"] == []  # post search needs a signed-in user, as on Mastodon


async def test_a_hashtag_page_has_history_and_following_state(make_user, http):
    alice = await make_user("alice")
    await publish(alice, status="Fog #Morning")
    tag = (await alice.get("/api/v1/tags/morning")).json()
    assert tag["name"] == "Morning" and tag["following"] is False
    assert [day["uses"] for day in tag["history"]] == ["1", "0", "0", "0", "0", "0", "0"]
    days = [int(day["day"]) for day in tag["history"]]
    assert days == sorted(days, reverse=True) and days[0] - days[1] == 86400
    followed = await alice.post("/api/v1/tags/morning/follow")
    assert followed.status_code == 200, followed.text
    assert (await alice.get("/api/v1/tags/Morning")).json()["following"] is True
    # Anyone may look; a name nobody used yet is a tag with no uses; a non-name is a 404.
    unused = await http.get("/api/v1/tags/neverused")
    assert unused.status_code == 200 and unused.json()["history"][0]["uses"] == "0"
    assert (await http.get("/api/v1/tags/not-a-tag")).status_code == 404


# --- posts ------------------------------------------------------------------------------------


async def test_posts_are_found_by_a_caption_word_an_alt_text_word_and_a_hashtag(make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    pier = await publish(
        alice,
        status="Sunset at the pier #GoldenHour",
        media_ids=[await photo(alice, "A red lighthouse behind fishing boats")],
    )
    other = await publish(alice, status="Breakfast in Montréal")
    assert ids((await search(bob, "pier", type="statuses"))["statuses"]) == [pier["id"]]
    assert ids((await search(bob, "lighthouse", type="statuses"))["statuses"]) == [pier["id"]]
    assert ids((await search(bob, "sunset lighthouse"))["statuses"]) == [pier["id"]]
    assert ids((await search(bob, "#goldenhour", type="statuses"))["statuses"]) == [pier["id"]]
    assert ids((await search(bob, "goldenhour", type="statuses"))["statuses"]) == [pier["id"]]
    # Prefixes and accents: "montreal" and "breakf" find the second post.
    assert ids((await search(bob, "montreal", type="statuses"))["statuses"]) == [other["id"]]
    assert ids((await search(bob, "breakf", type="statuses"))["statuses"]) == [other["id"]]
    shown = (await search(bob, "pier", type="statuses"))["statuses"][0]
    assert shown["media_attachments"][0]["description"] == "A red lighthouse behind fishing boats"
    # account_id narrows to one author.
    assert (await search(bob, "pier", type="statuses", account_id=bob.account_id))["statuses"] == []


async def test_better_and_newer_matches_rank_first(make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    older = await publish(alice, status="harbour")
    alt_only = await publish(
        alice, status="Evening", media_ids=[await photo(alice, "the harbour at night")]
    )
    newer = await publish(alice, status="harbour again")
    found = ids((await search(bob, "harbour", type="statuses"))["statuses"])
    # Caption matches outrank alt-text matches; among equals the newer comes first.
    assert found == [newer["id"], older["id"], alt_only["id"]]
    page = await search(bob, "harbour", type="statuses", limit=1, offset=1)
    assert ids(page["statuses"]) == [older["id"]]


async def test_private_and_direct_posts_never_show_up_for_outsiders(make_user, http):
    alice, follower, outsider, friend = (
        await make_user("alice"),
        await make_user("follower"),
        await make_user("outsider"),
        await make_user("friend"),
    )
    await follower.post(f"/api/v1/accounts/{alice.account_id}/follow")
    private = await publish(alice, status="Secret picnic #picnic", visibility="private")
    direct = await publish(alice, status="@friend picnic details", visibility="direct")
    public = await publish(alice, status="Public picnic photos")

    assert ids((await search(outsider, "picnic", type="statuses"))["statuses"]) == [public["id"]]
    assert ids((await search(outsider, "#picnic", type="statuses"))["statuses"]) == []
    assert set(ids((await search(follower, "picnic", type="statuses"))["statuses"])) == {
        public["id"],
        private["id"],
    }
    assert set(ids((await search(friend, "picnic", type="statuses"))["statuses"])) == {
        public["id"],
        direct["id"],
    }
    assert set(ids((await search(alice, "picnic", type="statuses"))["statuses"])) == {
        public["id"],
        private["id"],
        direct["id"],
    }
    anonymous = (await http.get("/api/v2/search", params={"q": "picnic"})).json()
    assert anonymous["statuses"] == []
    # A block hides the author's posts too.
    await alice.post(f"/api/v1/accounts/{outsider.account_id}/block")
    assert (await search(outsider, "picnic", type="statuses"))["statuses"] == []


async def test_edits_and_deletes_are_immediately_findable_or_not(make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    media_id = await photo(alice, "a heron")
    post = await publish(alice, status="Morning fog", media_ids=[media_id])
    assert ids((await search(bob, "fog", type="statuses"))["statuses"]) == [post["id"]]

    edited = await alice.client.put(
        f"/api/v1/statuses/{post['id']}",
        json={
            "status": "Evening mist",
            "media_ids": [media_id],
            "media_attributes": [{"id": media_id, "description": "a kingfisher"}],
        },
    )
    assert edited.status_code == 200, edited.text
    # No waiting: the search document changed in the edit's own transaction.
    assert (await search(bob, "fog", type="statuses"))["statuses"] == []
    assert (await search(bob, "heron", type="statuses"))["statuses"] == []
    assert ids((await search(bob, "mist", type="statuses"))["statuses"]) == [post["id"]]
    assert ids((await search(bob, "kingfisher", type="statuses"))["statuses"]) == [post["id"]]

    deleted = await alice.client.delete(f"/api/v1/statuses/{post['id']}")
    assert deleted.status_code == 200, deleted.text
    assert (await search(bob, "mist", type="statuses"))["statuses"] == []
    assert (await search(bob, "kingfisher", type="statuses"))["statuses"] == []
    assert await db.fetchval("SELECT count(*) FROM post_search") == 0


# --- URLs ------------------------------------------------------------------------------------


async def test_a_local_profile_or_post_url_finds_what_it_points_at(make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    post = await publish(alice, status="Lake")
    base = get_settings().base_url
    assert ids((await search(bob, f"{base}/@alice"))["accounts"]) == [alice.account_id]
    assert ids((await search(bob, f"{base}/users/alice"))["accounts"]) == [alice.account_id]
    by_url = await search(bob, post["url"])
    assert ids(by_url["statuses"]) == [post["id"]] and by_url["accounts"] == []
    assert ids((await search(bob, post["uri"]))["statuses"]) == [post["id"]]
    assert await search(bob, f"{base}/@nobody") == {"accounts": [], "statuses": [], "hashtags": []}


# --- bad input --------------------------------------------------------------------------------


async def test_bad_search_input_is_answered_as_mastodon_does(make_user, http):
    bob = await make_user("bob")
    for params in ({}, {"q": ""}, {"q": "   "}):
        response = await bob.get("/api/v2/search", params=params)
        assert response.status_code == 400, params
        assert "q" in response.json()["error"]
    cases = [
        ({"q": "a", "type": "people"}, 422, "type"),
        ({"q": "a", "limit": "0"}, 422, "limit"),
        ({"q": "a", "limit": "many"}, 422, "limit"),
        ({"q": "a", "offset": "-1"}, 422, "offset"),
        ({"q": "a", "account_id": "x"}, 422, "account_id"),
        ({"q": "a", "resolve": "perhaps"}, 422, "resolve"),
        ({"q": "a" * 501}, 422, "q"),
    ]
    for params, status, field in cases:
        response = await bob.get("/api/v2/search", params=params)
        assert response.status_code == status, (params, response.text)
        assert field in response.json()["error"]
    # A limit above the maximum is capped, not refused (clients ask for 80).
    assert (await bob.get("/api/v2/search", params={"q": "a", "limit": "500"})).status_code == 200
    # Paging and remote lookups need a signed-in user.
    for params in ({"q": "a", "offset": "20"}, {"q": "a@example.com", "resolve": "true"}):
        response = await http.get("/api/v2/search", params=params)
        assert response.status_code == 401, params
    assert (await http.get("/api/v1/accounts/search", params={"q": "a"})).status_code == 401
    assert (await bob.get("/api/v1/accounts/search")).status_code == 400
    # Odd but harmless queries answer empty results, never an error.
    for q in ("%", "_", "\\", "'", "!!!", "#", "@", "a:*&|!", "日本語", "\u0000x"):
        response = await bob.get("/api/v2/search", params={"q": q})
        assert response.status_code in (200, 400), (q, response.text)


# --- a real client ----------------------------------------------------------------------------


def _discover_with_mastodon_py(node_url: str, token: str) -> dict:
    """What Mastodon.py (a real client library) makes of the search and discovery answers."""
    client = Mastodon(access_token=token, api_base_url=node_url)
    found = client.search_v2("#gold", result_type="hashtags")
    people = client.search_v2("alcie", result_type="accounts")
    tag = client.tag("goldenhour")
    client.featured_tag_create("goldenhour")
    return {
        "hashtags": [t["name"] for t in found["hashtags"]],
        "history_uses": [int(day["uses"]) for day in found["hashtags"][0]["history"]],
        "people": [a["acct"] for a in people["accounts"]],
        "tag": tag["name"],
        "featured": [t["name"] for t in client.featured_tags()],
        "trending": client.trending_tags(),
        "suggestions": client.suggestions(),
        "directory": [a["acct"] for a in client.directory(order="new")],
    }


async def test_mastodon_py_reads_search_and_discovery(node, make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    await publish(alice, status="#GoldenHour at the pier")
    seen = await asyncio.to_thread(_discover_with_mastodon_py, node.url, bob.token)
    assert seen["hashtags"] == ["GoldenHour"] and seen["history_uses"][0] == 1
    assert seen["people"][0] == "alice"
    assert seen["tag"] == "GoldenHour" and seen["featured"] == ["GoldenHour"]
    assert seen["trending"] == []
    assert [s["acct"] for s in seen["suggestions"]] == ["alice"]  # popular here and posting
    assert seen["directory"] == ["bob", "alice"]
