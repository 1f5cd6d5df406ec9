"""Uploading photos and videos through the real API (and Mastodon.py): processing to ready,
renditions served over HTTP with ranges and caching, privacy scrubbing of every stored file,
albums, alt text, deletion of bytes, and avatars. Local-disk backend; test_media_s3.py runs
the same flows against an S3 endpoint."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import struct
import time
import zlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import av
import httpx
import pytest
from mastodon import Mastodon
from PIL import Image

from node import db, moderation
from tests.media.conftest import MediaSamples
from tests.rig import NodeProcess, wait_until

if TYPE_CHECKING:
    from tests.conftest import SignedInUser

samples = MediaSamples
GPS_TAG = 0x8825
LIMITED_IMAGE_BYTES = 300_000


class StoredBytes(Protocol):
    """Where a node keeps media bytes, read directly (not through the node)."""

    def listing(self) -> set[str]: ...

    def read(self, key: str) -> bytes: ...


class MediaFolder:
    """The local backend's folder under the node's data dir."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def listing(self) -> set[str]:
        if not self.root.exists():
            return set()
        return {p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()}

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()


def media_folder(node: NodeProcess) -> MediaFolder:
    return MediaFolder(node.data_dir / "media")


# --- helpers -----------------------------------------------------------------------------------


async def upload(
    user: SignedInUser,
    data: bytes,
    *,
    name: str = "photo.jpg",
    content_type: str = "image/jpeg",
    version: str = "v2",
    **fields: str,
) -> httpx.Response:
    return await user.client.post(
        f"/api/{version}/media", files={"file": (name, data, content_type)}, data=fields
    )


async def wait_processed(user: SignedInUser, media_id: str, within: float = 90) -> httpx.Response:
    """Poll GET /api/v1/media/:id (206 while processing) until it answers otherwise."""

    async def settled() -> httpx.Response | None:
        response = await user.get(f"/api/v1/media/{media_id}")
        if response.status_code == 206:
            assert response.json()["url"] is None
            return None
        return response

    return await wait_until(settled, timeout=within, interval=0.1)


async def upload_ready(user: SignedInUser, data: bytes, **fields: Any) -> dict[str, Any]:
    response = await upload(user, data, **fields)
    assert response.status_code == 202, response.text
    ready = await wait_processed(user, response.json()["id"])
    assert ready.status_code == 200, ready.text
    return ready.json()


async def renditions_of(media_id: str) -> dict[str, dict[str, Any]]:
    raw = await db.fetchval("SELECT renditions FROM media_attachments WHERE id = $1", int(media_id))
    return json.loads(raw)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def is_red(pixel: tuple[int, ...]) -> bool:
    red, green, blue = pixel[:3]
    return red > 200 and green < 70 and blue < 70


def assert_scrubbed(name: str, data: bytes) -> None:
    """No trace of where or with what the sample photo was taken."""
    for secret in samples.secrets:
        assert secret not in data, f"{secret!r} left in {name}"
    assert b"<x:xmpmeta" not in data, f"XMP left in {name}"
    if data[4:8] == b"ftyp":
        return  # a video (we store no HEIC or AVIF): the strings above are what could leak
    assert b"Exif\x00\x00" not in data, f"EXIF left in {name}"
    exif = opened(data).getexif()
    assert GPS_TAG not in exif and not exif.get_ifd(GPS_TAG), f"GPS left in {name}"


