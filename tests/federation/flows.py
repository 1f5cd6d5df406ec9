"""Steps of federation flows that tests share: waiting for the worker, resolving and following
remote actors the way a client does."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from typing import Any

import asyncpg
import httpx

from node import db
from tests.federation.peers import FakePeer, PeerActor
from tests.rig import NodeProcess, sign_up, wait_until

_ids = count(1)


async def processed(activity_id: str, wait: float = 10.0) -> dict:
    """The inbox row of an activity once the worker handled it (state no longer queued)."""

    async def check():
        row = await db.fetchrow(
            "SELECT * FROM inbox_activities WHERE activity_id = $1 AND state <> 'queued'",
            activity_id,
        )
        return dict(row) if row else None

    return await wait_until(check, wait)


async def resolve(user, acct: str) -> dict:
    response = await user.get("/api/v1/federation/resolve", params={"q": acct})
    assert response.status_code == 200, response.text
    return response.json()["accounts"][0]


async def follow_remote(user, actor: PeerActor, peer: FakePeer) -> str:
    """`user` follows the remote actor; the actor's server accepts. The remote account id."""
    account = await resolve(user, actor.acct)
    response = await user.post(f"/api/v1/accounts/{account['id']}/follow")
    assert response.status_code == 200, response.text
    assert response.json()["requested"] is True

    async def follow_arrived():
        return next(
            (
                d
                for d in reversed(peer.deliveries("Follow"))
                if d["actor"].endswith(f"/users/{user.username}") and d["object"] == actor.uri
            ),
            None,
        )

    follow = await wait_until(follow_arrived)
    accept = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor.uri}#accepts/{next(_ids)}",
        "type": "Accept",
        "actor": actor.uri,
        "object": follow,
    }
    node_url = str(user.client.base_url).rstrip("/")
    response = await actor.deliver(f"{node_url}/inbox", accept)
    assert response.status_code == 202, response.text

    async def following():
        rel = await user.get("/api/v1/accounts/relationships", params={"id[]": account["id"]})
        return rel.json()[0]["following"]

    await wait_until(following)
    return account["id"]


# --- several real nodes -----------------------------------------------------------------------


@dataclass
class Member:
    """A user of one node, with an API client signed in as them."""

    node: NodeProcess
    username: str
    account_id: str
    client: httpx.AsyncClient

    @property
    def acct(self) -> str:
        return f"{self.username}@{self.node.domain}"

    @property
    def uri(self) -> str:
        return f"{self.node.url}/users/{self.username}"

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.post(path, **kwargs)


async def join(node: NodeProcess, username: str, *, locked: bool = False) -> Member:
    """Sign up on a node the way an app does, and sign in."""
    async with httpx.AsyncClient(base_url=node.url, timeout=30) as anonymous:
        signed_up = await sign_up(
            anonymous, username, scopes="read write follow push admin:read admin:write"
        )
    client = httpx.AsyncClient(
        base_url=node.url,
        timeout=30,
        headers={"Authorization": f"Bearer {signed_up['access_token']}"},
    )
    me = (await client.get("/api/v1/accounts/verify_credentials")).json()
    if locked:
        await client.patch("/api/v1/accounts/update_credentials", data={"locked": "true"})
    return Member(node, username, me["id"], client)


async def find(member: Member, other: Member) -> str:
    """The id, on member's node, of another node's user (found by WebFinger)."""
    response = await member.get("/api/v1/federation/resolve", params={"q": other.acct})
    assert response.status_code == 200, response.text
    return response.json()["accounts"][0]["id"]


async def relationship(member: Member, account_id: str) -> dict[str, Any]:
    response = await member.get("/api/v1/accounts/relationships", params={"id[]": account_id})
    return response.json()[0]


async def follow_across(follower: Member, target: Member) -> str:
    """follower follows target on another node and waits until the follow is in place."""
    target_id = await find(follower, target)
    response = await follower.post(f"/api/v1/accounts/{target_id}/follow")
    assert response.status_code == 200, response.text

    async def following():
        return (await relationship(follower, target_id))["following"]

    await wait_until(following, 15)
    return target_id


async def local_id(pool: asyncpg.Pool, uri: str, wait: float = 15.0) -> int:
    """The id of the post with this uri in a node's database, once it arrived there."""

    async def arrived():
        return await pool.fetchval(
            "SELECT id FROM posts WHERE uri = $1 AND deleted_at IS NULL", uri
        )

    return await wait_until(arrived, wait)
