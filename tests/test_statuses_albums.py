"""Albums end to end: photos uploaded through the media API, posted together, liked and
commented on, by a real client library."""

from __future__ import annotations

import asyncio
import io
from html.parser import HTMLParser

import httpx
from PIL import Image

from tests.rig import wait_until


def photo(colour: tuple[int, int, int], size: tuple[int, int] = (1200, 800)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


async def test_album_uploaded_with_mastodon_py_is_liked_and_commented(make_user, node):
    from mastodon import Mastodon

    alice, bob = await make_user("alice"), await make_user("bob")

    def client(user) -> Mastodon:
        return Mastodon(access_token=user.token, api_base_url=node.url, version_check_mode="none")

    def scenario() -> dict:
        alice_api, bob_api = client(alice), client(bob)
        media = [
            alice_api.media_post(
                photo(colour),
                mime_type="image/jpeg",
                description=f"lake, take {n}",
                focus=(0.25, -0.5),
                synchronous=True,
            )
            for n, colour in enumerate([(200, 80, 40), (40, 120, 200), (90, 160, 60)])
        ]
        order = [media[2]["id"], media[0]["id"], media[1]["id"]]
        album = alice_api.status_post(
            "Three takes of the lake #lakeside with @bob", media_ids=order
        )
        bob_api.status_favourite(album["id"])
        comment = bob_api.status_post("The second one!", in_reply_to_id=album["id"])
        return {
            "order": order,
            "album": album,
            "comment": comment,
            "alice_view": alice_api.status(album["id"]),
            "bob_view": bob_api.status(album["id"]),
            "thread": bob_api.status_context(album["id"]),
            "profile_media": bob_api.account_statuses(alice.account_id, only_media=True),
        }

    seen = await asyncio.to_thread(scenario)
    album = seen["album"]
    assert [str(m["id"]) for m in album["media_attachments"]] == [str(i) for i in seen["order"]]
    first = album["media_attachments"][0]
    assert first["type"] == "image"
    assert first["description"] == "lake, take 2"
    assert first["meta"]["focus"] == {"x": 0.25, "y": -0.5}
    assert first["meta"]["original"]["width"] == 1200
    assert first["meta"]["small"]["width"] <= 640
    assert first["blurhash"]
    assert [t["name"] for t in album["tags"]] == ["lakeside"]
    assert [m["acct"] for m in album["mentions"]] == ["bob"]
    for view in (seen["alice_view"], seen["bob_view"]):
        assert view["favourites_count"] == 1
        assert view["replies_count"] == 1
        assert len(view["media_attachments"]) == 3
    assert seen["bob_view"]["favourited"] is True
    assert [s["id"] for s in seen["thread"]["descendants"]] == [seen["comment"]["id"]]
    assert [s["id"] for s in seen["profile_media"]] == [album["id"]]

    # The files behind the album are served.
    async with httpx.AsyncClient(timeout=30) as anonymous:
        for attachment in album["media_attachments"]:
            for url in (attachment["url"], attachment["preview_url"]):
                response = await anonymous.get(url)
                assert response.status_code == 200, url
                assert response.headers["content-type"].startswith("image/")

        # The post's page offers each photo as WebP, and to browsers without WebP as JPEG:
        # the small copy and, for the large size, the original itself.
        page = await anonymous.get(album["url"])
        assert page.status_code == 200
        pictures = _pictures(page.text)
        assert [img["src"] for _, img in pictures] == [m["url"] for m in album["media_attachments"]]
        for source, img in pictures:
            assert source["type"] == "image/webp"
            for srcset, served_as in ((source["srcset"], "image/webp"), (img["srcset"], None)):
                candidates = [c.split() for c in srcset.split(", ")]
                assert [int(width[:-1]) for _, width in candidates] == [640, 1200], srcset
                for url, _ in candidates:
                    response = await anonymous.get(url)
                    assert response.status_code == 200, url
                    assert response.headers["content-type"] == (served_as or "image/jpeg")


def _pictures(page: str) -> list[tuple[dict[str, str], dict[str, str]]]:
    """Each <picture> of a page as the attributes of its <source> and its <img>."""
    found: list[tuple[dict[str, str], dict[str, str]]] = []
    source: dict[str, str] | None = None

    class Pictures(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            nonlocal source
            values = {name: value or "" for name, value in attrs}
            if tag == "source":
                source = values
            elif tag == "img" and source is not None:
                found.append((source, values))
                source = None

    Pictures().feed(page)
    return found


async def test_media_still_processing_cannot_be_posted_and_deleting_removes_files(make_user, node):
    alice = await make_user("alice")
    upload = await alice.post(
        "/api/v2/media",
        files={"file": ("x.jpg", photo((10, 20, 30)), "image/jpeg")},
        data={"description": "dusk"},
    )
    assert upload.status_code in (200, 202), upload.text
    media_id = upload.json()["id"]
    # Whatever state it is in right now, posting either works (ready) or names the reason.
    early = await alice.post("/api/v1/statuses", json={"media_ids": [media_id]})
    if early.status_code == 422:
        assert "media is still being processed" in early.json()["error"]

        async def ready() -> bool:
            return (await alice.get(f"/api/v1/media/{media_id}")).status_code == 200

        await wait_until(ready, timeout=30)
        early = await alice.post("/api/v1/statuses", json={"media_ids": [media_id]})
    assert early.status_code == 200, early.text
    status = early.json()
    url = status["media_attachments"][0]["url"]
    async with httpx.AsyncClient(timeout=30) as anonymous:
        assert (await anonymous.get(url)).status_code == 200
        deleted = await alice.client.delete(f"/api/v1/statuses/{status['id']}")
        assert deleted.status_code == 200
        assert deleted.json()["media_attachments"][0]["id"] == media_id

        # The media side removes the files after post.deleted (a job).
        async def gone() -> bool:
            return (await anonymous.get(url)).status_code == 404

        await wait_until(gone, timeout=30)