async def fetch(url: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.get(url, headers=headers)


# --- flows shared with the S3 tests ------------------------------------------------------------


async def photo_flow(user: SignedInUser, media_base: str) -> dict[str, Any]:
    """A portrait phone photo with alt text and focus: 202, then ready, with every size right
    when fetched from its URL."""
    data = samples.phone_jpeg(2400, 1800, orientation=6, seed=11)
    response = await upload(user, data, description="A red kite over the lake", focus="0.5,-0.25")
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["type"] == "image"
    assert accepted["url"] is None
    assert accepted["description"] == "A red kite over the lake"
    assert accepted["meta"]["focus"] == {"x": 0.5, "y": -0.25}

    ready = await wait_processed(user, accepted["id"])
    assert ready.status_code == 200, ready.text
    media = ready.json()
    assert media["url"].startswith(media_base + "/")
    assert media["meta"]["original"]["size"] == "1800x2400"
    assert media["meta"]["small"]["size"] == "480x640"
    assert media["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    assert 6 <= len(media["blurhash"]) <= 164

    original = await fetch(media["url"])
    assert original.status_code == 200
    assert original.headers["content-type"] == "image/jpeg"
    assert int(original.headers["content-length"]) == len(original.content)
    assert opened(original.content).size == (1800, 2400)
    preview = await fetch(media["preview_url"])
    assert preview.headers["content-type"] == "image/webp"
    assert opened(preview.content).size == (480, 640)

    expected = {
        "original": ("image/jpeg", (1800, 2400)),
        # No large JPEG: a client without WebP is given the original (a JPEG) instead.
        "large": ("image/webp", (1536, 2048)),
        "small": ("image/webp", (480, 640)),
        "small_jpeg": ("image/jpeg", (480, 640)),
        "thumbnail": ("image/webp", (320, 320)),
        "thumbnail_jpeg": ("image/jpeg", (320, 320)),
    }
    renditions = await renditions_of(media["id"])
    assert set(renditions) == set(expected)
    for name, (mime, size) in expected.items():
        fetched = await fetch(f"{media_base}/{renditions[name]['key']}")
        assert fetched.status_code == 200, name
        assert fetched.headers["content-type"] == mime, name
        picture = opened(fetched.content)
        assert picture.size == size == (renditions[name]["width"], renditions[name]["height"])
        assert Image.MIME[picture.format] == mime, name
    return media


async def gps_flow(user: SignedInUser, media_base: str, store: StoredBytes) -> None:
    """A phone JPEG with GPS (and camera, serial, XMP, IPTC…) held upright: no stored file and
    nothing served keeps any of it, and every picture is upright."""
    before = store.listing()
    data = samples.phone_jpeg(1600, 1200, orientation=6, seed=12)
    assert all(secret in data for secret in samples.secrets)  # the sample does carry them
    media = await upload_ready(user, data)
    renditions = await renditions_of(media["id"])
    keys = {r["key"] for r in renditions.values()}
    new_files = store.listing() - before
    assert new_files <= keys  # the raw upload is gone too
    for key in keys:
        stored = store.read(key)
        assert_scrubbed(f"stored {key}", stored)
        served = await fetch(f"{media_base}/{key}")
        assert served.status_code == 200
        assert served.content == stored
        assert_scrubbed(f"served {key}", served.content)
    for name in ("original", "large", "small"):
        picture = opened(store.read(renditions[name]["key"])).convert("RGB")
        width, height = picture.size
        assert height > width, name
        # Stored top-left in the sample, turned a quarter clockwise: now top-right.
        assert is_red(picture.getpixel((width - 3, 3))), name
        assert not is_red(picture.getpixel((3, 3))), name


def mastodon_client(node_url: str, username: str) -> Mastodon:
    scopes = ["read", "write", "follow", "push"]
    client_id, client_secret = Mastodon.create_app(
        "pinhole media tests", api_base_url=node_url, scopes=scopes
    )
    registrar = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node_url)
    registrar.create_account(
        username, "correct horse battery", f"{username}@example.com", agreement=True, scopes=scopes
    )
    client = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node_url)
    client.log_in(
        username=f"{username}@example.com", password="correct horse battery", scopes=scopes
    )
    return client


