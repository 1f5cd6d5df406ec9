"""Steps of federation flows that tests share: waiting for the worker, resolving and following
remote actors the way a client does."""

from __future__ import annotations

from itertools import count

from node import db
from tests.federation.peers import FakePeer, PeerActor
from tests.rig import wait_until

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
