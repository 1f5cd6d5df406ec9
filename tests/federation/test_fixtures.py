"""Real payloads from Mastodon, Pixelfed, GoToSocial and others (shared/fixtures/activitypub):
each is delivered, signed, by an actor served from the payload's own paths (its host moved to a
loopback stand-in), is accepted, and shows up right through the client API."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from node import db
from tests.federation.flows import follow_remote, processed, resolve
from tests.federation.peers import FakePeer, PeerActor
from tests.rig import NodeProcess, wait_until

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "activitypub"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _id(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return value.get("id") or value.get("href") or ""
    if isinstance(value, list) and value:
        return _id(value[0])
    return ""


def _list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def author_of(document: dict[str, Any]) -> str:
    if document.get("actor"):
        return _id(document["actor"])
    for candidate in _list(document.get("attributedTo")):
        if not isinstance(candidate, dict) or candidate.get("type") in (None, "Person"):
            return _id(candidate)
    return _id(document)


def adapt(name: str, peer: FakePeer) -> tuple[dict[str, Any], str]:
    """The fixture with its author's origin replaced by the peer's, and the author's new id."""
    raw = (FIXTURES / name).read_text()
    document = json.loads(raw)
    author = author_of(document)
    parts = urlsplit(author)
    origin = f"{parts.scheme}://{parts.netloc}"
    adapted = re.sub(re.escape(origin) + r'(?=[/"#?])', peer.origin, raw)
    return json.loads(adapted), peer.origin + author[len(origin) :]


def actor_for(peer: FakePeer, uri: str) -> PeerActor:
    path = urlsplit(uri).path
    username = path.rstrip("/").rsplit("/", 1)[-1]
    return PeerActor.create(peer, username, path=path)


def as_create(note: dict[str, Any]) -> dict[str, Any]:
    """A bare object fixture wrapped the way its server delivers it."""
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": _id(note) + "/activity",
        "type": "Create",
        "actor": author_of(note),
        "to": note.get("to", [PUBLIC]),
        "cc": note.get("cc", []),
        "object": {k: v for k, v in note.items() if k != "@context"},
    }


async def deliver(node: NodeProcess, actor: PeerActor, activity: dict[str, Any]) -> dict:
    response = await actor.deliver(f"{node.url}/inbox", activity)
    assert response.status_code == 202, response.text
    key = activity.get("id") or None
    if key is None:
        return {}
    row = await processed(key)
    assert row["state"] != "failed", row
    return row


async def post_id_for(uri: str) -> int:
    async def find():
        return await db.fetchval("SELECT id FROM posts WHERE uri = $1", uri)

    return await wait_until(find)


# --- posts -------------------------------------------------------------------------------------

# fixture -> expected visibility (the rest is checked against the payload itself)
POST_FIXTURES = {
    "gotosocial/create-note-content-warning.json": "public",
    "gotosocial/create-note-followers-only-minimal.json": "private",
    "gotosocial/note-image-alt-in-summary.json": "public",
    "gotosocial/note-reply-mention-single-tag.json": "public",
    "mastodon/create-note-hashtags-emoji.json": "unlisted",
    "mastodon/create-note-no-context-document.json": "public",
    "mastodon/create-note-plain.json": "public",
    "mastodon/create-note-public-document-blurhash-focalpoint.json": "public",
    "mastodon/create-note-reply-mention-unlisted.json": "unlisted",
    "mastodon/note-content-warning-sensitive-reply.json": "public",
    "mastodon/note-hashtag-mentions-public.json": "public",
    "mastodon/note-reply-document-blurhash.json": "public",
    "mastodon/note-reply-mentions-emoji.json": "unlisted",
    "other/bridgy-fed-note-image.json": "public",
    "other/pleroma-create-note-two-documents.json": "public",
    "other/vernissage-note-photo-exif-location.json": "public",
    "peertube/video.json": "public",
    "pixelfed/create-note-image-location.json": "public",
    "pixelfed/create-note-reply-mention-single-tag.json": "public",
    "pixelfed/note-image-hashtags-2018.json": "public",
}


