"""The ActivityPub archive a person requests of their account (Mastodon's layout): requested
and downloaded through the API, opened as a ZIP and read as another server or tool would."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
from PIL import Image

from tests.media.conftest import MediaSamples
from tests.rig import NodeProcess, wait_until

if TYPE_CHECKING:
    from tests.conftest import TestUser

samples = MediaSamples


async def upload_ready(user: TestUser, data: bytes, description: str) -> dict[str, Any]:
    response = await user.client.post(
        "/api/v2/media",
        files={"file": ("photo.jpg", data, "image/jpeg")},
        data={"description": description},
    )
    assert response.status_code == 202, response.text
    media_id = response.json()["id"]

    async def processed() -> httpx.Response | None:
        answer = await user.get(f"/api/v1/media/{media_id}")
        return None if answer.status_code == 206 else answer

    ready = await wait_until(processed, timeout=90, interval=0.1)
    assert ready.status_code == 200, ready.text
    return ready.json()


async def post_status(user: TestUser, **fields: Any) -> dict[str, Any]:
    response = await user.post("/api/v1/statuses", json=fields)
    assert response.status_code == 200, response.text
    return response.json()


async def archive_ready(user: TestUser) -> dict[str, Any]:
    async def ready() -> dict[str, Any] | None:
        answer = await user.get("/api/v1/pinhole/archive")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["state"] != "failed", body
        return body if body["state"] == "ready" else None

    return await wait_until(ready, timeout=60, interval=0.1)


def read_csv(archive: zipfile.ZipFile, name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(archive.read(name).decode())))


async def test_archive_holds_the_account_its_posts_media_likes_and_graph(
    node: NodeProcess, make_user
) -> None:
    alice = await make_user("alice")
    bob = await make_user("bob")
    carol = await make_user("carol")
    domain = node.url.split("://", 1)[1]

    photo = await upload_ready(alice, samples.phone_jpeg(640, 480, seed=31), "a red door")
    album = await post_status(alice, status="Doors of the old town", media_ids=[photo["id"]])
    private = await post_status(alice, status="Only for followers", visibility="private")
    bobs = await post_status(bob, status="Bob was here")
    assert (await alice.post(f"/api/v1/statuses/{bobs['id']}/favourite")).status_code == 200
    assert (await alice.post(f"/api/v1/statuses/{bobs['id']}/bookmark")).status_code == 200
    assert (await alice.post(f"/api/v1/accounts/{bob.account_id}/follow")).status_code == 200
    assert (await carol.post(f"/api/v1/accounts/{alice.account_id}/follow")).status_code == 200

    missing = await alice.get("/api/v1/pinhole/archive")
    assert missing.status_code == 404
    requested = await alice.post("/api/v1/pinhole/archive")
    assert requested.status_code == 202, requested.text
    assert requested.json()["state"] == "pending" and requested.json()["url"] is None
    again = await alice.post("/api/v1/pinhole/archive")  # while building: the same request
    assert again.json()["id"] == requested.json()["id"]

    ready = await archive_ready(alice)
    assert ready["url"]
    download = await alice.get(ready["url"])
    assert download.status_code == 200, download.text
    assert download.headers["content-type"].startswith("application/zip")
    archive = zipfile.ZipFile(io.BytesIO(download.content))

    actor = json.loads(archive.read("actor.json"))
    served = (
        await alice.get(f"/users/{alice.username}", headers={"Accept": "application/activity+json"})
    ).json()
    assert actor["id"] == served["id"] == f"{node.url}/users/alice"
    assert actor["type"] == "Person" and actor["preferredUsername"] == "alice"
    assert actor["publicKey"] == served["publicKey"]
    assert "BEGIN PUBLIC KEY" in actor["publicKey"]["publicKeyPem"]

    outbox = json.loads(archive.read("outbox.json"))
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 2
    creates = {item["object"]["id"]: item for item in outbox["orderedItems"]}
    assert set(creates) == {album["uri"], private["uri"]}
    assert all(item["type"] == "Create" for item in creates.values())
    assert all(item["actor"] == actor["id"] for item in creates.values())
    note = creates[album["uri"]]["object"]
    assert note["type"] == "Note" and "Doors of the old town" in note["content"]
    assert "Only for followers" in creates[private["uri"]]["object"]["content"]
    assert creates[private["uri"]]["object"]["attachment"] == []
    [attachment] = note["attachment"]
    assert attachment["name"] == "a red door"
    assert attachment["url"].startswith("/media_attachments/")
    image_bytes = archive.read(attachment["url"].lstrip("/"))
    image = Image.open(io.BytesIO(image_bytes))
    image.load()
    assert image.size == (640, 480)
    assert attachment["mediaType"] == Image.MIME[image.format]
    # The scrubbed original as stored, not the upload with its camera metadata.
    assert all(secret not in image_bytes for secret in samples.secrets)
    key = attachment["url"].split("/media_attachments/files/", 1)[1]
    assert image_bytes == (node.data_dir / "media" / key).read_bytes()

    likes = json.loads(archive.read("likes.json"))
    assert likes["type"] == "OrderedCollection" and likes["orderedItems"] == [bobs["uri"]]
    bookmarks = json.loads(archive.read("bookmarks.json"))
    assert bookmarks["orderedItems"] == [bobs["uri"]]
    assert read_csv(archive, "following_accounts.csv") == [
        ["Account address", "Show boosts", "Notify on new posts", "Languages"],
        [f"bob@{domain}", "true", "false", ""],
    ]
    assert read_csv(archive, "followers.csv") == [["Account address"], [f"carol@{domain}"]]

    # Only its owner may download it: to anyone else (or no one) it does not exist.
    assert (await bob.get(ready["url"])).status_code == 404
    async with httpx.AsyncClient(base_url=node.url) as anonymous:
        assert (await anonymous.get(ready["url"])).status_code == 401
    assert (await bob.get("/api/v1/pinhole/archive")).status_code == 404
    # Nor is it among the public media files.
    stored = [p for p in (node.data_dir / "media" / "exports").iterdir()]
    assert len(stored) == 1 and str(alice.account_id) in stored[0].name
    public = await bob.get(f"/media/exports/{stored[0].name}")
    assert public.status_code == 404


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form has no CSRF token"
    return match.group(1)


@asynccontextmanager
async def signed_in_browser(node: NodeProcess, username: str) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Accept": "text/html"}
    async with httpx.AsyncClient(base_url=node.url, timeout=30, headers=headers) as browser:
        form = await browser.get("/auth/sign_in")
        response = await browser.post(
            "/auth/sign_in",
            data={
                "login": username,
                "password": "correct horse battery",
                "csrf_token": csrf_of(form.text),
            },
        )
        assert response.status_code == 303, response.text
        yield browser


async def test_archive_is_requested_and_downloaded_from_the_settings_page(
    node: NodeProcess, make_user
) -> None:
    ivy = await make_user("ivy")
    await make_user("jay")
    await post_status(ivy, status="first light")
    async with signed_in_browser(node, "ivy") as browser:
        page = await browser.get("/settings/export")
        assert "Request an ActivityPub archive" in page.text
        asked = await browser.post(
            "/settings/export/archive", data={"csrf_token": csrf_of(page.text)}
        )
        assert asked.status_code == 303, asked.text
        ready = await archive_ready(ivy)
        page = await browser.get("/settings/export")
        link = re.search(r'href="(/settings/export/archive/\d+)"', page.text)
        assert link, page.text
        assert link.group(1) == f"/settings/export/archive/{ready['id']}"
        download = await browser.get(link.group(1))
        assert download.status_code == 200
        outbox = json.loads(zipfile.ZipFile(io.BytesIO(download.content)).read("outbox.json"))
        assert "first light" in outbox["orderedItems"][0]["object"]["content"]
    async with signed_in_browser(node, "jay") as stranger:
        assert (await stranger.get(link.group(1))).status_code == 404
