"""The inbox as a remote server meets it: signed deliveries are taken (202) and acted on; bad
ones are refused with the right status and leave nothing behind."""

from __future__ import annotations

import io
import json
import time

import httpx
from PIL import Image

from federation.signatures import IncomingRequest, PublicKey, SignatureChecker, load_public_key
from node import db
from tests.federation.flows import follow_remote, processed, resolve
from tests.federation.peers import FakePeer, PeerActor
from tests.rig import NodeProcess, wait_until

AS = "https://www.w3.org/ns/activitystreams"


async def stored_count() -> int:
    return await db.fetchval("SELECT count(*) FROM inbox_activities")


async def verify_delivery_signature(peer: FakePeer, received) -> str:
    """Check a delivery pinhole made to the peer against the key pinhole publishes: the owner."""

    async def lookup(key_id: str, refresh: bool) -> PublicKey | None:
        async with httpx.AsyncClient() as client:
            actor = (
                await client.get(key_id, headers={"Accept": "application/activity+json"})
            ).json()
        key = actor["publicKey"]
        return PublicKey(key["id"], key["owner"], load_public_key(key["publicKeyPem"]))

    headers = {k.lower(): v for k, v in received.headers.items()}
    assert 'headers="(request-target) host date digest content-type"' in headers["signature"]
    request = IncomingRequest("POST", peer.origin + received.path, headers, received.raw)
    return (await SignatureChecker(lookup).verify(request)).owner


def follow_activity(actor: PeerActor, target_uri: str, n: int = 1) -> dict:
    return {
        "@context": AS,
        "id": f"{actor.uri}#follows/{n}",
        "type": "Follow",
        "actor": actor.uri,
        "object": target_uri,
    }


async def test_remote_follow_is_accepted_and_answered(
    node: NodeProcess, make_user, peer: FakePeer, remote_actor
) -> None:
    user = await make_user("ada")
    actor = remote_actor()
    follow = follow_activity(actor, f"{node.url}/users/ada")
    response = await actor.deliver(f"{node.url}/users/ada/inbox", follow)
    assert response.status_code == 202, response.text
    row = await processed(follow["id"])
    assert row["state"] == "done", row
    followers = (await user.get(f"/api/v1/accounts/{user.account_id}/followers")).json()
    assert [f["acct"] for f in followers] == [actor.acct]

    async def accepted():
        return next(
            (d for d in peer.deliveries("Accept") if d["object"].get("id") == follow["id"]), None
        )

    accept = await wait_until(accepted)
    assert accept["actor"] == f"{node.url}/users/ada"
    assert accept["object"]["actor"] == actor.uri
    delivery = next(r for r in peer.received if r.body is accept)
    assert delivery.path == "/inbox"  # the shared inbox: one request per server
    assert await verify_delivery_signature(peer, delivery) == f"{node.url}/users/ada"

    undo = {
        "@context": AS,
        "id": f"{actor.uri}#follows/1/undo",
        "type": "Undo",
        "actor": actor.uri,
        "object": follow,
    }
    assert (await actor.deliver(f"{node.url}/inbox", undo)).status_code == 202
    await processed(undo["id"])
    followers = (await user.get(f"/api/v1/accounts/{user.account_id}/followers")).json()
    assert followers == []