def expected_media(note: dict[str, Any]) -> list[dict[str, Any]]:
    media = []
    for item in _list(note.get("attachment")):
        url = item.get("url")
        url = url if isinstance(url, str) else _id(url)
        media.append(
            {
                "url": url,
                "description": (item.get("name") or item.get("summary") or None),
                "blurhash": item.get("blurhash"),
                "width": item.get("width"),
                "height": item.get("height"),
                "focus": item.get("focalPoint"),
            }
        )
    return media


@pytest.mark.parametrize("name", sorted(POST_FIXTURES))
async def test_post_fixture_is_stored_and_rendered(
    name: str, node: NodeProcess, make_user, peer: FakePeer
) -> None:
    document, author = adapt(name, peer)
    activity = document if document.get("type") == "Create" else as_create(document)
    note = activity["object"]
    actor = actor_for(peer, author)
    viewer = await make_user("viewer")
    await follow_remote(viewer, actor, peer)
    row = await deliver(node, actor, activity)
    assert row["state"] == "done", row
    post_id = await post_id_for(_id(note))
    response = await viewer.get(f"/api/v1/statuses/{post_id}")
    assert response.status_code == 200, response.text
    status = response.json()
    assert status["uri"] == _id(note)
    assert status["account"]["acct"] == actor.acct
    assert status["visibility"] == POST_FIXTURES[name]
    assert status["spoiler_text"] == (note.get("summary") or "")
    if note.get("sensitive") is True:
        assert status["sensitive"] is True
    assert "<script" not in status["content"]
    if note.get("type") == "Note" and note.get("content"):
        assert status["content"]
    media = expected_media(note)
    if note.get("type") != "Video":
        assert len(status["media_attachments"]) == len(media)
    for shown, wanted in zip(status["media_attachments"], media, strict=False):
        assert shown["url"] == wanted["url"] and shown["remote_url"] == wanted["url"]
        assert shown["description"] == wanted["description"]
        assert shown["blurhash"] == wanted["blurhash"]
        assert shown["type"] in ("image", "video")
        if wanted["width"]:
            assert shown["meta"]["original"]["width"] == wanted["width"]
            assert shown["meta"]["original"]["height"] == wanted["height"]
        if wanted["focus"]:
            assert [shown["meta"]["focus"]["x"], shown["meta"]["focus"]["y"]] == wanted["focus"]
    hashtags = {
        t["name"].lstrip("#").lower()
        for t in _list(note.get("tag"))
        if isinstance(t, dict) and t.get("type") == "Hashtag"
    }
    assert {t["name"].lower() for t in status["tags"]} == hashtags


async def test_direct_message_reaches_only_its_addressee(
    node: NodeProcess, make_user, peer: FakePeer
) -> None:
    document, author = adapt("mastodon/create-note-direct-message.json", peer)
    actor = actor_for(peer, author)
    recipient = await make_user("banme")
    bystander = await make_user("bystander")
    recipient_uri = f"{node.url}/users/banme"
    text = json.dumps(document).replace("https://ds9.lemmy.ml/u/banme", recipient_uri)
    document = json.loads(text)
    await deliver(node, actor, document)
    post_id = await post_id_for(document["object"]["id"])
    seen = await recipient.get(f"/api/v1/statuses/{post_id}")
    assert seen.status_code == 200 and seen.json()["visibility"] == "direct"
    assert [m["acct"] for m in seen.json()["mentions"]] == ["banme"]
    assert (await bystander.get(f"/api/v1/statuses/{post_id}")).status_code == 404


async def test_gotosocial_create_with_only_the_object_id_fetches_it(
    node: NodeProcess, make_user, peer: FakePeer
) -> None:
    document, author = adapt("gotosocial/create-note-object-iri.json", peer)
    actor = actor_for(peer, author)
    viewer = await make_user()
    await follow_remote(viewer, actor, peer)
    note_path = urlsplit(document["object"]).path
    peer.serve(
        note_path,
        {
            "id": document["object"],
            "type": "Note",
            "attributedTo": actor.uri,
            "content": "<p>fetched from its origin</p>",
            "to": PUBLIC,
            "published": "2021-11-20T13:32:16Z",
        },
    )
    await deliver(node, actor, document)
    post_id = await post_id_for(document["object"])
    status = (await viewer.get(f"/api/v1/statuses/{post_id}")).json()
    assert status["content"] == "<p>fetched from its origin</p>"