def _media_ready(client: Mastodon, media_id: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        media = client.media(media_id)
        if media["url"] is not None:
            return media
        assert time.monotonic() < deadline, "media did not become ready"
        time.sleep(0.1)


def album_flow(node_url: str) -> dict[str, Any]:
    """Mastodon.py: an album of three with alt text and focus, a hashtag and a mention; bob
    likes and comments; both see the same counts and thread."""
    alice = mastodon_client(node_url, "alice")
    bob = mastodon_client(node_url, "bob")
    media_ids = []
    for index in range(3):
        uploaded = alice.media_post(
            io.BytesIO(samples.phone_jpeg(1200, 900, seed=20 + index)),
            mime_type="image/jpeg",
            description=f"Lake, view {index + 1}",
            focus=(0.25, -0.5),
            file_name=f"lake-{index}.jpg",
        )
        media_ids.append(_media_ready(alice, uploaded["id"])["id"])
    status = alice.status_post("Three views of the lake #sunset with @bob", media_ids=media_ids)
    assert [m["id"] for m in status["media_attachments"]] == media_ids
    assert [m["description"] for m in status["media_attachments"]] == [
        "Lake, view 1",
        "Lake, view 2",
        "Lake, view 3",
    ]
    assert all(m["meta"]["focus"] == {"x": 0.25, "y": -0.5} for m in status["media_attachments"])
    assert [t["name"] for t in status["tags"]] == ["sunset"]
    assert [m["acct"] for m in status["mentions"]] == ["bob"]

    bob.status_favourite(status["id"])
    comment = bob.status_post("What a view!", in_reply_to_id=status["id"])
    for viewer in (alice, bob):
        seen = viewer.status(status["id"])
        assert seen["favourites_count"] == 1
        assert seen["replies_count"] == 1
        assert len(seen["media_attachments"]) == 3
        thread = viewer.status_context(status["id"])
        assert [s["id"] for s in thread["descendants"]] == [comment["id"]]
    assert bob.status(status["id"])["favourited"] is True
    assert bob.status_context(comment["id"])["ancestors"][0]["id"] == status["id"]
    for attachment in status["media_attachments"]:
        with httpx.Client(timeout=30) as http:
            assert http.get(attachment["url"]).status_code == 200
    return status


# --- tests -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def limited_node(node: NodeProcess) -> AsyncIterator[NodeProcess]:
    """A second node on the same database with small limits: images up to 300,000 bytes,
    videos up to 2 seconds; its media folder starts empty."""
    process = NodeProcess.configure(
        database_url=node.env["PINHOLE_DATABASE_URL"],
        redis_url=node.env["PINHOLE_REDIS_URL"],
        extra_env={
            "PINHOLE_IMAGE_MAX_BYTES": str(LIMITED_IMAGE_BYTES),
            "PINHOLE_VIDEO_MAX_SECONDS": "2",
        },
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture
async def on_limited_node(limited_node: NodeProcess, make_user) -> AsyncIterator:
    """Users made as usual, talking to the limited node."""
    clients: list[httpx.AsyncClient] = []

    async def make(username: str) -> SignedInUser:
        user = await make_user(username)
        client = httpx.AsyncClient(
            base_url=limited_node.url, timeout=30, headers={"Authorization": f"Bearer {user.token}"}
        )
        clients.append(client)
        return replace(user, client=client)

    yield make
    for client in clients:
        await client.aclose()


async def test_photo_with_alt_text_and_focus_is_ready_in_every_size(node, make_user) -> None:
    alice = await make_user("alice")
    await photo_flow(alice, f"{node.url}/media")


async def test_no_stored_or_served_file_keeps_gps_and_photos_are_upright(node, make_user) -> None:
    alice = await make_user("alice")
    await gps_flow(alice, f"{node.url}/media", media_folder(node))


async def test_mastodon_py_album_of_three_with_likes_and_a_comment(node) -> None:
    await asyncio.to_thread(album_flow, node.url)


async def test_files_are_served_with_ranges_etags_and_immutable_caching(node, make_user) -> None:
    alice = await make_user("alice")
    media = await upload_ready(alice, samples.phone_jpeg(800, 600, seed=13))
    whole = await fetch(media["url"])
    size = len(whole.content)
    digest = hashlib.sha256(whole.content).hexdigest()
    assert whole.headers["etag"] == f'"{digest}"'
    assert whole.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert whole.headers["accept-ranges"] == "bytes"
    assert media["url"].endswith(f"{digest}.jpg")

    async with httpx.AsyncClient(timeout=30) as client:
        head = await client.head(media["url"])
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) == size

        part = await client.get(media["url"], headers={"Range": "bytes=0-99"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 0-99/{size}"
        assert part.content == whole.content[:100]
        assert part.headers["content-length"] == "100"

        tail = await client.get(media["url"], headers={"Range": "bytes=-50"})
        assert tail.status_code == 206 and tail.content == whole.content[-50:]
        rest = await client.get(media["url"], headers={"Range": f"bytes={size - 10}-"})
        assert rest.headers["content-range"] == f"bytes {size - 10}-{size - 1}/{size}"
        assert rest.content == whole.content[-10:]

        for bad in (f"bytes={size}-", "bytes=50-10", "bytes=abc"):
            refused = await client.get(media["url"], headers={"Range": bad})
            assert refused.status_code == 416, bad
            assert refused.headers["content-range"] == f"bytes */{size}"

        stale = await client.get(
            media["url"], headers={"Range": "bytes=0-9", "If-Range": '"something-else"'}
        )
        assert stale.status_code == 200 and stale.content == whole.content

        cached = await client.get(media["url"], headers={"If-None-Match": whole.headers["etag"]})
        assert cached.status_code == 304 and cached.content == b""


async def test_paths_outside_the_media_folder_and_raw_uploads_are_never_served(node, http) -> None:
    raw_upload = node.data_dir / "media" / "incoming" / "123-file-abc.jpg"
    raw_upload.parent.mkdir(parents=True, exist_ok=True)
    raw_upload.write_bytes(samples.phone_jpeg(64, 48))
    assert (node.data_dir / "node.log").is_file()  # what the climbs below aim at
    try:
        for path in (
            "/media/incoming/123-file-abc.jpg",
            "/media/%2e%2e/node.log",
            "/media/%2e%2e/%2e%2e/etc/passwd",
            "/media/..%2fnode.log",
            "/media/%2Fetc%2Fpasswd",
            "/media/ab/..%5c..%5cnode.log",
            "/media/",
            "/media/ab",
        ):
            response = await http.get(path)
            assert response.status_code == 404, path
    finally:
        raw_upload.unlink()


async def test_bad_uploads_are_refused_by_name_and_leave_nothing_behind(
    limited_node, on_limited_node
) -> None:
    alice = await on_limited_node("alice")
    store = media_folder(limited_node)
    before = store.listing()
    big = samples.phone_jpeg(1600, 1200, seed=14)
    assert len(big) > LIMITED_IMAGE_BYTES
    photo = samples.phone_jpeg(800, 600, seed=15)
    cases = [
        ("truncated", photo[: len(photo) // 2], "photo.jpg", "image is truncated or corrupt"),
        (
            "wrong type",
            b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
            "photo.jpg",
            "file type not supported: detected application/pdf",
        ),
        ("text", b"just words, not a photo\n" * 10, "photo.jpg", "detected text/plain"),
        ("bomb", samples.png_bomb(20_000, 20_000), "photo.png", "larger than 100 megapixels"),
        ("empty", b"", "photo.jpg", "file is empty"),
        ("oversize", big, "photo.jpg", "file is larger than 293 KB"),
        (
            "too long",
            samples.encode_video("mp4", "libx264", None, seconds=2.5, width=64, height=48),
            "clip.mp4",
            "video is longer than 2 seconds",
        ),
    ]
    for label, data, name, problem in cases:
        for version in ("v2", "v1"):
            response = await upload(alice, data, name=name, version=version)
            assert response.status_code == 422, (label, version, response.text)
            assert problem in response.json()["error"], (label, version, response.text)
    assert store.listing() == before
    assert await db.fetchval("SELECT count(*) FROM media_attachments") == 0


async def test_missing_file_field_and_bad_alt_text_or_focus_are_422(node, make_user) -> None:
    alice = await make_user("alice")
    photo = samples.phone_jpeg(64, 48, seed=16)
    missing = await alice.post("/api/v2/media", data={"description": "no file"})
    assert missing.status_code == 422 and "file" in missing.json()["error"]
    long_alt = await upload(alice, photo, description="x" * 1501)
    assert long_alt.status_code == 422
    assert "description is too long (maximum is 1500" in long_alt.json()["error"]
    for focus in ("2,0", "0", "a,b", "0.5,-1.5"):
        bad_focus = await upload(alice, photo, focus=focus)
        assert bad_focus.status_code == 422, focus
        assert "focus" in bad_focus.json()["error"]
    assert await db.fetchval("SELECT count(*) FROM media_attachments") == 0


def png_with_corrupt_pixels(width: int = 64, height: int = 48) -> bytes:
    """A PNG whose structure is whole (every chunk and CRC right) but whose compressed pixel
    data is garbage: only decoding, in the job, finds out."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    garbage = bytes(range(256)) * 8
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", garbage)
        + chunk(b"IEND", b"")
    )


async def test_a_file_only_processing_finds_corrupt_fails_and_keeps_no_bytes(
    node, make_user
) -> None:
    alice = await make_user("alice")
    store = media_folder(node)
    before = store.listing()
    accepted = await upload(alice, png_with_corrupt_pixels(), name="broken.png")
    assert accepted.status_code == 202, accepted.text
    failed = await wait_processed(alice, accepted.json()["id"])
    assert failed.status_code == 422
    assert failed.json()["error"] == "image is truncated or corrupt"
    row = await db.fetchrow("SELECT * FROM media_attachments")
    assert row["state"] == "failed" and row["upload_key"] == ""
    assert json.loads(row["renditions"]) == {}
    assert store.listing() == before
    refused = await alice.post("/api/v1/statuses", json={"media_ids": [str(row["id"])]})
    assert refused.status_code == 422


async def test_blocked_hashes_are_refused_at_upload_and_after_processing(node, make_user) -> None:
    alice = await make_user("alice")
    photo = samples.phone_jpeg(320, 240, seed=17)
    await moderation.block_media_hash(hashlib.sha256(photo).hexdigest(), "test")
    refused = await upload(alice, photo)
    assert refused.status_code == 422
    assert refused.json()["error"] == "this file is blocked on this node"

    # A moderator who saw the served file blocks its hash (the digest in its URL): the same
    # upload then fails once processed.
    other = samples.phone_jpeg(320, 240, seed=18)
    served = await upload_ready(alice, other)
    await moderation.block_media_hash(
        hashlib.sha256((await fetch(served["url"])).content).hexdigest()
    )
    again = await upload(alice, other)
    assert again.status_code == 202
    failed = await wait_processed(alice, again.json()["id"])
    assert failed.status_code == 422
    assert failed.json()["error"] == "this file is blocked on this node"


async def test_v1_upload_answers_when_ready(node, make_user) -> None:
    alice = await make_user("alice")
    response = await upload(
        alice, samples.phone_jpeg(640, 480, seed=19), version="v1", description="at once"
    )
    assert response.status_code == 200, response.text
    media = response.json()
    assert media["url"] and media["description"] == "at once"
    assert (await fetch(media["url"])).status_code == 200
    assert (await alice.get(f"/api/v1/media/{media['id']}")).status_code == 200


async def test_mp4_and_iphone_mov_become_ready_videos_with_posters(node, make_user) -> None:
    alice = await make_user("alice")
    mp4 = samples.encode_video("mp4", "libx264", "aac", seconds=1.0)
    video = await upload_ready(alice, mp4, name="clip.mp4", content_type="video/mp4")
    assert video["type"] == "video"
    assert video["url"].endswith(".mp4")
    assert video["meta"]["original"]["size"] == "320x240"
    assert abs(video["meta"]["original"]["duration"] - 1.0) < 0.15
    served = await fetch(video["url"])
    assert served.headers["content-type"] == "video/mp4"
    async with httpx.AsyncClient(timeout=30) as client:
        seek = await client.get(video["url"], headers={"Range": "bytes=1000-1999"})
    assert seek.status_code == 206 and seek.content == served.content[1000:2000]
    poster = await fetch(video["preview_url"])
    assert poster.headers["content-type"] == "image/webp"
    assert opened(poster.content).size == (320, 240)

    mov = samples.encode_video(
        "mov", "hevc", "aac", rotation=-90, metadata={"location": "+52.37+004.89/"}
    )
    phone = await upload_ready(alice, mov, name="IMG_0001.MOV", content_type="video/quicktime")
    assert phone["type"] == "video"
    assert phone["meta"]["original"]["size"] == "240x320"
    converted = await fetch(phone["url"])
    assert converted.headers["content-type"] == "video/mp4"
    assert b"+52.37+004.89" not in converted.content
    with av.open(io.BytesIO(converted.content)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    picture = opened((await fetch(phone["preview_url"])).content).convert("RGB")
    assert picture.size == (240, 320)
    assert is_red(picture.getpixel((picture.width - 5, 5)))


async def test_animated_gif_becomes_a_looping_mp4(node, make_user) -> None:
    alice = await make_user("alice")
    response = await upload(
        alice, samples.animated_gif(), name="dance.gif", content_type="image/gif"
    )
    assert response.status_code == 202
    assert response.json()["type"] == "gifv"
    ready = await wait_processed(alice, response.json()["id"])
    gifv = ready.json()
    assert gifv["type"] == "gifv" and gifv["url"].endswith(".mp4")
    assert (await fetch(gifv["url"])).headers["content-type"] == "video/mp4"
    assert (await fetch(gifv["preview_url"])).headers["content-type"] == "image/webp"


async def test_alt_text_and_focus_change_until_the_media_is_on_a_post(node, make_user) -> None:
    alice = await make_user("alice")
    media = await upload_ready(alice, samples.phone_jpeg(320, 240, seed=21))
    changed = await alice.client.put(
        f"/api/v1/media/{media['id']}", data={"description": "Better words", "focus": "-1,1"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["description"] == "Better words"
    assert changed.json()["meta"]["focus"] == {"x": -1.0, "y": 1.0}
    only_alt = await alice.client.put(
        f"/api/v1/media/{media['id']}", json={"description": "Only words"}
    )
    assert only_alt.json()["meta"]["focus"] == {"x": -1.0, "y": 1.0}

    post = await alice.post("/api/v1/statuses", json={"media_ids": [media["id"]]})
    assert post.status_code == 200, post.text
    assert post.json()["media_attachments"][0]["description"] == "Only words"
    late = await alice.client.put(f"/api/v1/media/{media['id']}", data={"description": "late"})
    assert late.status_code == 422
    assert "editing the post" in late.json()["error"]


async def test_only_the_owner_sees_changes_or_deletes_an_upload(node, make_user, http) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    media = await upload_ready(alice, samples.phone_jpeg(320, 240, seed=22))
    path = f"/api/v1/media/{media['id']}"
    assert (await bob.get(path)).status_code == 404
    assert (await bob.client.put(path, data={"description": "mine"})).status_code == 404
    assert (await bob.client.delete(path)).status_code == 404
    assert (await http.get(path)).status_code == 401
    assert (await bob.get("/api/v1/media/not-an-id")).status_code == 404
    assert (await alice.get(path)).json()["description"] is None


async def test_deleting_an_unattached_upload_removes_its_bytes(node, make_user) -> None:
    alice = await make_user("alice")
    store = media_folder(node)
    media = await upload_ready(alice, samples.phone_jpeg(400, 300, seed=23))
    keys = {r["key"] for r in (await renditions_of(media["id"])).values()}
    assert keys <= store.listing()
    deleted = await alice.client.delete(f"/api/v1/media/{media['id']}")
    assert deleted.status_code == 200 and deleted.json() == {}
    assert not keys & store.listing()
    assert (await alice.get(f"/api/v1/media/{media['id']}")).status_code == 404
    assert (await fetch(media["url"])).status_code == 404

    attached = await upload_ready(alice, samples.phone_jpeg(400, 300, seed=24))
    await alice.post("/api/v1/statuses", json={"media_ids": [attached["id"]]})
    refused = await alice.client.delete(f"/api/v1/media/{attached['id']}")
    assert refused.status_code == 422


async def test_deleting_a_post_removes_the_bytes_no_other_post_uses(node, make_user) -> None:
    alice = await make_user("alice")
    store = media_folder(node)
    shared_photo = samples.phone_jpeg(500, 400, seed=25)
    first_copy = await upload_ready(alice, shared_photo)
    second_copy = await upload_ready(alice, shared_photo)
    own = await upload_ready(alice, samples.phone_jpeg(500, 400, seed=26))
    shared_keys = {r["key"] for r in (await renditions_of(first_copy["id"])).values()}
    assert shared_keys == {r["key"] for r in (await renditions_of(second_copy["id"])).values()}
    own_keys = {r["key"] for r in (await renditions_of(own["id"])).values()}

    album = await alice.post("/api/v1/statuses", json={"media_ids": [first_copy["id"], own["id"]]})
    other = await alice.post("/api/v1/statuses", json={"media_ids": [second_copy["id"]]})
    assert (await alice.client.delete(f"/api/v1/statuses/{album.json()['id']}")).status_code == 200

    async def album_media_gone() -> bool:
        return not await db.fetchval(
            "SELECT count(*) FROM media_attachments WHERE id = ANY($1::bigint[])",
            [int(first_copy["id"]), int(own["id"])],
        )

    await wait_until(album_media_gone, timeout=15)
    assert not own_keys & store.listing()
    assert shared_keys <= store.listing()
    assert (await fetch(second_copy["url"])).status_code == 200

    assert (await alice.client.delete(f"/api/v1/statuses/{other.json()['id']}")).status_code == 200

    async def shared_gone() -> bool:
        return not shared_keys & store.listing()

    await wait_until(shared_gone, timeout=15)


async def test_avatar_and_header_are_cropped_scrubbed_and_replaced(node, make_user) -> None:
    alice = await make_user("alice")
    store = media_folder(node)
    response = await alice.client.patch(
        "/api/v1/accounts/update_credentials",
        files={
            "avatar": (
                "me.jpg",
                samples.phone_jpeg(1200, 900, orientation=6, seed=27),
                "image/jpeg",
            ),
            "header": ("lake.jpg", samples.phone_jpeg(2400, 1200, seed=28), "image/jpeg"),
        },
        data={"display_name": "Alice"},
    )
    assert response.status_code == 200, response.text
    account = response.json()
    assert account["display_name"] == "Alice"
    avatar = await fetch(account["avatar"])
    assert avatar.headers["content-type"] == "image/jpeg"
    assert opened(avatar.content).size == (400, 400)
    assert_scrubbed("avatar", avatar.content)
    header = await fetch(account["header"])
    assert opened(header.content).size == (1500, 500)
    assert_scrubbed("header", header.content)
    media_base = f"{node.url}/media/"
    old_key = account["avatar"].removeprefix(media_base)
    assert old_key in store.listing()

    replaced = await alice.client.patch(
        "/api/v1/accounts/update_credentials",
        files={"avatar": ("new.png", _small_png(), "image/png")},
    )
    assert replaced.status_code == 200, replaced.text
    new_avatar = replaced.json()["avatar"]
    assert new_avatar != account["avatar"] and replaced.json()["header"] == account["header"]
    assert opened((await fetch(new_avatar)).content).size == (120, 120)
    assert old_key not in store.listing()

    bad = await alice.client.patch(
        "/api/v1/accounts/update_credentials",
        files={"avatar": ("me.jpg", b"not a picture at all", "image/jpeg")},
    )
    assert bad.status_code == 422
    assert "avatar" in bad.json()["error"]


def _small_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (160, 120), (10, 200, 30, 128)).save(out, "PNG")
    return out.getvalue()


async def test_a_custom_thumbnail_becomes_the_poster_of_a_video(node, make_user) -> None:
    alice = await make_user("alice")
    before = media_folder(node).listing()
    cover = io.BytesIO()
    Image.new("RGB", (200, 150), (250, 10, 10)).save(cover, "JPEG", quality=95)
    response = await alice.client.post(
        "/api/v2/media",
        files={
            "file": (
                "clip.mp4",
                samples.encode_video("mp4", "libx264", None, seconds=0.5),
                "video/mp4",
            ),
            "thumbnail": ("cover.jpg", cover.getvalue(), "image/jpeg"),
        },
    )
    assert response.status_code == 202, response.text
    video = (await wait_processed(alice, response.json()["id"])).json()
    assert video["type"] == "video" and video["url"].endswith(".mp4")
    poster = opened((await fetch(video["preview_url"])).content).convert("RGB")
    assert poster.size == (200, 150)
    assert is_red(poster.getpixel((100, 75)))
    assert not {k for k in media_folder(node).listing() - before if k.startswith("incoming/")}

    animated = await alice.client.post(
        "/api/v2/media",
        files={
            "file": (
                "clip.mp4",
                samples.encode_video("mp4", "libx264", None, seconds=0.5),
                "video/mp4",
            ),
            "thumbnail": ("cover.gif", samples.animated_gif(), "image/gif"),
        },
    )
    assert animated.status_code == 422
    assert "still picture" in animated.json()["error"]
