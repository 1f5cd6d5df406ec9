"""Where media bytes live: local disk or any S3-compatible store, under content-addressed keys."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)

# Keys name their content (see content_key), so an object never changes once written and
# browsers and CDNs may keep it for a year without asking again.
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"

_SAFE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")
_MAX_KEY_LENGTH = 512


def content_key(data: bytes, suffix: str) -> str:
    """`ab/cd/abcd…(64 hex).webp`: the SHA-256 of the bytes, sharded by its first two bytes so
    that no folder holds more than a few hundred files on a local disk."""
    digest = hashlib.sha256(data).hexdigest()
    extension = suffix.lstrip(".").lower()
    if not re.fullmatch(r"[a-z0-9]{1,8}", extension):
        raise ValueError(f"not a file extension: {suffix!r}")
    return f"{digest[:2]}/{digest[2:4]}/{digest}.{extension}"


def checked_key(key: str) -> str:
    """The key itself if it is a plain relative path; ValueError for anything that could climb
    out of the media root ('..', absolute paths, backslashes, empty segments)."""
    if len(key) > _MAX_KEY_LENGTH or not _SAFE_KEY.fullmatch(key):
        raise ValueError(f"unsafe storage key: {key!r}")
    if any(part in (".", "..") for part in key.split("/")):
        raise ValueError(f"unsafe storage key: {key!r}")
    return key


class StorageError(OSError):
    """The store could not be reached or refused the operation (S3 errors arrive as this, so
    callers handle both backends with `except OSError`)."""


class Storage(ABC):
    """Bytes by key. `get` raises KeyError for a key that holds nothing; `delete` of an absent
    key does nothing, so jobs that delete can run twice; failures of the store itself raise
    OSError (StorageError for S3); a key that could climb out of its root raises ValueError."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    @abstractmethod
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    @abstractmethod
    async def get(self, key: str) -> bytes: ...

    @abstractmethod
    async def delete(self, key: str) -> None: ...

    @abstractmethod
    async def exists(self, key: str) -> bool: ...

    def url(self, key: str) -> str:
        """The public URL of a key: the media base URL (which a CDN may front) and the key."""
        return f"{self.base_url}/{checked_key(key)}"


class LocalStorage(Storage):
    """Files under `root`, written whole or not at all (temporary file, fsync, rename), so a
    reader never sees half an image and a crash never leaves one behind."""

    def __init__(self, root: Path, base_url: str) -> None:
        super().__init__(base_url)
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """Where the key's bytes are on disk, for serving with range requests."""
        return self.root / checked_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self.path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            # mkstemp makes the file private; media is public by nature and may be served by
            # a web server running as another user.
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    async def get(self, key: str) -> bytes:
        path = self.path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError):
            raise KeyError(key) from None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, missing_ok=True)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path(key).is_file)