async def test_reply_to_a_local_post_becomes_a_comment(
    node: NodeProcess, make_user, peer: FakePeer
) -> None:
    document, author = adapt("mastodon/create-note-reply-mention-unlisted.json", peer)
    actor = actor_for(peer, author)
    owner = await make_user("owner")
    post = (await owner.post("/api/v1/statuses", data={"status": "a photo"})).json()
    document["object"]["inReplyTo"] = post["uri"]
    await deliver(node, actor, document)
    reply_id = await post_id_for(document["object"]["id"])
    reply = (await owner.get(f"/api/v1/statuses/{reply_id}")).json()
    assert reply["in_reply_to_id"] == post["id"]
    context = (await owner.get(f"/api/v1/statuses/{post['id']}/context")).json()
    assert [d["id"] for d in context["descendants"]] == [str(reply_id)]
    assert (await owner.get(f"/api/v1/statuses/{post['id']}")).json()["replies_count"] == 1


async def test_update_note_edits_and_delete_removes(
    node: NodeProcess, make_user, peer: FakePeer
) -> None:
    create, author = adapt("mastodon/create-note-plain.json", peer)
    update, _ = adapt("mastodon/update-note.json", peer)
    actor = actor_for(peer, author)
    viewer = await make_user()
    await follow_remote(viewer, actor, peer)
    await deliver(node, actor, create)
    post_id = await post_id_for(create["object"]["id"])
    before = (await viewer.get(f"/api/v1/statuses/{post_id}")).json()
    assert update["object"]["id"] == create["object"]["id"]
    await deliver(node, actor, update)
    after = (await viewer.get(f"/api/v1/statuses/{post_id}")).json()
    assert after["edited_at"] is not None
    assert after["content"] != before["content"]
    history = (await viewer.get(f"/api/v1/statuses/{post_id}/history")).json()
    assert len(history) == 2
    delete = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": create["object"]["id"] + "#delete",
        "type": "Delete",
        "actor": actor.uri,
        "object": {"id": create["object"]["id"], "type": "Tombstone"},
    }
    await deliver(node, actor, delete)
    assert (await viewer.get(f"/api/v1/statuses/{post_id}")).status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "mastodon/delete-tombstone.json",
        "gotosocial/delete-note-public.json",
        "gotosocial/delete-note-direct.json",
    ],
)
async def test_delete_fixtures_remove_the_post(
    name: str, node: NodeProcess, make_user, peer: FakePeer
) -> None:
    delete, author = adapt(name, peer)
    actor = actor_for(peer, author)
    viewer = await make_user()
    await follow_remote(viewer, actor, peer)
    target = _id(delete["object"])
    note = {
        "id": target,
        "type": "Note",
        "attributedTo": actor.uri,
        "content": "<p>soon gone</p>",
        "to": [PUBLIC],
    }
    await deliver(node, actor, as_create(note))
    post_id = await post_id_for(target)
    assert (await viewer.get(f"/api/v1/statuses/{post_id}")).status_code == 200
    response = await actor.deliver(f"{node.url}/inbox", delete)
    assert response.status_code == 202
    await wait_until(lambda: _deleted(post_id))
    assert (await viewer.get(f"/api/v1/statuses/{post_id}")).status_code == 404


async def _deleted(post_id: int) -> bool:
    return bool(
        await db.fetchval("SELECT deleted_at IS NOT NULL FROM posts WHERE id = $1", post_id)
    )


# --- the social graph -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mastodon/follow.json", "mastodon/follow-ld-signature.json"])
async def test_follow_fixtures_make_a_follower(
    name: str, node: NodeProcess, make_user, peer: FakePeer
) -> None:
    follow, author = adapt(name, peer)
    actor = actor_for(peer, author)
    user = await make_user("target")
    follow["object"] = f"{node.url}/users/target"
    await deliver(node, actor, follow)
    followers = (await user.get(f"/api/v1/accounts/{user.account_id}/followers")).json()
    assert [f["acct"] for f in followers] == [actor.acct]
    accept = await wait_until(
        lambda: _matching(
            peer.deliveries("Accept"), lambda d: d["object"].get("id") == follow["id"]
        )
    )
    assert accept["object"]["actor"] == actor.uri


