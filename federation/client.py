"""Outgoing federation HTTP: every request signed, bounded in time and size, refused for private
addresses unless the settings allow them, TLS always verified."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import ssl
import time
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import certifi
import httpx

from federation.instance_actor import Signer, instance_signer
from federation.signatures import ACTIVITY_JSON, sign_cavage
from node.settings import get_settings

ACCEPT_ACTIVITY = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
MAX_DOCUMENT_BYTES = 1_000_000  # actors, objects, collections, WebFinger
MAX_REDIRECTS = 3
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
TOTAL_SECONDS = 20.0  # a slow trickle cannot hold a worker longer than this


class FetchError(Exception):
    """A remote request failed; `permanent` when retrying cannot help."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        permanent: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.permanent = permanent


@dataclass(frozen=True)
class PostResult:
    status: int
    retry_after: float | None


MAX_POOLED_HOSTS = 512
_clients: OrderedDict[tuple[int, str], httpx.AsyncClient] = OrderedDict()


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context (certifi's CA store, as httpx uses) for every pool: building
    one per client costs about 25 ms."""
    return ssl.create_default_context(cafile=certifi.where())


def _client(url: str) -> httpx.AsyncClient:
    """A pooled client per remote host (and event loop): httpcore looks through every
    connection of a pool for each request, so one pool across hundreds of servers spends
    more time choosing a connection than sending; the least recently used hosts' pools close."""
    key = (id(asyncio.get_running_loop()), urlsplit(url).netloc.lower())
    client = _clients.get(key)
    if client is not None and not client.is_closed:
        _clients.move_to_end(key)
        return client
    client = httpx.AsyncClient(
        verify=_tls_context(),
        follow_redirects=False,
        timeout=TIMEOUT,
        limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
        headers={"User-Agent": f"pinhole/0.1 (+{get_settings().base_url}/)"},
    )
    _clients[key] = client
    while len(_clients) > MAX_POOLED_HOSTS:
        _, evicted = _clients.popitem(last=False)
        asyncio.get_running_loop().create_task(evicted.aclose())
    return client


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def ensure_allowed_url(url: str) -> None:
    """Refuse URLs we must not contact: other schemes, and private or loopback addresses."""
    parts = urlsplit(url)
    settings = get_settings()
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise FetchError(f"not a web URL: {url[:200]}", permanent=True)
    if settings.allow_private_addresses:
        return
    if parts.scheme != "https":
        raise FetchError("plain http is refused for remote servers", permanent=True)
    host = parts.hostname
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, parts.port or 443, type=socket.SOCK_STREAM
            )
        except OSError:
            raise FetchError(f"{host} does not resolve") from None
        addresses = [info[4][0] for info in infos]
    if not addresses or not all(_is_public(address) for address in addresses):
        raise FetchError(f"{host} is a private or loopback address", permanent=True)


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after", "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return float(raw)
    try:
        return max(0.0, parsedate_to_datetime(raw).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


async def _read_limited(response: httpx.Response, limit: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FetchError(f"response is larger than {limit} bytes", permanent=True)
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise FetchError(f"response is larger than {limit} bytes", permanent=True)
        chunks.append(chunk)
    return b"".join(chunks)


async def signed_get(
    url: str,
    *,
    signer: Signer | None = None,
    accept: str = ACCEPT_ACTIVITY,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> tuple[str, bytes]:
    """GET `url` signed (by the instance actor unless a signer is given), following a few
    redirects; returns the final URL and the body."""
    signer = signer or await instance_signer()
    try:
        async with asyncio.timeout(TOTAL_SECONDS):
            for _ in range(MAX_REDIRECTS + 1):
                await ensure_allowed_url(url)
                headers = sign_cavage(
                    "GET",
                    url,
                    key_id=signer.key_id,
                    private_key_pem=signer.private_key_pem,
                    accept=accept,
                )
                async with _client(url).stream("GET", url, headers=headers) as response:
                    if response.is_redirect and response.headers.get("location"):
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code >= 400:
                        raise FetchError(
                            f"GET {url[:200]} answered {response.status_code}",
                            status=response.status_code,
                            retry_after=_retry_after(response),
                            permanent=400 <= response.status_code < 500
                            and response.status_code not in (401, 408, 429),
                        )
                    return url, await _read_limited(response, max_bytes)
            raise FetchError(f"too many redirects from {url[:200]}", permanent=True)
    except TimeoutError:
        raise FetchError(f"GET {url[:200]} timed out") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"GET {url[:200]} failed: {type(exc).__name__}") from None


async def fetch_json(url: str, *, signer: Signer | None = None) -> tuple[str, dict[str, Any]]:
    """A JSON object document (actor, object, collection): the final URL and the document."""
    final_url, body = await signed_get(url, signer=signer)
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise FetchError(f"{url[:200]} did not answer JSON", permanent=True) from None
    if not isinstance(document, dict):
        raise FetchError(f"{url[:200]} did not answer a JSON object", permanent=True)
    return final_url, document


async def signed_post(url: str, body: bytes, signer: Signer) -> PostResult:
    """POST an activity to an inbox; any HTTP status is a result, network trouble a FetchError."""
    await ensure_allowed_url(url)
    headers = sign_cavage(
        "POST",
        url,
        key_id=signer.key_id,
        private_key_pem=signer.private_key_pem,
        body=body,
        content_type=ACTIVITY_JSON,
    )
    try:
        async with asyncio.timeout(TOTAL_SECONDS):
            async with _client(url).stream("POST", url, headers=headers, content=body) as response:
                drained = 0
                async for chunk in response.aiter_bytes():
                    drained += len(chunk)  # drain, so the connection goes back to the pool
                    if drained > 65536:
                        break
                return PostResult(response.status_code, _retry_after(response))
    except TimeoutError:
        raise FetchError(f"POST {url[:200]} timed out") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"POST {url[:200]} failed: {type(exc).__name__}") from None
