"""Storage backends: local disk and S3 (moto over real HTTP), seen from a client's side."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from media.storage import (
    IMMUTABLE_CACHE_CONTROL,
    LocalStorage,
    S3Storage,
    StorageError,
    content_key,
    storage_from_settings,
)

PICTURE = b"\xff\xd8\xff\xe0 pretend this is a photo \xff\xd9"


def s3_storage(endpoint: str, bucket: str) -> S3Storage:
    return S3Storage(
        endpoint_url=endpoint,
        bucket=bucket,
        region="us-east-1",
        access_key="testing",
        secret_key="testing",
        path_style=True,
        base_url=f"{endpoint}/{bucket}/",
    )


def test_content_key_is_the_sharded_sha256_of_the_bytes() -> None:
    digest = hashlib.sha256(PICTURE).hexdigest()
    assert content_key(PICTURE, "webp") == f"{digest[:2]}/{digest[2:4]}/{digest}.webp"
    assert content_key(PICTURE, ".JPG") == f"{digest[:2]}/{digest[2:4]}/{digest}.jpg"
    assert content_key(PICTURE, "jpg") != content_key(PICTURE + b"!", "jpg")
    with pytest.raises(ValueError):
        content_key(PICTURE, "../x")


async def test_local_storage_round_trip_leaves_one_readable_file(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "media", "https://cdn.example/media/")
    key = content_key(PICTURE, "jpg")
    assert not await storage.exists(key)
    await storage.put(key, PICTURE, "image/jpeg")
    assert await storage.exists(key)
    assert await storage.get(key) == PICTURE
    assert storage.path(key).read_bytes() == PICTURE
    assert storage.path(key).stat().st_mode & 0o777 == 0o644
    assert [p.name for p in storage.path(key).parent.iterdir()] == [key.rsplit("/", 1)[1]]
    assert storage.url(key) == f"https://cdn.example/media/{key}"
    await storage.delete(key)
    await storage.delete(key)  # deleting twice is fine: jobs may run twice
    assert not await storage.exists(key)
    with pytest.raises(KeyError):
        await storage.get(key)


async def test_local_storage_overwrite_replaces_the_whole_file(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path, "http://node.test/media")
    await storage.put("avatars/a.png", b"first version, longer", "image/png")
    await storage.put("avatars/a.png", b"second", "image/png")
    assert await storage.get("avatars/a.png") == b"second"


@pytest.mark.parametrize(
    "key", ["../secret", "/etc/passwd", "a/../../b", "a//b", "a\\b", "", ".hidden", "a/./b"]
)
async def test_keys_cannot_escape_the_media_root(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path, "http://node.test/media")
    with pytest.raises(ValueError):
        await storage.put(key, PICTURE, "image/jpeg")
    with pytest.raises(ValueError):
        storage.url(key)


async def test_s3_storage_round_trip_served_with_immutable_cache_headers(
    moto_s3_endpoint: str,
) -> None:
    bucket = f"pinhole-{uuid.uuid4().hex[:8]}"
    storage = s3_storage(moto_s3_endpoint, bucket)
    assert await storage.ensure_bucket() is True
    assert await storage.ensure_bucket() is False
    key = content_key(PICTURE, "jpg")
    assert not await storage.exists(key)
    await storage.put(key, PICTURE, "image/jpeg")
    assert await storage.exists(key)
    assert await storage.get(key) == PICTURE
    url = storage.url(key)
    assert url == f"{moto_s3_endpoint}/{bucket}/{key}"
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    assert response.content == PICTURE
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == IMMUTABLE_CACHE_CONTROL
    await storage.delete(key)
    await storage.delete(key)
    assert not await storage.exists(key)
    with pytest.raises(KeyError):
        await storage.get(key)


def test_settings_choose_the_backend(tmp_path: Path, moto_s3_endpoint: str) -> None:
    settings = SimpleNamespace(
        media_backend="local",
        data_dir=tmp_path,
        public_media_url="http://node.test/media",
        s3_endpoint=moto_s3_endpoint,
        s3_bucket="pinhole-media",
        s3_region="us-east-1",
        s3_access_key="testing",
        s3_secret_key="testing",
        s3_path_style=True,
    )
    local = storage_from_settings(settings)
    assert isinstance(local, LocalStorage)
    assert local.path("ab/cd/x.jpg") == tmp_path / "media" / "ab" / "cd" / "x.jpg"
    assert local.url("ab/cd/x.jpg") == "http://node.test/media/ab/cd/x.jpg"
    assert storage_from_settings(settings) is local  # built once per configuration
    settings.media_backend = "s3"
    remote = storage_from_settings(settings)
    assert isinstance(remote, S3Storage) and remote.bucket == "pinhole-media"
    settings.media_backend = "ftp"
    with pytest.raises(ValueError, match="local or s3"):
        storage_from_settings(settings)


async def test_s3_failures_arrive_as_os_errors(moto_s3_endpoint: str) -> None:
    storage = s3_storage(moto_s3_endpoint, f"missing-{uuid.uuid4().hex[:8]}")
    with pytest.raises(StorageError) as failed:
        await storage.put("a/b.jpg", PICTURE, "image/jpeg")
    assert isinstance(failed.value, OSError)