async def _matching(items: list, predicate) -> Any:
    return next((item for item in items if predicate(item)), None)


async def test_undo_follow_fixture_removes_the_follower(
    node: NodeProcess, make_user, peer: FakePeer
) -> None:
    undo, author = adapt("mastodon/undo-follow.json", peer)
    actor = actor_for(peer, author)
    user = await make_user("target")
    undo["object"]["object"] = f"{node.url}/users/target"
    await deliver(node, actor, undo["object"])
    assert (await user.get(f"/api/v1/accounts/{user.account_id}")).json()["followers_count"] == 1
    await deliver(node, actor, undo)
    assert (await user.get(f"/api/v1/accounts/{user.account_id}")).json()["followers_count"] == 0


@pytest.mark.parametrize(
    ("name", "inline"),
    [
        ("mastodon/accept-follow-inline.json", True),
        ("other/mitra-accept-follow-object-iri.json", False),
    ],
)
async def test_accept_fixtures_complete_a_follow(
    name: str, inline: bool, node: NodeProcess, make_user, peer: FakePeer
) -> None:
    accept, author = adapt(name, peer)
    actor = actor_for(peer, author)
    user = await make_user("asker")
    account = await resolve(user, actor.acct)
    await user.post(f"/api/v1/accounts/{account['id']}/follow")
    follow = await wait_until(
        lambda: _matching(peer.deliveries("Follow"), lambda d: d["object"] == actor.uri)
    )
    if inline:
        accept["object"] = {**accept["object"], "id": follow["id"], "actor": follow["actor"]}
        accept["object"]["object"] = actor.uri
    else:
        accept["object"] = follow["id"]
    await deliver(node, actor, accept)
    rel = (await user.get("/api/v1/accounts/relationships", params={"id[]": account["id"]})).json()
    assert rel[0]["following"] is True and rel[0]["requested"] is False


async def test_reject_fixture_withdraws_the_request(
    node: NodeProcess, make_user, peer: FakePeer
) -> None:
    reject, author = adapt("other/vernissage-reject-follow.json", peer)
    actor = actor_for(peer, author)
    user = await make_user("asker")
    account = await resolve(user, actor.acct)
    await user.post(f"/api/v1/accounts/{account['id']}/follow")
    follow = await wait_until(
        lambda: _matching(peer.deliveries("Follow"), lambda d: d["object"] == actor.uri)
    )
    reject["object"] = {**reject["object"], "id": follow["id"], "actor": follow["actor"]}
    reject["object"]["object"] = actor.uri
    await deliver(node, actor, reject)
    rel = (await user.get("/api/v1/accounts/relationships", params={"id[]": account["id"]})).json()
    assert rel[0]["following"] is False and rel[0]["requested"] is False


async def test_block_fixture_ends_follows(node: NodeProcess, make_user, peer: FakePeer) -> None:
    block, author = adapt("mastodon/block.json", peer)
    actor = actor_for(peer, author)
    user = await make_user("blocked")
    account_id = await follow_remote(user, actor, peer)
    block["object"] = f"{node.url}/users/blocked"
    await deliver(node, actor, block)
    rel = (await user.get("/api/v1/accounts/relationships", params={"id[]": account_id})).json()
    assert rel[0]["blocked_by"] is True and rel[0]["following"] is False


# --- likes and boosts ----------------------------------------------------------------------------


async def test_like_and_undo_like_fixtures_count_on_the_post(
    node: NodeProcess, make_user, peer: FakePeer
) -> None:
    like, author = adapt("mastodon/like.json", peer)
    undo, _ = adapt("mastodon/undo-like.json", peer)
    actor = actor_for(peer, author)
    owner = await make_user("owner")
    post = (await owner.post("/api/v1/statuses", data={"status": "likeable"})).json()
    like["object"] = post["uri"]
    await deliver(node, actor, like)
    shown = (await owner.get(f"/api/v1/statuses/{post['id']}")).json()
    assert shown["favourites_count"] == 1
    likers = (await owner.get(f"/api/v1/statuses/{post['id']}/favourited_by")).json()
    assert [a["acct"] for a in likers] == [actor.acct]
    undo["object"] = {**undo["object"], "id": like["id"], "object": post["uri"]}
    await deliver(node, actor, undo)
    assert (await owner.get(f"/api/v1/statuses/{post['id']}")).json()["favourites_count"] == 0


