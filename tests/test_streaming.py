"""The streaming API as real clients use it: Mastodon's WebSocket protocol and server-sent events,
fed through Redis pub/sub, so a client on any web process gets every event once."""

import asyncio
import json
from contextlib import asynccontextmanager

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from node.redis import key, redis
from tests.rig import NodeProcess, wait_until

QUIET_SECONDS = 0.8  # how long a test waits to be sure an event does not come


def _ws_url(node_url: str, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return (
        node_url.replace("http://", "ws://") + "/api/v1/streaming" + (f"?{query}" if query else "")
    )


@asynccontextmanager
async def _socket(node_url: str, token: str | None = None, **params: str):
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with connect(_ws_url(node_url, **params), additional_headers=headers, proxy=None) as ws:
        yield ws


async def _barrier(ws) -> None:
    """Wait until the server has handled everything sent so far: it answers an unknown message
    with an error, after the messages (and the subscription in the URL) before it."""
    await ws.send(json.dumps({"type": "test.barrier"}))
    reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert reply["status"] == 400, reply


async def _subscribe(ws, stream: str, **extra: str) -> None:
    await ws.send(json.dumps({"type": "subscribe", "stream": stream, **extra}))
    await _barrier(ws)


async def _next(ws) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


async def _nothing_more(ws) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.recv(), QUIET_SECONDS)


async def _post(user, text: str, **extra) -> dict:
    response = await user.post("/api/v1/statuses", data={"status": text, **extra})
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_like_arrives_on_the_user_stream_as_a_notification(node, make_user):
    ana, bea = await make_user("ana"), await make_user("bea")
    photo = await _post(ana, "sunrise")
    async with _socket(node.url, access_token=ana.token, stream="user") as ws:
        await _barrier(ws)
        await bea.post(f"/api/v1/statuses/{photo['id']}/favourite")
        message = await _next(ws)
        assert message["stream"] == ["user"]
        assert message["event"] == "notification"
        payload = json.loads(message["payload"])
        assert payload["type"] == "favourite"
        assert payload["account"]["username"] == "bea"
        assert payload["status"]["id"] == photo["id"]
        await _nothing_more(ws)


async def test_token_in_header_or_subprotocol_and_refusal_without_one(node, make_user):
    ana, bea = await make_user("ana"), await make_user("bea")
    url = _ws_url(node.url)
    async with connect(url, subprotocols=[ana.token], proxy=None) as ws:
        assert ws.subprotocol == ana.token
        await _subscribe(ws, "user:notification")
        await bea.post(f"/api/v1/accounts/{ana.account_id}/follow")
        message = await _next(ws)
        assert message["stream"] == ["user:notification"]
        assert json.loads(message["payload"])["type"] == "follow"
    async with _socket(node.url, bea.token) as ws:
        await ws.send(json.dumps({"type": "subscribe", "stream": "nonsense"}))
        error = await _next(ws)
        assert error["status"] == 422 and "stream" in error["error"]
        await ws.send(json.dumps({"type": "subscribe", "stream": "hashtag"}))
        assert (await _next(ws))["status"] == 422
        await ws.send(json.dumps({"type": "subscribe", "stream": "list", "list": "12345"}))
        assert (await _next(ws))["status"] == 404
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, proxy=None):
            pass
    assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus):
        async with connect(_ws_url(node.url, access_token="wrong"), proxy=None):
            pass


async def test_public_hashtag_and_local_streams_get_new_public_posts(node, make_user):
    ana, bea = await make_user("ana"), await make_user("bea")
    async with _socket(node.url, ana.token) as ws:
        await _subscribe(ws, "public")
        await _subscribe(ws, "hashtag", tag="Cats")
        await _subscribe(ws, "public:local")
        await _post(bea, "not for strangers", visibility="unlisted")
        post = await _post(bea, "look at my #cats")
        seen = [await _next(ws) for _ in range(3)]
        assert sorted(tuple(m["stream"]) for m in seen) == [
            ("hashtag", "Cats"),
            ("public",),
            ("public:local",),
        ]
        for message in seen:
            assert message["event"] == "update"
            assert json.loads(message["payload"])["id"] == post["id"]
        await _nothing_more(ws)
        await ws.send(json.dumps({"type": "unsubscribe", "stream": "public"}))
        await ws.send(json.dumps({"type": "unsubscribe", "stream": "public:local"}))
        await _barrier(ws)
        deleted = await bea.client.delete(f"/api/v1/statuses/{post['id']}")
        assert deleted.status_code == 200
        gone = await _next(ws)
        assert gone == {"stream": ["hashtag", "Cats"], "event": "delete", "payload": post["id"]}
        await _nothing_more(ws)


async def test_blocked_and_muted_authors_are_filtered_out_per_viewer(node, make_user):
    ana, bea, cem = await make_user("ana"), await make_user("bea"), await make_user("cem")
    dan = await make_user("dan")
    await ana.post(f"/api/v1/accounts/{bea.account_id}/block")
    await ana.post(f"/api/v1/accounts/{dan.account_id}/mute")
    async with (
        _socket(node.url, ana.token, stream="public") as ana_ws,
        _socket(node.url, cem.token, stream="public") as cem_ws,
    ):
        await _barrier(ana_ws)
        await _barrier(cem_ws)
        await _post(bea, "from bea")
        await _post(dan, "from dan")
        await _post(cem, "from cem")
        to_cem = [json.loads((await _next(cem_ws))["payload"]) for _ in range(3)]
        assert sorted(p["account"]["username"] for p in to_cem) == ["bea", "cem", "dan"]
        to_ana = json.loads((await _next(ana_ws))["payload"])
        assert to_ana["account"]["username"] == "cem"
        await _nothing_more(ana_ws)
        # A block made while connected applies at once.
        await ana.post(f"/api/v1/accounts/{cem.account_id}/block")
        await asyncio.sleep(0.5)
        await _post(cem, "after the block")
        await _next(cem_ws)
        await _nothing_more(ana_ws)