async def test_locked_account_turns_follow_into_request_answered_by_the_owner(
    node: NodeProcess, make_user, peer: FakePeer, remote_actor
) -> None:
    owner = await make_user("lena", locked=True)
    first, second = remote_actor(), remote_actor()
    for n, actor in enumerate((first, second)):
        follow = follow_activity(actor, f"{node.url}/users/lena", n)
        assert (await actor.deliver(f"{node.url}/inbox", follow)).status_code == 202
        await processed(follow["id"])
    requests = (await owner.get("/api/v1/follow_requests")).json()
    assert {r["acct"] for r in requests} == {first.acct, second.acct}
    by_acct = {r["acct"]: r["id"] for r in requests}
    assert not peer.deliveries("Accept") or all(
        d["object"]["actor"] not in (first.uri, second.uri) for d in peer.deliveries("Accept")
    )
    await owner.post(f"/api/v1/follow_requests/{by_acct[first.acct]}/authorize")
    await owner.post(f"/api/v1/follow_requests/{by_acct[second.acct]}/reject")

    async def answered():
        accepts = [d for d in peer.deliveries("Accept") if d["object"]["actor"] == first.uri]
        rejects = [d for d in peer.deliveries("Reject") if d["object"]["actor"] == second.uri]
        return (accepts, rejects) if accepts and rejects else None

    accepts, rejects = await wait_until(answered)
    assert accepts[0]["object"]["id"] == f"{first.uri}#follows/0"
    followers = (await owner.get(f"/api/v1/accounts/{owner.account_id}/followers")).json()
    assert [f["acct"] for f in followers] == [first.acct]


async def test_following_a_remote_account_waits_for_its_accept(
    node: NodeProcess, make_user, peer: FakePeer, remote_actor
) -> None:
    user = await make_user("finn")
    actor = remote_actor()
    account_id = await follow_remote(user, actor, peer)
    relationship = (
        await user.get("/api/v1/accounts/relationships", params={"id[]": account_id})
    ).json()[0]
    assert relationship["following"] is True and relationship["requested"] is False
    # Accept naming only the Follow's id works as well (Mitra, GoToSocial).
    other = remote_actor()
    account = await resolve(user, other.acct)
    await user.post(f"/api/v1/accounts/{account['id']}/follow")
    follow = await wait_until(
        lambda: _first(peer.deliveries("Follow"), lambda d: d["object"] == other.uri)
    )
    accept = {
        "@context": AS,
        "id": f"{other.uri}#accepts/iri",
        "type": "Accept",
        "actor": other.uri,
        "object": follow["id"],
    }
    assert (await other.deliver(f"{node.url}/inbox", accept)).status_code == 202
    await processed(accept["id"])
    rel = (await user.get("/api/v1/accounts/relationships", params={"id[]": account["id"]})).json()
    assert rel[0]["following"] is True
    # Unfollowing sends Undo(Follow) with the original Follow's id.
    await user.post(f"/api/v1/accounts/{account['id']}/unfollow")
    undo = await wait_until(
        lambda: _first(peer.deliveries("Undo"), lambda d: d["object"].get("id") == follow["id"])
    )
    assert undo["actor"] == f"{node.url}/users/finn"


async def _first(items, predicate):
    return next((item for item in items if predicate(item)), None)


async def test_the_same_activity_twice_is_stored_once(
    node: NodeProcess, make_user, remote_actor
) -> None:
    await make_user("dora")
    actor = remote_actor()
    follow = follow_activity(actor, f"{node.url}/users/dora")
    for _ in range(2):
        assert (await actor.deliver(f"{node.url}/inbox", follow)).status_code == 202
    await processed(follow["id"])
    assert await stored_count() == 1


async def test_unknown_activity_is_acknowledged_and_marked_unhandled(
    node: NodeProcess, remote_actor
) -> None:
    actor = remote_actor()
    activity = {
        "@context": AS,
        "id": f"{actor.uri}#reactions/1",
        "type": "EmojiReact",
        "actor": actor.uri,
        "object": f"{node.url}/users/nobody/statuses/1",
        "content": "🔥",
    }
    assert (await actor.deliver(f"{node.url}/inbox", activity)).status_code == 202
    row = await processed(activity["id"])
    assert row["state"] == "unhandled"
    assert "EmojiReact" in row["result"]


# --- bad input: the right status, nothing stored ------------------------------------------------


async def _post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(url, content=body, headers=headers)


async def test_unsigned_delivery_is_refused(node: NodeProcess, remote_actor) -> None:
    actor = remote_actor()
    body = json.dumps(follow_activity(actor, f"{node.url}/users/x")).encode()
    response = await _post(f"{node.url}/inbox", body, {"Content-Type": "application/activity+json"})
    assert response.status_code == 401
    assert await stored_count() == 0


