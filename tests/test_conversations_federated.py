"""Two real nodes: a direct message to three people, one of them on the other node, reaches each
of them live on their `direct` stream, and so does the remote reply; remote likes and follows
notify like local ones."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from websockets.asyncio.client import connect

from tests.federation.flows import Member, find, join
from tests.rig import NodeProcess, Services, wait_until

pytestmark = pytest.mark.federation


@pytest.fixture(scope="module")
async def nodes(services: Services) -> AsyncIterator[dict[str, NodeProcess]]:
    started = {}
    for name, host in (("a", "127.0.0.5"), ("b", "127.0.0.6")):
        database_url = await services.create_database(f"pinhole_dm_{name}")
        started[name] = NodeProcess.configure(
            database_url=database_url,
            redis_url=services.redis_url,
            host=host,
            extra_env={"PINHOLE_DELIVERY_RETRY_DELAYS": "1,1,2,2,3"},
        )
    try:
        await asyncio.gather(*(asyncio.to_thread(n.start) for n in started.values()))
        yield started
    finally:
        for node in started.values():
            node.stop()


@asynccontextmanager
async def _direct_stream(member: Member):
    url = member.node.url.replace("http://", "ws://") + "/api/v1/streaming?stream=direct"
    headers = {"Authorization": member.client.headers["Authorization"]}
    async with connect(url, additional_headers=headers, proxy=None) as ws:
        await ws.send(json.dumps({"type": "test.barrier"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["status"] == 400
        yield ws


async def _conversation(ws) -> dict:
    """The next conversation event (requests included) on a direct stream."""
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), 20))
        if event["event"] in ("conversation", "pinhole.conversation_request"):
            return json.loads(event["payload"])


async def test_a_message_to_three_people_on_two_nodes_reaches_each(nodes) -> None:
    ana = await join(nodes["a"], "ana")
    bea = await join(nodes["a"], "bea")
    cem = await join(nodes["b"], "cem")
    await find(ana, cem)  # as a client does before writing @cem@host
    for member in (ana, bea, cem):
        await member.client.patch(
            "/api/v1/conversations/settings", data={"message_requests": "false"}
        )
    async with (
        _direct_stream(ana) as ana_ws,
        _direct_stream(bea) as bea_ws,
        _direct_stream(cem) as cem_ws,
    ):
        hello = await ana.post(
            "/api/v1/statuses",
            data={"status": f"@bea @{cem.acct} dinner tonight?", "visibility": "direct"},
        )
        assert hello.status_code == 200, hello.text
        hello = hello.json()
        for ws in (ana_ws, bea_ws, cem_ws):
            got = await _conversation(ws)
            assert got["last_status"]["uri"] == hello["uri"]
        on_b = got  # cem's copy: the other two people, as cem's node knows them
        assert sorted(a["acct"] for a in on_b["accounts"]) == sorted([ana.acct, bea.acct])
        reply = await cem.post(
            "/api/v1/statuses",
            data={
                "status": f"@{ana.acct} @{bea.acct} yes!",
                "visibility": "direct",
                "in_reply_to_id": on_b["last_status"]["id"],
            },
        )
        assert reply.status_code == 200, reply.text
        reply = reply.json()
        assert sorted(m["acct"] for m in reply["mentions"]) == sorted([ana.acct, bea.acct])
        for ws, member in ((ana_ws, ana), (bea_ws, bea)):
            got = await _conversation(ws)
            assert got["last_status"]["uri"] == reply["uri"]
            assert "yes!" in got["last_status"]["content"]
            others = sorted(a["username"] for a in got["accounts"])
            assert others == sorted(m.username for m in (ana, bea, cem) if m is not member)
    [ana_conversation] = (await ana.get("/api/v1/conversations")).json()
    assert ana_conversation["unread"] is True
    assert ana_conversation["last_status"]["uri"] == reply["uri"]


async def test_a_remote_like_and_follow_notify_and_stream_like_local_ones(nodes) -> None:
    """Shares the two-node rig: notifications come from the same domain events whoever acts."""
    dee = await join(nodes["a"], "dee")
    eli = await join(nodes["b"], "eli")
    photo = await dee.post("/api/v1/statuses", data={"status": "a photo for the fediverse"})
    assert photo.status_code == 200, photo.text
    found = await eli.get("/api/v1/federation/resolve", params={"q": photo.json()["uri"]})
    assert found.status_code == 200, found.text
    [copy] = found.json()["statuses"]
    url = dee.node.url.replace("http://", "ws://") + "/api/v1/streaming?stream=user"
    headers = {"Authorization": dee.client.headers["Authorization"]}
    async with connect(url, additional_headers=headers, proxy=None) as ws:
        await ws.send(json.dumps({"type": "test.barrier"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["status"] == 400
        assert (await eli.post(f"/api/v1/statuses/{copy['id']}/favourite")).status_code == 200
        event = json.loads(await asyncio.wait_for(ws.recv(), 20))
    assert event["event"] == "notification"
    liked = json.loads(event["payload"])
    assert liked["type"] == "favourite" and liked["account"]["acct"] == eli.acct
    assert liked["status"]["id"] == photo.json()["id"]
    dee_there = await find(eli, dee)
    assert (await eli.post(f"/api/v1/accounts/{dee_there}/follow")).status_code == 200

    async def followed():
        found = (await dee.get("/api/v1/notifications", params={"types[]": "follow"})).json()
        return found or None

    [follow] = await wait_until(followed, 20)
    assert follow["account"]["acct"] == eli.acct