async def test_subscribing_twice_delivers_once_and_a_reconnect_starts_fresh(node, make_user):
    ana, bea = await make_user("ana"), await make_user("bea")
    photo = await _post(ana, "once")
    async with _socket(node.url, ana.token) as ws:
        await _subscribe(ws, "user")
        await _subscribe(ws, "user")
        await _subscribe(ws, "user:notification")
        await bea.post(f"/api/v1/statuses/{photo['id']}/favourite")
        assert (await _next(ws))["event"] == "notification"
        await _nothing_more(ws)
    await bea.post(f"/api/v1/accounts/{ana.account_id}/follow")
    await asyncio.sleep(0.5)  # happens while ana is away
    async with _socket(node.url, ana.token, stream="user") as ws:
        await _barrier(ws)
        await _nothing_more(ws)  # nothing replayed
        other = await make_user("cem")
        await other.post(f"/api/v1/statuses/{photo['id']}/favourite")
        payload = json.loads((await _next(ws))["payload"])
        assert payload["account"]["username"] == "cem"


async def test_server_sent_events(node, make_user):
    ana, bea = await make_user("ana"), await make_user("bea")
    photo = await _post(ana, "sse")
    health = await ana.get("/api/v1/streaming/health")
    assert health.status_code == 200 and health.text == "OK"
    assert (
        await ana.get("/api/v1/streaming/public", headers={"Authorization": ""})
    ).status_code == 401
    async with (
        httpx.AsyncClient(base_url=node.url, timeout=30) as client,
        client.stream(
            "GET", "/api/v1/streaming/user/notification", params={"access_token": ana.token}
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.aiter_lines()
        assert await anext(lines) == ":)"
        await bea.post(f"/api/v1/statuses/{photo['id']}/favourite")
        event = await asyncio.wait_for(anext(lines), 10)
        data = await asyncio.wait_for(anext(lines), 10)
        assert event == "event: notification"
        assert json.loads(data.removeprefix("data: "))["type"] == "favourite"
        assert await _listeners(f"timeline:{ana.account_id}") == 1
    # The stream ended: the node's hub let go of the channel.
    await wait_until(lambda: _no_listeners(f"timeline:{ana.account_id}"))


async def _listeners(channel: str) -> int:
    """Subscribers of a channel in Redis (each web process's hub counts once)."""
    [(_, count)] = await redis().pubsub_numsub(key(channel))
    return count


async def _no_listeners(channel: str) -> bool:
    return await _listeners(channel) == 0


async def test_a_closed_socket_releases_its_channels(node, make_user):
    ana = await make_user("ana")
    async with _socket(node.url, ana.token, stream="user") as ws:
        await _subscribe(ws, "hashtag", tag="dogs")
        assert await _listeners(f"timeline:{ana.account_id}") == 1
        assert await _listeners("timeline:hashtag:dogs") == 1
    await wait_until(lambda: _no_listeners("timeline:hashtag:dogs"))
    await wait_until(lambda: _no_listeners(f"timeline:{ana.account_id}"))


async def test_a_client_on_another_web_process_gets_the_event(node, services, make_user):
    """Two processes on one database and Redis: the like goes through one, the stream is
    served by the other."""
    second = NodeProcess.configure(
        database_url=node.env["PINHOLE_DATABASE_URL"],
        redis_url=node.env["PINHOLE_REDIS_URL"],
        extra_env={
            "PINHOLE_REDIS_PREFIX": node.env["PINHOLE_REDIS_PREFIX"],
            "PINHOLE_QUEUE_NAME": node.env["PINHOLE_QUEUE_NAME"],
            "PINHOLE_SECRET_KEY": node.env["PINHOLE_SECRET_KEY"],
            "PINHOLE_DOMAIN": node.domain,
        },
    )
    second.start()
    try:
        ana, bea = await make_user("ana"), await make_user("bea")
        photo = await _post(ana, "across processes")
        async with _socket(second.url, ana.token, stream="user") as ws:
            await _barrier(ws)
            await bea.post(f"/api/v1/statuses/{photo['id']}/favourite")
            payload = json.loads((await _next(ws))["payload"])
            assert payload["type"] == "favourite"
            await _nothing_more(ws)
        vapid_here = (await ana.get("/api/v2/instance")).json()["configuration"]["vapid"]
        async with httpx.AsyncClient(base_url=second.url) as there:
            vapid_there = (await there.get("/api/v2/instance")).json()["configuration"]["vapid"]
        assert vapid_here == vapid_there
    finally:
        second.stop()


async def test_a_followed_accounts_new_post_arrives_on_the_user_stream(node, make_user):
    ana, bea = await make_user("ana"), await make_user("bea")
    await bea.post(f"/api/v1/accounts/{ana.account_id}/follow")
    await (await bea.get("/api/v1/timelines/home")).aread()  # bea is an active reader
    async with _socket(node.url, bea.token, stream="user") as ws:
        await _barrier(ws)
        posted = await _post(ana, "fresh from the lab", visibility="private")
        message = await _next(ws)
        assert message["event"] == "update" and message["stream"] == ["user"]
        payload = json.loads(message["payload"])
        assert payload["id"] == posted["id"]
        assert payload["visibility"] == "private"
        assert payload["account"]["username"] == "ana"
        await _nothing_more(ws)