async def test_signature_by_the_wrong_key_is_refused(node: NodeProcess, remote_actor) -> None:
    actor = remote_actor()
    impostor = PeerActor.create(actor.peer, actor.username + "x", key=1)
    body = json.dumps(follow_activity(actor, f"{node.url}/users/x")).encode()
    headers = impostor.signed_headers(f"{node.url}/inbox", body)
    headers["Signature"] = headers["Signature"].replace(impostor.key_id, actor.key_id)
    response = await _post(f"{node.url}/inbox", body, headers)
    assert response.status_code == 401
    assert await stored_count() == 0


async def test_digest_mismatch_is_refused(node: NodeProcess, remote_actor) -> None:
    actor = remote_actor()
    body = json.dumps(follow_activity(actor, f"{node.url}/users/x")).encode()
    headers = actor.signed_headers(f"{node.url}/inbox", body)
    response = await _post(f"{node.url}/inbox", body.replace(b"Follow", b"Block"), headers)
    assert response.status_code == 401
    assert "Digest" in response.json()["error"]
    assert await stored_count() == 0


async def test_stale_date_is_refused(node: NodeProcess, remote_actor) -> None:
    actor = remote_actor()
    activity = follow_activity(actor, f"{node.url}/users/x")
    response = await actor.deliver(f"{node.url}/inbox", activity, now=time.time() - 3 * 3600)
    assert response.status_code == 401
    assert await stored_count() == 0


async def test_actor_on_another_host_than_the_key_is_refused(
    node: NodeProcess, remote_actor
) -> None:
    actor = remote_actor()
    activity = follow_activity(actor, f"{node.url}/users/x")
    activity["actor"] = "http://127.0.0.10:9/users/victim"
    response = await actor.deliver(f"{node.url}/inbox", activity)
    assert response.status_code == 401
    assert await stored_count() == 0


async def test_malformed_json_is_refused(node: NodeProcess, remote_actor) -> None:
    actor = remote_actor()
    for body in (b'{"type": "Follow", ', b"[1, 2]", b'{"actor": "x"}'):
        response = await actor.deliver(f"{node.url}/inbox", body)
        assert response.status_code == 400, body
    assert await stored_count() == 0


async def test_ten_megabyte_body_is_refused(node: NodeProcess, remote_actor) -> None:
    actor = remote_actor()
    activity = follow_activity(actor, f"{node.url}/users/x")
    activity["padding"] = "x" * (10 * 1024 * 1024)
    response = await actor.deliver(f"{node.url}/inbox", activity)
    assert response.status_code == 413
    assert await stored_count() == 0


async def test_object_claimed_on_another_host_is_refused(
    node: NodeProcess, make_user, remote_actor
) -> None:
    actor = remote_actor()
    note_elsewhere = {
        "id": "http://127.0.0.10:9/users/victim/statuses/1",
        "type": "Note",
        "attributedTo": "http://127.0.0.10:9/users/victim",
        "content": "<p>words put in someone else's mouth</p>",
        "to": [f"{AS}#Public"],
    }
    for obj in (note_elsewhere, {**note_elsewhere, "id": actor.uri + "/statuses/1"}):
        create = {
            "@context": AS,
            "id": f"{actor.uri}/statuses/1/activity",
            "type": "Create",
            "actor": actor.uri,
            "object": obj,
        }
        response = await actor.deliver(f"{node.url}/inbox", create)
        assert response.status_code == 403, response.text
    delete = {
        "@context": AS,
        "id": f"{actor.uri}#delete/1",
        "type": "Delete",
        "actor": actor.uri,
        "object": "http://127.0.0.10:9/users/victim/statuses/1",
    }
    assert (await actor.deliver(f"{node.url}/inbox", delete)).status_code == 403
    assert await stored_count() == 0
    assert await db.fetchval("SELECT count(*) FROM posts") == 0


