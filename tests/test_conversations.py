"""Direct messages: conversations per participant, in real time over the streaming WebSocket
(each message once, in order), several recipients, message requests, typing indicators and
read receipts, and no messages across a block."""

import asyncio
import json
from contextlib import asynccontextmanager

import pytest
from websockets.asyncio.client import connect

from tests.rig import wait_until

QUIET_SECONDS = 0.8


async def _barrier(ws) -> None:
    """Wait until the server has handled everything sent so far: it answers an unknown message
    with an error, after the messages (and the subscription in the URL) before it."""
    await ws.send(json.dumps({"type": "test.barrier"}))
    reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert reply["status"] == 400, reply


@asynccontextmanager
async def _direct_stream(node, user):
    url = node.url.replace("http://", "ws://") + "/api/v1/streaming?stream=direct"
    headers = {"Authorization": f"Bearer {user.token}"}
    async with connect(url, additional_headers=headers, proxy=None) as ws:
        await _barrier(ws)
        yield ws


async def _next(ws) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


async def _nothing_more(ws) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.recv(), QUIET_SECONDS)


async def _dm(user, text: str, **extra) -> dict:
    response = await user.post(
        "/api/v1/statuses", data={"status": text, "visibility": "direct", **extra}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _follow_each_other(*users) -> None:
    for a in users:
        for b in users:
            if a is not b:
                await a.post(f"/api/v1/accounts/{b.account_id}/follow")


async def _conversations(user, **params) -> list[dict]:
    response = await user.get("/api/v1/conversations", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_two_people_chat_and_each_message_arrives_once_in_order(node, make_user):
    ana, bea = await make_user("ana"), await make_user("bea")
    await _follow_each_other(ana, bea)
    async with _direct_stream(node, ana) as ana_ws, _direct_stream(node, bea) as bea_ws:
        sent = []
        last = None
        for i in range(8):
            author, other = (ana, "bea") if i % 2 == 0 else (bea, "ana")
            extra = {"in_reply_to_id": last} if last else {}
            message = await _dm(author, f"@{other} message {i}", **extra)
            sent.append(message["id"])
            last = message["id"]
        for ws in (ana_ws, bea_ws):
            received = []
            for _ in sent:
                event = await _next(ws)
                assert event["event"] == "conversation" and event["stream"] == ["direct"]
                received.append(json.loads(event["payload"])["last_status"]["id"])
            assert received == sent
            await _nothing_more(ws)
    [conversation] = await _conversations(bea)
    assert conversation["last_status"]["id"] == sent[-1]
    assert [a["username"] for a in conversation["accounts"]] == ["ana"]
    assert conversation["unread"] is False  # bea wrote the last message
    thread = (await ana.get(f"/api/v1/statuses/{sent[-1]}/context")).json()
    assert [s["id"] for s in thread["ancestors"]] == sent[:-1]


async def test_a_message_to_three_people_reaches_each_of_them(node, make_user):
    ana, bea, cem = await make_user("ana"), await make_user("bea"), await make_user("cem")
    await _follow_each_other(ana, bea, cem)
    async with (
        _direct_stream(node, ana) as ana_ws,
        _direct_stream(node, bea) as bea_ws,
        _direct_stream(node, cem) as cem_ws,
    ):
        hello = await _dm(ana, "@bea @cem dinner tonight?")
        for ws, others in (
            (ana_ws, ["bea", "cem"]),
            (bea_ws, ["ana", "cem"]),
            (cem_ws, ["ana", "bea"]),
        ):
            payload = json.loads((await _next(ws))["payload"])
            assert payload["last_status"]["id"] == hello["id"]
            assert sorted(a["username"] for a in payload["accounts"]) == others
        reply = await _dm(cem, "@ana @bea yes!", in_reply_to_id=hello["id"])
        for ws in (ana_ws, bea_ws, cem_ws):
            assert json.loads((await _next(ws))["payload"])["last_status"]["id"] == reply["id"]
    for user in (ana, bea):
        [conversation] = await _conversations(user)
        assert conversation["unread"] is True
        assert conversation["last_status"]["id"] == reply["id"]
    # Another thread with the same people continues the same conversation.
    again = await _dm(bea, "@ana @cem and tomorrow?")

    async def moved_on():
        found = await _conversations(ana)
        return found if found and found[0]["last_status"]["id"] == again["id"] else None

    assert len(await wait_until(moved_on)) == 1


async def test_read_delete_and_pagination(node, make_user):
    ana, bea, cem = await make_user("ana"), await make_user("bea"), await make_user("cem")
    await _follow_each_other(ana, bea, cem)
    first = await _dm(bea, "@ana hi")
    second = await _dm(cem, "@ana hello")

    async def both():
        found = await _conversations(ana)
        return found if len(found) == 2 else None

    found = await wait_until(both)
    assert [c["last_status"]["id"] for c in found] == [second["id"], first["id"]]
    assert all(c["unread"] for c in found)
    page = await ana.get("/api/v1/conversations", params={"limit": 1})
    assert len(page.json()) == 1 and 'rel="next"' in page.headers["link"]
    older = await _conversations(ana, max_id=second["id"])
    assert [c["last_status"]["id"] for c in older] == [first["id"]]
    read = await ana.post(f"/api/v1/conversations/{found[0]['id']}/read")
    assert read.status_code == 200 and read.json()["unread"] is False
    assert (await bea.post(f"/api/v1/conversations/{found[0]['id']}/read")).status_code == 404
    removed = await ana.client.delete(f"/api/v1/conversations/{found[1]['id']}")
    assert removed.status_code == 200
    assert [c["id"] for c in await _conversations(ana)] == [found[0]["id"]]
    # A new message brings the removed conversation back.
    later = await _dm(bea, "@ana still there?")

    async def back():
        ids = [c["last_status"]["id"] for c in await _conversations(ana)]
        return later["id"] in ids

    await wait_until(back)


async def test_deleting_a_message_updates_the_conversation(node, make_user):
    ana, bea = await make_user("ana"), await make_user("bea")
    await _follow_each_other(ana, bea)
    first = await _dm(bea, "@ana one")

    async def recorded():
        return await _conversations(ana)

    await wait_until(recorded)
    async with _direct_stream(node, ana) as ws:
        second = await _dm(bea, "@ana two")
        assert json.loads((await _next(ws))["payload"])["last_status"]["id"] == second["id"]
        await bea.client.delete(f"/api/v1/statuses/{second['id']}")
        deleted = await _next(ws)
        assert deleted["event"] == "delete" and deleted["payload"] == second["id"]
        updated = json.loads((await _next(ws))["payload"])
        assert updated["last_status"]["id"] == first["id"]


async def test_a_stranger_lands_in_message_requests_until_accepted(node, make_user):
    ana, dan = await make_user("ana"), await make_user("dan")
    async with _direct_stream(node, ana) as ws:
        hello = await _dm(dan, "@ana hi, we met yesterday")
        event = await _next(ws)
        assert event["event"] == "pinhole.conversation_request"
        assert json.loads(event["payload"])["request"] is True
    await asyncio.sleep(QUIET_SECONDS)
    assert await _conversations(ana) == []
    [request] = await _conversations(ana, requests="true")
    assert request["last_status"]["id"] == hello["id"] and request["request"] is True
    assert (await ana.get("/api/v1/notifications")).json() == []  # no mention while waiting
    # The stranger sees no read receipt while the request waits.
    async with _direct_stream(node, dan) as dan_ws:
        await ana.post(f"/api/v1/conversations/{request['id']}/read")
        await _nothing_more(dan_ws)
    accepted = await ana.post(f"/api/v1/conversations/{request['id']}/accept")
    assert accepted.status_code == 200 and accepted.json()["request"] is False
    assert [c["id"] for c in await _conversations(ana)] == [request["id"]]
    assert await _conversations(ana, requests="true") == []
    more = await _dm(dan, "@ana great!")

    async def mentioned():
        found = (await ana.get("/api/v1/notifications")).json()
        return found if found and found[0]["status"]["id"] == more["id"] else None

    await wait_until(mentioned)


async def test_message_requests_can_be_turned_off(node, make_user):
    ana, dan = await make_user("ana"), await make_user("dan")
    settings = await ana.get("/api/v1/conversations/settings")
    assert settings.json() == {"message_requests": True}
    changed = await ana.client.patch(
        "/api/v1/conversations/settings", data={"message_requests": "false"}
    )
    assert changed.json() == {"message_requests": False}
    hello = await _dm(dan, "@ana hi")

    async def arrived():
        found = await _conversations(ana)
        return found if found else None

    [conversation] = await wait_until(arrived)
    assert conversation["last_status"]["id"] == hello["id"] and conversation["request"] is False


async def test_blocked_people_cannot_message_each_other(make_user):
    ana, bea, cem = await make_user("ana"), await make_user("bea"), await make_user("cem")
    await ana.post(f"/api/v1/accounts/{bea.account_id}/block")
    refused = await bea.post(
        "/api/v1/statuses", data={"status": "@ana hey", "visibility": "direct"}
    )
    assert refused.status_code == 403
    assert "ana" in refused.json()["error"]
    also = await ana.post("/api/v1/statuses", data={"status": "@bea hey", "visibility": "direct"})
    assert also.status_code == 403
    group = await bea.post(
        "/api/v1/statuses", data={"status": "@cem @ana hey", "visibility": "direct"}
    )
    assert group.status_code == 403
    assert (
        await cem.post("/api/v1/statuses", data={"status": "@ana hi", "visibility": "direct"})
    ).status_code == 200


async def test_typing_indicators_and_read_receipts(node, make_user):
    ana, bea = await make_user("ana"), await make_user("bea")
    await _follow_each_other(ana, bea)
    async with _direct_stream(node, ana) as ana_ws, _direct_stream(node, bea) as bea_ws:
        hello = await _dm(ana, "@bea hi")
        ana_conversation = json.loads((await _next(ana_ws))["payload"])["id"]
        bea_conversation = json.loads((await _next(bea_ws))["payload"])["id"]
        await ana_ws.send(
            json.dumps({"type": "pinhole.typing", "conversation_id": ana_conversation})
        )
        typing = await _next(bea_ws)
        assert typing["event"] == "pinhole.typing" and typing["stream"] == ["direct"]
        assert json.loads(typing["payload"]) == {
            "conversation_id": bea_conversation,
            "account_id": ana.account_id,
        }
        await ana_ws.send(
            json.dumps({"type": "pinhole.typing", "conversation_id": ana_conversation})
        )
        await _nothing_more(bea_ws)  # at most one indicator a second
        read = await bea.post(f"/api/v1/conversations/{bea_conversation}/read")
        assert read.status_code == 200
        receipt = await _next(ana_ws)
        assert receipt["event"] == "pinhole.read"
        assert json.loads(receipt["payload"]) == {
            "conversation_id": ana_conversation,
            "account_id": bea.account_id,
            "last_read_id": hello["id"],
        }
        await bea_ws.send(json.dumps({"type": "pinhole.read", "conversation_id": bea_conversation}))
        assert (await _next(ana_ws))["event"] == "pinhole.read"
        await bea_ws.send(json.dumps({"type": "pinhole.typing", "conversation_id": "1"}))
        assert (await _next(bea_ws))["status"] == 404
