"""Web Push: subscriptions in Mastodon's shape, and notifications delivered encrypted
(aes128gcm, RFC 8291) with a VAPID signature to a push endpoint served by the test, which
decrypts them with the subscription's keys."""

import asyncio
import base64
import json
import os
from dataclasses import dataclass, field

import http_ece
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from node import db
from tests.rig import free_port, wait_until

QUIET_SECONDS = 1.0


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class PushEndpoint:
    """A push service on loopback: records each message, answers with queued statuses."""

    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/push/device-1"

    async def _receive(self, request: web.Request) -> web.Response:
        self.received.append(Received(dict(request.headers), await request.read()))
        return web.Response(status=self.answers.pop(0) if self.answers else 201)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/push/{device}", self._receive)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@dataclass
class DeviceKeys:
    """What a browser makes for a push subscription: an ECDH key pair and an auth secret."""

    private: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return _b64url(
            self.private.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def decrypt(self, body: bytes) -> dict:
        plain = http_ece.decrypt(
            body, private_key=self.private, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


async def _subscribe(user, endpoint: PushEndpoint, keys: DeviceKeys, **data) -> dict:
    alerts = data.pop("alerts", {"favourite": True, "follow": True, "mention": True})
    response = await user.client.post(
        "/api/v1/push/subscription",
        json={
            "subscription": {
                "endpoint": endpoint.url,
                "keys": {"p256dh": keys.p256dh, "auth": _b64url(keys.auth)},
            },
            "data": {"alerts": alerts, **data},
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _post(user, text: str) -> dict:
    response = await user.post("/api/v1/statuses", data={"status": text})
    assert response.status_code == 200, response.text
    return response.json()


async def _endpoint() -> PushEndpoint:
    endpoint = PushEndpoint()
    await endpoint.start()
    return endpoint


async def test_a_like_pushes_once_encrypted_for_the_device(node, make_user):
    endpoint, keys = await _endpoint(), DeviceKeys()
    try:
        ana, bea = await make_user("ana"), await make_user("bea")
        subscription = await _subscribe(ana, endpoint, keys)
        photo = await _post(ana, "a photo to like")
        await bea.post(f"/api/v1/statuses/{photo['id']}/favourite")
        await wait_until(lambda: _count(endpoint, 1))
        [message] = endpoint.received
        assert message.headers["Content-Encoding"] == "aes128gcm"
        assert int(message.headers["TTL"]) > 0
        pushed = keys.decrypt(message.body)
        [notification] = (await ana.get("/api/v1/notifications")).json()
        assert pushed["notification_id"] == notification["id"]
        assert pushed["notification_type"] == "favourite"
        assert pushed["title"] == "bea liked your post"
        assert pushed["body"] == "a photo to like"
        assert pushed["preferred_locale"] == "en"
        # Signed with the node's VAPID key, which the instance and apps publish.
        authorization = message.headers["Authorization"]
        assert Vapid02.verify(authorization)
        server_key = authorization.split("k=")[1]
        assert subscription["server_key"] == server_key
        instance = (await ana.get("/api/v2/instance")).json()
        assert instance["configuration"]["vapid"]["public_key"] == server_key
        # Undone and redone: still one notification and one push.
        await bea.post(f"/api/v1/statuses/{photo['id']}/unfavourite")
        await bea.post(f"/api/v1/statuses/{photo['id']}/favourite")
        await asyncio.sleep(QUIET_SECONDS)
        assert len(endpoint.received) == 1
        assert len((await ana.get("/api/v1/notifications")).json()) == 1
    finally:
        await endpoint.stop()


async def _count(endpoint: PushEndpoint, n: int) -> bool:
    return len(endpoint.received) >= n


async def test_subscription_can_be_read_changed_and_removed(node, make_user):
    endpoint, keys = await _endpoint(), DeviceKeys()
    try:
        ana = await make_user("ana")
        assert (await ana.get("/api/v1/push/subscription")).status_code == 404
        created = await _subscribe(
            ana, endpoint, keys, alerts={"mention": "true"}, policy="followed"
        )
        assert created["endpoint"] == endpoint.url
        assert created["policy"] == "followed"
        assert created["alerts"]["mention"] is True and created["alerts"]["favourite"] is False
        shown = (await ana.get("/api/v1/push/subscription")).json()
        assert shown == created
        changed = await ana.client.put(
            "/api/v1/push/subscription",
            data={"data[alerts][favourite]": "true", "data[policy]": "all"},
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["alerts"]["favourite"] is True
        assert changed.json()["alerts"]["mention"] is True  # unchanged
        assert changed.json()["policy"] == "all"
        assert (await ana.client.delete("/api/v1/push/subscription")).status_code == 200
        assert (await ana.get("/api/v1/push/subscription")).status_code == 404
    finally:
        await endpoint.stop()


async def test_bad_subscriptions_are_refused(http, make_user):
    ana = await make_user("ana")
    keys = DeviceKeys()
    good = {"p256dh": keys.p256dh, "auth": _b64url(keys.auth)}
    cases = [
        {"endpoint": "ftp://push.example/x", "keys": good},
        {"endpoint": "https://push.example/x", "keys": {**good, "p256dh": "not-a-key"}},
        {"endpoint": "https://push.example/x", "keys": {**good, "auth": _b64url(b"short")}},
    ]
    for subscription in cases:
        response = await ana.client.post(
            "/api/v1/push/subscription", json={"subscription": subscription}
        )
        assert response.status_code == 422, (subscription, response.text)
    bad_policy = await ana.client.post(
        "/api/v1/push/subscription",
        json={
            "subscription": {"endpoint": "https://push.example/x", "keys": good},
            "data": {"policy": "friends"},
        },
    )
    assert bad_policy.status_code == 422
    assert (await http.get("/api/v1/push/subscription")).status_code == 401


async def test_alerts_and_policy_choose_what_is_pushed(node, make_user):
    endpoint, keys = await _endpoint(), DeviceKeys()
    try:
        ana, friend, stranger = (
            await make_user("ana"),
            await make_user("friend"),
            await make_user("stranger"),
        )
        await ana.post(f"/api/v1/accounts/{friend.account_id}/follow")
        await _subscribe(ana, endpoint, keys, alerts={"favourite": True}, policy="followed")
        photo = await _post(ana, "policy")
        await stranger.post(f"/api/v1/accounts/{ana.account_id}/follow")  # follow alerts off
        await stranger.post(f"/api/v1/statuses/{photo['id']}/favourite")  # not followed
        await friend.post(f"/api/v1/statuses/{photo['id']}/favourite")
        await wait_until(lambda: _count(endpoint, 1))
        await asyncio.sleep(QUIET_SECONDS)
        assert len(endpoint.received) == 1
        pushed = keys.decrypt(endpoint.received[0].body)
        assert pushed["title"] == "friend liked your post"
    finally:
        await endpoint.stop()


async def test_a_subscription_the_push_service_forgot_is_removed(node, make_user):
    endpoint, keys = await _endpoint(), DeviceKeys()
    endpoint.answers = [410]
    try:
        ana, bea = await make_user("ana"), await make_user("bea")
        await _subscribe(ana, endpoint, keys)
        await bea.post(f"/api/v1/accounts/{ana.account_id}/follow")
        await wait_until(lambda: _count(endpoint, 1))

        async def removed():
            return (await ana.get("/api/v1/push/subscription")).status_code == 404

        await wait_until(removed)
    finally:
        await endpoint.stop()


async def test_a_temporary_failure_is_retried(node, make_user):
    endpoint, keys = await _endpoint(), DeviceKeys()
    endpoint.answers = [503]
    try:
        ana, bea = await make_user("ana"), await make_user("bea")
        await _subscribe(ana, endpoint, keys)
        await bea.post(f"/api/v1/accounts/{ana.account_id}/follow")
        await wait_until(lambda: _count(endpoint, 2), timeout=20)
        first, second = endpoint.received
        assert keys.decrypt(first.body) == keys.decrypt(second.body)
        assert keys.decrypt(second.body)["notification_type"] == "follow"
        assert await db.fetchval("SELECT count(*) FROM push_subscriptions") == 1
    finally:
        await endpoint.stop()


async def test_apps_carry_the_vapid_key(http, make_user):
    ana = await make_user("ana")
    key = (await ana.get("/api/v2/instance")).json()["configuration"]["vapid"]["public_key"]
    app = await http.post(
        "/api/v1/apps",
        data={"client_name": "pusher", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
    )
    assert app.json()["vapid_key"] == key
    v1 = (await ana.get("/api/v1/instance")).json()
    assert v1["configuration"]["vapid"]["public_key"] == key
    assert len(base64.urlsafe_b64decode(key + "==")) == 65