async def test_suspended_domain_is_refused(node: NodeProcess, make_user, remote_actor) -> None:
    await make_user("sue")
    actor = remote_actor()
    await db.execute(
        "INSERT INTO domain_blocks (id, domain, severity) VALUES (1, $1, 'suspend')",
        actor.peer.host,
    )
    response = await actor.deliver(
        f"{node.url}/inbox", follow_activity(actor, f"{node.url}/users/sue")
    )
    assert response.status_code == 403
    assert await stored_count() == 0


async def test_remote_photo_keeps_its_url_and_gets_a_cached_thumbnail(
    node: NodeProcess, make_user, peer: FakePeer, remote_actor
) -> None:
    actor = remote_actor()
    viewer = await make_user("viewer")
    await follow_remote(viewer, actor, peer)
    picture = io.BytesIO()
    Image.new("RGB", (1200, 800), (200, 80, 40)).save(picture, "JPEG")
    peer.files["/media/photo.jpg"] = (picture.getvalue(), "image/jpeg")
    photo_url = f"{peer.origin}/media/photo.jpg"
    note = {
        "id": f"{actor.uri}/statuses/900",
        "type": "Note",
        "attributedTo": actor.uri,
        "content": "<p>sunset</p>",
        "to": [f"{AS}#Public"],
        "attachment": [
            {"type": "Image", "mediaType": "image/jpeg", "url": photo_url, "name": "alt"}
        ],
    }
    create = {
        "@context": AS,
        "id": note["id"] + "/activity",
        "type": "Create",
        "actor": actor.uri,
        "object": note,
    }
    assert (await actor.deliver(f"{node.url}/inbox", create)).status_code == 202
    await processed(create["id"])
    post_id = await db.fetchval("SELECT id FROM posts WHERE uri = $1", note["id"])

    async def cached():
        status = (await viewer.get(f"/api/v1/statuses/{post_id}")).json()
        media = status["media_attachments"][0]
        return media if media["preview_url"] != photo_url else None

    media = await wait_until(cached, 15)
    assert media["url"] == photo_url and media["remote_url"] == photo_url
    assert media["preview_url"].startswith(node.url)
    assert media["meta"]["original"] == {
        "width": 1200,
        "height": 800,
        "size": "1200x800",
        "aspect": 1.5,
    }
    assert media["blurhash"]
    async with httpx.AsyncClient() as client:
        thumbnail = await client.get(media["preview_url"])
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"] == "image/webp"


async def test_rotated_key_is_refetched_once_then_cooled_off(
    node: NodeProcess, make_user, peer: FakePeer, remote_actor
) -> None:
    await make_user("rita")
    actor = remote_actor()
    first = follow_activity(actor, f"{node.url}/users/rita", 1)
    assert (await actor.deliver(f"{node.url}/inbox", first)).status_code == 202
    await processed(first["id"])
    # The actor rotates its key: the node still holds the old one, so it fetches the new one.
    rotated = PeerActor.create(peer, actor.username, key=1)
    second = follow_activity(rotated, f"{node.url}/users/rita", 2)
    fetches_before = peer.fetched.count(actor.path)
    assert (await rotated.deliver(f"{node.url}/inbox", second)).status_code == 202
    assert peer.fetched.count(actor.path) == fetches_before + 1
    # A sender whose signature keeps failing cannot make the node fetch again and again.
    impostor_key = PeerActor(peer, "/nowhere", "x", actor.private_pem, actor.public_pem)
    for n in range(3):
        body = json.dumps(follow_activity(rotated, f"{node.url}/users/rita", 10 + n)).encode()
        headers = impostor_key.signed_headers(f"{node.url}/inbox", body)
        headers["Signature"] = headers["Signature"].replace(impostor_key.key_id, rotated.key_id)
        assert (await _post(f"{node.url}/inbox", body, headers)).status_code == 401
    assert peer.fetched.count(actor.path) == fetches_before + 1