class S3Storage(Storage):
    """Objects in one bucket of AWS S3 or a compatible store (MinIO, Garage, R2, B2…).

    boto3 is blocking; each call runs in a thread (boto3 clients are thread-safe).
    """

    def __init__(
        self,
        *,
        endpoint_url: str | None,
        bucket: str,
        region: str,
        access_key: str,
        secret_key: str,
        path_style: bool,
        base_url: str,
    ) -> None:
        super().__init__(base_url)
        self.bucket = bucket
        self.region = region
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if path_style else "virtual"},
                retries={"max_attempts": 4, "mode": "standard"},
            ),
        )

    async def ensure_bucket(self) -> bool:
        """Create the bucket if it is missing, readable by anyone (media URLs are public).

        Returns whether it was created. The public-read policy is best effort: stores that
        refuse it (AWS with Block Public Access) need a CDN or a policy set by hand.
        """
        return await asyncio.to_thread(self._ensure_bucket)

    def _ensure_bucket(self) -> bool:
        with _as_storage_error(f"create bucket {self.bucket}"):
            try:
                self._client.head_bucket(Bucket=self.bucket)
                return False
            except ClientError as error:
                if _error_code(error) not in _NOT_FOUND:
                    raise
            arguments: dict[str, Any] = {"Bucket": self.bucket}
            if self.region and self.region != "us-east-1":
                arguments["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            self._client.create_bucket(**arguments)
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["s3:GetObject"],
                    "Resource": [f"arn:aws:s3:::{self.bucket}/*"],
                }
            ],
        }
        try:
            self._client.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(policy))
        except ClientError as error:
            log.warning("bucket %s created but not made public: %s", self.bucket, error)
        return True

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        key = checked_key(key)

        def write() -> None:
            with _as_storage_error(f"put {key}"):
                self._client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=data,
                    ContentType=content_type,
                    CacheControl=IMMUTABLE_CACHE_CONTROL,
                )

        await asyncio.to_thread(write)

    async def get(self, key: str) -> bytes:
        key = checked_key(key)

        def read() -> bytes:
            with _as_storage_error(f"get {key}"):
                try:
                    response = self._client.get_object(Bucket=self.bucket, Key=key)
                except ClientError as error:
                    if _error_code(error) in _NOT_FOUND:
                        raise KeyError(key) from None
                    raise
                return response["Body"].read()

        return await asyncio.to_thread(read)

    async def delete(self, key: str) -> None:
        key = checked_key(key)

        def remove() -> None:
            with _as_storage_error(f"delete {key}"):
                self._client.delete_object(Bucket=self.bucket, Key=key)

        await asyncio.to_thread(remove)

    async def exists(self, key: str) -> bool:
        key = checked_key(key)

        def head() -> bool:
            with _as_storage_error(f"head {key}"):
                try:
                    self._client.head_object(Bucket=self.bucket, Key=key)
                except ClientError as error:
                    if _error_code(error) in _NOT_FOUND:
                        return False
                    raise
                return True

        return await asyncio.to_thread(head)


_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket"})


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@contextmanager
def _as_storage_error(action: str) -> Iterator[None]:
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise StorageError(f"S3 {action}: {error}") from error


class MediaSettings(Protocol):
    """The settings storage_from_settings reads (node.settings.Settings has them all)."""

    media_backend: str
    data_dir: Path
    s3_endpoint: str
    s3_bucket: str
    s3_region: str
    s3_access_key: str
    s3_secret_key: str
    s3_path_style: bool

    @property
    def public_media_url(self) -> str: ...


_storages: dict[tuple[object, ...], Storage] = {}


def storage_from_settings(settings: MediaSettings) -> Storage:
    """Local disk under `data_dir/media`, or the configured S3 bucket; the same object for the
    same settings, since a boto3 client takes tens of milliseconds to build.

    With S3, public URLs start with `public_media_url` too: the media base URL when set (a
    CDN, or a proxy path to the bucket), else the bucket's own address (settings.s3_bucket_url).
    """
    identity = (
        settings.media_backend,
        str(settings.data_dir),
        settings.public_media_url,
        settings.s3_endpoint,
        settings.s3_bucket,
        settings.s3_region,
        settings.s3_access_key,
        settings.s3_secret_key,
        settings.s3_path_style,
    )
    storage = _storages.get(identity)
    if storage is None:
        storage = _storages[identity] = _new_storage(settings)
    return storage


def _new_storage(settings: MediaSettings) -> Storage:
    if settings.media_backend == "local":
        return LocalStorage(Path(settings.data_dir) / "media", settings.public_media_url)
    if settings.media_backend == "s3":
        return S3Storage(
            endpoint_url=settings.s3_endpoint or None,
            bucket=settings.s3_bucket,
            region=settings.s3_region,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            path_style=settings.s3_path_style,
            base_url=settings.public_media_url,
        )
    raise ValueError(f"media backend must be local or s3, not {settings.media_backend!r}")
