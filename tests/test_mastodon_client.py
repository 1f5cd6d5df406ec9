"""A real client library (Mastodon.py) drives the node the way third-party apps do."""

import asyncio

from mastodon import Mastodon


def _client_for(node_url: str, username: str, email: str, password: str) -> Mastodon:
    client_id, client_secret = Mastodon.create_app(
        "pinhole tests", api_base_url=node_url, scopes=["read", "write", "follow", "push"]
    )
    registrar = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node_url)
    registrar.create_account(
        username, password, email, agreement=True, scopes=["read", "write", "follow", "push"]
    )
    client = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node_url)
    client.log_in(username=email, password=password, scopes=["read", "write", "follow", "push"])
    return client


def _locked_follow_flow(node_url: str) -> None:
    alice = _client_for(node_url, "alice", "alice@example.com", "correct horse battery")
    bob = _client_for(node_url, "bob", "bob@example.com", "correct horse battery")
    assert alice.account_verify_credentials()["username"] == "alice"
    bob.account_update_credentials(locked=True, display_name="Bob")
    instance = alice.instance()
    assert instance["version"].startswith("4.")

    bob_account = alice.account_lookup("bob")
    relationship = alice.account_follow(bob_account["id"])
    assert relationship["requested"] and not relationship["following"]

    requests = bob.follow_requests()
    assert [a["acct"] for a in requests] == ["alice"]
    bob.follow_request_authorize(requests[0]["id"])

    assert alice.account_relationships(bob_account["id"])[0]["following"]
    followers = bob.account_followers(bob_account["id"])
    assert [a["acct"] for a in followers] == ["alice"]
    assert bob.account_verify_credentials()["followers_count"] == 1


async def test_mastodon_py_registers_signs_in_and_authorizes_a_follow_request(node):
    await asyncio.to_thread(_locked_follow_flow, node.url)
