"""A stand-in remote server for inbox tests: it serves actor documents, WebFinger and objects over
real HTTP, records what pinhole delivers to it, and signs activities as its actors."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar import Litestar, Request, Response, route

from federation.signatures import sign_cavage
from tests.rig import free_port

AS_CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]


def new_key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


_KEYS = [new_key_pair() for _ in range(2)]  # RSA generation is slow: actors share these


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes
    at: float = field(default_factory=time.monotonic)


@dataclass
class FakePeer:
    """One remote server on a loopback address: `documents` by path, deliveries in `received`."""

    host: str
    port: int
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # path -> (bytes, type)
    received: list[Received] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)  # paths of GETs, in order
    inbox_status: int = 202
    # Answers for the next deliveries, in order: (status, headers); then inbox_status.
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    server: uvicorn.Server | None = None
    task: asyncio.Task | None = None

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def domain(self) -> str:
        return f"{self.host}:{self.port}"

    def serve(self, path: str, document: dict[str, Any]) -> None:
        self.documents[path] = document

    def deliveries(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [r.body for r in self.received if kind is None or r.body.get("type") == kind]

    def _app(self) -> Litestar:
        peer = self

        @route("/{path:path}", http_method=["GET", "POST"])
        async def handler(request: Request, path: str) -> Response:
            if request.method == "POST":
                body = await request.body()
                peer.received.append(
                    Received(path, dict(request.headers), json.loads(body or b"{}"), body)
                )
                status, headers = peer.answers.pop(0) if peer.answers else (peer.inbox_status, {})
                return Response(b"", status_code=status, headers=headers)
            peer.fetched.append(path)
            if path == "/.well-known/webfinger":
                resource = unquote(request.query_params.get("resource", ""))
                username = resource.removeprefix("acct:").split("@")[0]
                for doc_path, doc in peer.documents.items():
                    if doc.get("preferredUsername") == username and doc.get("inbox"):
                        return Response(
                            {
                                "subject": resource,
                                "links": [
                                    {
                                        "rel": "self",
                                        "type": "application/activity+json",
                                        "href": peer.origin + doc_path,
                                    }
                                ],
                            },
                            media_type="application/jrd+json",
                        )
                return Response({"error": "not found"}, status_code=404)
            if path in peer.files:
                data, content_type = peer.files[path]
                return Response(data, media_type=content_type)
            document = peer.documents.get(path)
            if document is None:
                return Response({"error": "not found"}, status_code=404)
            return Response(document, media_type="application/activity+json")

        return Litestar(route_handlers=[handler], debug=False)

    async def start(self) -> None:
        config = uvicorn.Config(
            self._app(), host=self.host, port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:  # noqa: ASYNC110 - uvicorn offers no event
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            await self.task

    @classmethod
    async def started(cls, host: str = "127.0.0.9") -> FakePeer:
        peer = cls(host=host, port=free_port(host))
        await peer.start()
        return peer


@dataclass
class PeerActor:
    """A remote actor served by a FakePeer, able to sign deliveries to pinhole."""

    peer: FakePeer
    path: str
    username: str
    private_pem: str
    public_pem: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        return self.peer.origin + self.path

    @property
    def key_id(self) -> str:
        return self.uri + "#main-key"

    @property
    def acct(self) -> str:
        return f"{self.username}@{self.peer.domain}"

    def document(self) -> dict[str, Any]:
        return {
            "@context": AS_CONTEXT,
            "id": self.uri,
            "type": "Person",
            "preferredUsername": self.username,
            "name": self.username.title(),
            "summary": "<p>A remote test actor</p>",
            "inbox": self.uri + "/inbox",
            "outbox": self.uri + "/outbox",
            "followers": self.uri + "/followers",
            "following": self.uri + "/following",
            "endpoints": {"sharedInbox": self.peer.origin + "/inbox"},
            "url": self.peer.origin + "/@" + self.username,
            "manuallyApprovesFollowers": False,
            "publicKey": {"id": self.key_id, "owner": self.uri, "publicKeyPem": self.public_pem},
            **self.extra,
        }

    def publish(self) -> None:
        self.peer.serve(self.path, self.document())

    @classmethod
    def create(
        cls, peer: FakePeer, username: str, path: str | None = None, key: int = 0, **extra: Any
    ) -> PeerActor:
        private, public = _KEYS[key]
        actor = cls(peer, path or f"/users/{username}", username, private, public, extra)
        actor.publish()
        return actor

    def signed_headers(self, url: str, body: bytes, **kwargs: Any) -> dict[str, str]:
        return sign_cavage(
            "POST", url, key_id=self.key_id, private_key_pem=self.private_pem, body=body, **kwargs
        )

    async def deliver(
        self, inbox_url: str, activity: dict[str, Any] | bytes, **kwargs: Any
    ) -> httpx.Response:
        body = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
        headers = self.signed_headers(inbox_url, body, **kwargs)
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.post(inbox_url, content=body, headers=headers)
