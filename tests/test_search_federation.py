"""Search across servers: with resolve=true, `user@host` and profile or post URLs of a second
real pinhole node (127.0.0.2) are looked up over WebFinger and signed fetches, and the account
found can be followed from the search result."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.rig import NodeProcess, Services, sign_up, wait_until


@pytest.fixture(scope="module")
async def other_node(services: Services) -> AsyncIterator[NodeProcess]:
    database_url = await services.create_database("pinhole_search_remote")
    node = NodeProcess.configure(
        database_url=database_url, redis_url=services.redis_url, host="127.0.0.2"
    )
    node.start()
    yield node
    node.stop()


@pytest.fixture(scope="module")
async def zoe(other_node: NodeProcess) -> AsyncIterator[httpx.AsyncClient]:
    """A user of the other node, with a display name and one public post."""
    async with httpx.AsyncClient(base_url=other_node.url, timeout=30) as anonymous:
        token = (await sign_up(anonymous, "zoe"))["access_token"]
    async with httpx.AsyncClient(
        base_url=other_node.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        await client.patch("/api/v1/accounts/update_credentials", data={"display_name": "Zoë"})
        yield client


async def test_resolving_a_user_on_another_node_returns_a_followable_account(
    node, make_user, http, other_node, zoe
):
    bob = await make_user("bob")
    handle = f"zoe@{other_node.domain}"

    # Not known here yet, and no lookup without resolve.
    unresolved = (await bob.get("/api/v2/search", params={"q": handle})).json()
    assert unresolved["accounts"] == []

    found = await bob.get("/api/v2/search", params={"q": f"@{handle}", "resolve": "true"})
    assert found.status_code == 200, found.text
    accounts = found.json()["accounts"]
    assert [(a["acct"], a["display_name"]) for a in accounts] == [(handle, "Zoë")]
    remote_id = accounts[0]["id"]
    # The same account for the v1 account search, and for a plain search now that it is known.
    v1 = await bob.get("/api/v1/accounts/search", params={"q": handle, "resolve": "true"})
    assert [a["id"] for a in v1.json()] == [remote_id]
    assert [
        a["id"] for a in (await bob.get("/api/v2/search", params={"q": handle})).json()["accounts"]
    ] == [remote_id]

    followed = await bob.post(f"/api/v1/accounts/{remote_id}/follow")
    assert followed.status_code == 200, followed.text

    async def following() -> bool:
        response = await bob.get("/api/v1/accounts/relationships", params={"id[]": remote_id})
        return response.json()[0]["following"]

    assert await wait_until(following, timeout=20)
    me = (await zoe.get("/api/v1/accounts/verify_credentials")).json()
    assert me["followers_count"] == 1


async def test_resolving_profile_and_post_urls_of_another_node(node, make_user, other_node, zoe):
    bob = await make_user("bob")
    post = (await zoe.post("/api/v1/statuses", json={"status": "Harbour lights"})).json()
    profile_url = f"{other_node.url}/@zoe"

    # A URL is only fetched for a signed-in searcher who asks for it.
    assert (await bob.get("/api/v2/search", params={"q": profile_url})).json()["accounts"] == []
    by_profile = await bob.get("/api/v2/search", params={"q": profile_url, "resolve": "true"})
    assert [a["acct"] for a in by_profile.json()["accounts"]] == [f"zoe@{other_node.domain}"]

    by_post = await bob.get("/api/v2/search", params={"q": post["uri"], "resolve": "true"})
    statuses = by_post.json()["statuses"]
    assert [s["uri"] for s in statuses] == [post["uri"]]
    assert statuses[0]["account"]["acct"] == f"zoe@{other_node.domain}"
    assert "Harbour lights" in statuses[0]["content"]

    # Nothing there: no results, no error.
    missing = await bob.get(
        "/api/v2/search", params={"q": f"nobody@{other_node.domain}", "resolve": "true"}
    )
    assert missing.status_code == 200 and missing.json()["accounts"] == []