@pytest.mark.parametrize("name", ["mastodon/announce-public.json", "pixelfed/announce.json"])
async def test_announce_fixtures_boost_a_local_post(
    name: str, node: NodeProcess, make_user, peer: FakePeer
) -> None:
    announce, author = adapt(name, peer)
    actor = actor_for(peer, author)
    owner = await make_user("owner")
    post = (await owner.post("/api/v1/statuses", data={"status": "boost me"})).json()
    announce["object"] = post["uri"]
    await deliver(node, actor, announce)
    assert (await owner.get(f"/api/v1/statuses/{post['id']}")).json()["reblogs_count"] == 1
    undo = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": announce["id"] + "/undo",
        "type": "Undo",
        "actor": actor.uri,
        "object": announce,
    }
    await deliver(node, actor, undo)
    assert (await owner.get(f"/api/v1/statuses/{post['id']}")).json()["reblogs_count"] == 0


async def test_announce_of_an_unknown_post_fetches_it_from_its_origin(
    node: NodeProcess, make_user, peer: FakePeer
) -> None:
    announce, author = adapt("mastodon/announce-public.json", peer)
    actor = actor_for(peer, author)
    viewer = await make_user()
    await follow_remote(viewer, actor, peer)
    origin = PeerActor.create(peer, "origin_author")
    note_uri = origin.uri + "/statuses/77"
    peer.serve(
        urlsplit(note_uri).path,
        {
            "id": note_uri,
            "type": "Note",
            "attributedTo": origin.uri,
            "content": "<p>the original</p>",
            "to": [PUBLIC],
        },
    )
    # An embedded copy claiming other words is ignored: the post comes from its origin.
    announce["object"] = {
        "id": note_uri,
        "type": "Note",
        "attributedTo": origin.uri,
        "content": "<p>forged words</p>",
    }
    await deliver(node, actor, announce)
    post_id = await post_id_for(note_uri)
    original = (await viewer.get(f"/api/v1/statuses/{post_id}")).json()
    assert original["content"] == "<p>the original</p>" and original["reblogs_count"] == 1


# --- profiles, moves, reports, deletions -------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "gotosocial/actor-person.json",
        "gotosocial/actor-person-shared-inbox.json",
        "mastodon/actor-person-gargron-mastodon-social.json",
        "mastodon/actor-person-sharedinbox-icon.json",
        "mastodon/actor-person-type-array-vcard.json",
        "misskey/actor-person-syuilo.json",
        "peertube/actor-person.json",
        "pixelfed/actor-person-dansup.json",
        "other/bridgy-fed-service-actor-icon-array.json",
    ],
)
async def test_actor_fixtures_become_accounts(
    name: str, node: NodeProcess, make_user, peer: FakePeer
) -> None:
    document, uri = adapt(name, peer)
    peer.serve(urlsplit(uri).path, document)
    user = await make_user()
    response = await user.get("/api/v1/federation/resolve", params={"q": uri})
    assert response.status_code == 200, response.text
    account = response.json()["accounts"][0]
    assert account["uri"] == uri
    assert account["username"] == document["preferredUsername"]
    assert account["acct"] == f"{document['preferredUsername']}@{peer.domain}"
    assert account["display_name"] == (document.get("name") or "")
    icon = document.get("icon")
    if icon:
        first = icon[0] if isinstance(icon, list) else icon
        url = first.get("url") if isinstance(first, dict) else first
        assert account["avatar"] == (url if isinstance(url, str) else _id(url))
    assert account["locked"] is (document.get("manuallyApprovesFollowers") is True)
    assert account["bot"] is (document["type"] in ("Service", "Application"))
    row = await db.fetchrow("SELECT * FROM accounts WHERE uri = $1", uri)
    endpoints = document.get("endpoints") or {}
    assert row["shared_inbox_url"] == (
        endpoints.get("sharedInbox") or document.get("sharedInbox") or ""
    )
    assert row["inbox_url"] == document["inbox"]


