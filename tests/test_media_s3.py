"""The media flows on a node whose storage is S3 (moto's server over real HTTP): uploads become
ready with their renditions as public objects in the bucket, nothing private is kept, bad
uploads and deleted posts leave no object behind."""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import boto3
import httpx
import pytest
from botocore.config import Config

from node import db
from tests.media.conftest import moto_s3_endpoint  # noqa: F401  (the session's S3 endpoint)
from tests.rig import NodeProcess, wait_until
from tests.test_media_api import (
    album_flow,
    gps_flow,
    photo_flow,
    png_with_corrupt_pixels,
    renditions_of,
    samples,
    upload,
    upload_ready,
    wait_processed,
)

if TYPE_CHECKING:
    from tests.conftest import SignedInUser

IMMUTABLE = "public, max-age=31536000, immutable"


class Bucket:
    """The node's bucket, read with boto3 (not through the node)."""

    def __init__(self, endpoint: str, name: str) -> None:
        self.name = name
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(s3={"addressing_style": "path"}),
        )

    def listing(self) -> set[str]:
        keys: set[str] = set()
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name):
            keys.update(item["Key"] for item in page.get("Contents", []))
        return keys

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def head(self, key: str) -> dict[str, Any]:
        return self.client.head_object(Bucket=self.name, Key=key)


@pytest.fixture(scope="module")
async def s3_node(node: NodeProcess, moto_s3_endpoint: str) -> AsyncIterator[NodeProcess]:  # noqa: F811
    """A second node on the same database keeping its media in a fresh bucket on moto."""
    process = NodeProcess.configure(
        database_url=node.env["PINHOLE_DATABASE_URL"],
        redis_url=node.env["PINHOLE_REDIS_URL"],
        extra_env={
            "PINHOLE_MEDIA_BACKEND": "s3",
            "PINHOLE_S3_ENDPOINT": moto_s3_endpoint,
            "PINHOLE_S3_BUCKET": f"pinhole-{secrets.token_hex(4)}",
            "PINHOLE_S3_ACCESS_KEY": "testing",
            "PINHOLE_S3_SECRET_KEY": "testing",
        },
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture
def bucket(s3_node: NodeProcess) -> Bucket:
    return Bucket(s3_node.env["PINHOLE_S3_ENDPOINT"], s3_node.env["PINHOLE_S3_BUCKET"])


@pytest.fixture
def bucket_url(s3_node: NodeProcess) -> str:
    return f"{s3_node.env['PINHOLE_S3_ENDPOINT']}/{s3_node.env['PINHOLE_S3_BUCKET']}"


@pytest.fixture
async def on_s3_node(s3_node: NodeProcess, make_user) -> AsyncIterator:
    clients: list[httpx.AsyncClient] = []

    async def make(username: str) -> SignedInUser:
        user = await make_user(username)
        client = httpx.AsyncClient(
            base_url=s3_node.url, timeout=30, headers={"Authorization": f"Bearer {user.token}"}
        )
        clients.append(client)
        return replace(user, client=client)

    yield make
    for client in clients:
        await client.aclose()


async def test_photo_is_ready_with_every_size_as_public_objects(
    on_s3_node, bucket: Bucket, bucket_url: str
) -> None:
    alice = await on_s3_node("alice")
    media = await photo_flow(alice, bucket_url)
    for name, rendition in (await renditions_of(media["id"])).items():
        head = bucket.head(rendition["key"])
        assert head["ContentType"] == rendition["mime"], name
        assert head["CacheControl"] == IMMUTABLE, name
        assert head["ContentLength"] == rendition["size"], name


async def test_no_object_keeps_gps_and_photos_are_upright(
    on_s3_node, bucket: Bucket, bucket_url: str
) -> None:
    alice = await on_s3_node("alice")
    await gps_flow(alice, bucket_url, bucket)
    assert not {key for key in bucket.listing() if key.startswith("incoming/")}


async def test_mastodon_py_album_on_s3(s3_node: NodeProcess, bucket: Bucket) -> None:
    status = await asyncio.to_thread(album_flow, s3_node.url)
    for attachment in status["media_attachments"]:
        key = attachment["url"].split(f"/{bucket.name}/", 1)[1]
        assert key in bucket.listing()


async def test_video_on_s3_has_a_poster_and_plays_from_the_bucket(
    on_s3_node, bucket_url: str
) -> None:
    alice = await on_s3_node("alice")
    video = await upload_ready(
        alice,
        samples.encode_video("mp4", "libx264", "aac", seconds=0.5),
        name="clip.mp4",
        content_type="video/mp4",
    )
    assert video["type"] == "video" and video["url"].startswith(bucket_url)
    async with httpx.AsyncClient(timeout=30) as client:
        played = await client.get(video["url"], headers={"Range": "bytes=0-99"})
        assert played.status_code == 206 and len(played.content) == 100
        assert (await client.get(video["preview_url"])).headers["content-type"] == "image/webp"


async def test_bad_uploads_and_failed_processing_leave_no_object(
    on_s3_node, bucket: Bucket
) -> None:
    alice = await on_s3_node("alice")
    before = bucket.listing()
    photo = samples.phone_jpeg(800, 600, seed=31)
    for data, problem in (
        (photo[: len(photo) // 2], "image is truncated or corrupt"),
        (b"%PDF-1.7\n%%EOF\n", "detected application/pdf"),
        (samples.png_bomb(20_000, 20_000), "larger than 100 megapixels"),
        (b"", "file is empty"),
    ):
        for version in ("v2", "v1"):
            response = await upload(alice, data, version=version)
            assert response.status_code == 422, response.text
            assert problem in response.json()["error"]
    assert await db.fetchval("SELECT count(*) FROM media_attachments") == 0

    accepted = await upload(alice, png_with_corrupt_pixels(), name="broken.png")
    assert accepted.status_code == 202
    assert (await wait_processed(alice, accepted.json()["id"])).status_code == 422
    assert bucket.listing() == before


async def test_deleting_a_post_on_s3_deletes_its_objects(on_s3_node, bucket: Bucket) -> None:
    alice = await on_s3_node("alice")
    media = await upload_ready(alice, samples.phone_jpeg(600, 400, seed=32))
    keys = {r["key"] for r in (await renditions_of(media["id"])).values()}
    assert keys <= bucket.listing()
    post = await alice.post(
        "/api/v1/statuses", json={"status": "gone soon", "media_ids": [media["id"]]}
    )
    assert post.status_code == 200, post.text
    assert (await alice.client.delete(f"/api/v1/statuses/{post.json()['id']}")).status_code == 200

    async def objects_gone() -> bool:
        return not keys & bucket.listing()

    await wait_until(objects_gone, timeout=15)


async def test_node_media_paths_redirect_to_the_bucket(
    s3_node: NodeProcess, on_s3_node, bucket_url: str
) -> None:
    alice = await on_s3_node("alice")
    media = await upload_ready(alice, samples.phone_jpeg(300, 200, seed=33))
    key = media["url"].removeprefix(bucket_url + "/")
    async with httpx.AsyncClient(timeout=30) as client:
        moved = await client.get(f"{s3_node.url}/media/{key}")
        assert moved.status_code == 301
        assert moved.headers["location"] == media["url"]
        assert (await client.get(f"{s3_node.url}/media/incoming/x.jpg")).status_code == 404
        assert (await client.get(media["url"])).status_code == 200


async def test_unreachable_storage_is_a_503_and_keeps_no_row(node: NodeProcess, make_user) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead_endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    process = NodeProcess.configure(
        database_url=node.env["PINHOLE_DATABASE_URL"],
        redis_url=node.env["PINHOLE_REDIS_URL"],
        extra_env={
            "PINHOLE_MEDIA_BACKEND": "s3",
            "PINHOLE_S3_ENDPOINT": dead_endpoint,
            "PINHOLE_S3_ACCESS_KEY": "testing",
            "PINHOLE_S3_SECRET_KEY": "testing",
        },
    )
    process.start()
    try:
        alice = await make_user("alice")
        async with httpx.AsyncClient(
            base_url=process.url, timeout=60, headers={"Authorization": f"Bearer {alice.token}"}
        ) as client:
            photo = samples.phone_jpeg(200, 150, seed=34)
            for version in ("v2", "v1"):
                response = await client.post(
                    f"/api/{version}/media", files={"file": ("a.jpg", photo, "image/jpeg")}
                )
                assert response.status_code == 503, response.text
                assert response.json()["error"] == "media storage is unavailable, try again later"
            avatar = await client.patch(
                "/api/v1/accounts/update_credentials",
                files={"avatar": ("a.jpg", photo, "image/jpeg")},
            )
            assert avatar.status_code == 503
        assert await db.fetchval("SELECT count(*) FROM media_attachments") == 0
    finally:
        process.stop()