@pytest.mark.parametrize(
    "name", ["mastodon/update-person.json", "mastodon/update-person-modern-context.json"]
)
async def test_update_person_fixtures_change_the_profile(
    name: str, node: NodeProcess, make_user, peer: FakePeer
) -> None:
    update, author = adapt(name, peer)
    actor = actor_for(peer, author)
    user = await make_user()
    account = await resolve(user, actor.acct)
    update["object"]["publicKey"] = actor.document()["publicKey"]
    await deliver(node, actor, update)
    shown = (await user.get(f"/api/v1/accounts/{account['id']}")).json()
    assert shown["display_name"] == update["object"]["name"]
    assert shown["note"]


async def test_delete_actor_fixture_removes_the_account(
    node: NodeProcess, make_user, peer: FakePeer
) -> None:
    delete, author = adapt("mastodon/delete-actor.json", peer)
    actor = actor_for(peer, author)
    user = await make_user("followed")
    await deliver(
        node,
        actor,
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": actor.uri + "#follows/1",
            "type": "Follow",
            "actor": actor.uri,
            "object": f"{node.url}/users/followed",
        },
    )
    assert (await user.get(f"/api/v1/accounts/{user.account_id}")).json()["followers_count"] == 1
    await deliver(node, actor, delete)
    assert (await user.get(f"/api/v1/accounts/{user.account_id}")).json()["followers_count"] == 0
    assert await db.fetchval("SELECT count(*) FROM accounts WHERE uri = $1", actor.uri) == 0


@pytest.mark.parametrize("name", ["mastodon/flag.json", "gotosocial/flag.json"])
async def test_flag_fixtures_become_reports(
    name: str, node: NodeProcess, make_user, peer: FakePeer
) -> None:
    flag, author = adapt(name, peer)
    actor = actor_for(peer, author)
    user = await make_user("reported")
    post = (await user.post("/api/v1/statuses", data={"status": "offending"})).json()
    flag["object"] = [f"{node.url}/users/reported", post["uri"]]
    await deliver(node, actor, flag)
    report = await db.fetchrow("SELECT * FROM reports WHERE uri = $1", flag["id"])
    assert report["target_account_id"] == int(user.account_id)
    assert report["status_ids"] == [int(post["id"])]
    assert report["comment"] == (flag.get("content") or "")


@pytest.mark.parametrize("name", ["mastodon/move.json", "gotosocial/move.json"])
async def test_move_fixtures_move_local_followers(
    name: str, node: NodeProcess, make_user, peer: FakePeer
) -> None:
    move, author = adapt(name, peer)
    actor = actor_for(peer, author)
    user = await make_user()
    await follow_remote(user, actor, peer)
    target_path = "/users/moved_" + actor.username
    move["target"] = peer.origin + target_path
    new = PeerActor.create(
        peer, "moved_" + actor.username, path=target_path, alsoKnownAs=[actor.uri]
    )
    await deliver(node, actor, move)
    follow = await wait_until(
        lambda: _matching(peer.deliveries("Follow"), lambda d: d["object"] == new.uri)
    )
    assert follow["actor"] == f"{node.url}/users/{user.username}"


# --- accepted and acknowledged, with nothing to do here -----------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "gotosocial/accept-interaction-object-iri.json",
        "gotosocial/reject-interaction-object-iri.json",
        "gotosocial/announce-followers-only.json",
        "mastodon/undo-announce.json",
        "other/lemmy-announce-like-as-public.json",
        "peertube/announce-video.json",
        "pixelfed/story-single-attachment.json",
    ],
)
async def test_other_fixtures_are_accepted_and_acknowledged(
    name: str, node: NodeProcess, make_user, peer: FakePeer
) -> None:
    document, author = adapt(name, peer)
    activity = document if document.get("actor") else as_create(document)
    actor = actor_for(peer, author)
    row = await deliver(node, actor, copy.deepcopy(activity))
    assert row["state"] in ("done", "unhandled")
