"""Discovery and actor documents: what another server sees when it looks us up."""

from __future__ import annotations

import httpx

from tests.rig import NodeProcess

AP = {"Accept": "application/activity+json"}
LD = {"Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def test_webfinger_finds_an_account_by_acct_and_by_actor_url(
    node: NodeProcess, http: httpx.AsyncClient, make_user
) -> None:
    await make_user("wendy")
    by_acct = await http.get(
        "/.well-known/webfinger", params={"resource": f"acct:wendy@{node.domain}"}
    )
    assert by_acct.status_code == 200
    assert by_acct.headers["content-type"].startswith("application/jrd+json")
    document = by_acct.json()
    actor_uri = f"{node.url}/users/wendy"
    assert document["subject"] == f"acct:wendy@{node.domain}"
    assert {
        "rel": "self",
        "type": "application/activity+json",
        "href": actor_uri,
    } in document["links"]
    # Mastodon looks up preferredUsername@host again and needs the same answer.
    by_url = await http.get("/.well-known/webfinger", params={"resource": actor_uri})
    assert by_url.json()["subject"] == document["subject"]
    upper = await http.get(
        "/.well-known/webfinger", params={"resource": f"acct:WENDY@{node.domain}"}
    )
    assert upper.status_code == 200
    other_host = await http.get(
        "/.well-known/webfinger", params={"resource": "acct:wendy@elsewhere.example"}
    )
    assert other_host.status_code == 404
    missing = await http.get("/.well-known/webfinger")
    assert missing.status_code == 400


async def test_host_meta_and_nodeinfo(
    node: NodeProcess, http: httpx.AsyncClient, make_user
) -> None:
    await make_user()
    host_meta = await http.get("/.well-known/host-meta")
    assert host_meta.status_code == 200
    assert f"{node.url}/.well-known/webfinger?resource={{uri}}" in host_meta.text
    index = (await http.get("/.well-known/nodeinfo")).json()
    hrefs = {link["rel"].rsplit("/", 1)[-1]: link["href"] for link in index["links"]}
    assert set(hrefs) == {"2.0", "2.1"}
    for version, href in hrefs.items():
        document = (await http.get(href)).json()
        assert document["version"] == version
        assert document["software"]["name"] == "pinhole"
        assert document["protocols"] == ["activitypub"]
        assert document["usage"]["users"]["total"] == 1
        assert isinstance(document["openRegistrations"], bool)


async def test_actor_document_has_what_peers_need(
    node: NodeProcess, http: httpx.AsyncClient, make_user
) -> None:
    user = await make_user("petra", locked=True)
    await user.client.patch(
        "/api/v1/accounts/update_credentials", data={"display_name": "Petra P", "note": "Hi"}
    )
    for accept in (AP, LD):
        response = await http.get("/users/petra", headers=accept)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/activity+json")
        actor = response.json()
        uri = f"{node.url}/users/petra"
        assert actor["id"] == uri and actor["type"] == "Person"
        assert actor["preferredUsername"] == "petra" and actor["name"] == "Petra P"
        assert actor["inbox"] == f"{uri}/inbox" and actor["outbox"] == f"{uri}/outbox"
        assert actor["followers"] == f"{uri}/followers"
        assert actor["following"] == f"{uri}/following"
        assert actor["endpoints"]["sharedInbox"] == f"{node.url}/inbox"
        assert actor["manuallyApprovesFollowers"] is True
        assert actor["discoverable"] is True
        assert actor["publicKey"]["owner"] == uri
        assert actor["publicKey"]["id"] == f"{uri}#main-key"
        assert "BEGIN PUBLIC KEY" in actor["publicKey"]["publicKeyPem"]
        assert actor["icon"]["url"] and actor["image"]["url"]
        assert actor["url"] == f"{node.url}/@petra"


async def test_browsers_are_sent_to_the_profile_and_post_pages(
    http: httpx.AsyncClient, make_user
) -> None:
    user = await make_user("bea")
    post = (await user.post("/api/v1/statuses", data={"status": "hello"})).json()
    profile = await http.get("/users/bea", headers=BROWSER)
    assert profile.status_code == 302 and profile.headers["location"].endswith("/@bea")
    page = await http.get(f"/users/bea/statuses/{post['id']}", headers=BROWSER)
    assert page.status_code == 302
    assert page.headers["location"].endswith(f"/@bea/{post['id']}")
    assert (await http.get("/users/nobody", headers=AP)).status_code == 404


async def test_instance_actor_is_an_application_served_unsigned(
    node: NodeProcess, http: httpx.AsyncClient
) -> None:
    actor = (await http.get("/actor", headers=AP)).json()
    assert actor["type"] == "Application"
    assert actor["id"] == f"{node.url}/actor"
    assert actor["publicKey"]["owner"] == actor["id"]
    finger = await http.get(
        "/.well-known/webfinger", params={"resource": f"acct:{node.domain}@{node.domain}"}
    )
    assert finger.json()["links"][1]["href"] == actor["id"]


async def test_each_post_dereferences_as_a_note(
    node: NodeProcess, http: httpx.AsyncClient, make_user
) -> None:
    user = await make_user("nora")
    other = await make_user("omar")
    parent = (await other.post("/api/v1/statuses", data={"status": "first"})).json()
    post = (
        await user.post(
            "/api/v1/statuses",
            data={
                "status": "Hello @omar #sunset",
                "in_reply_to_id": parent["id"],
                "spoiler_text": "warm",
                "language": "en",
            },
        )
    ).json()
    response = await http.get(f"/users/nora/statuses/{post['id']}", headers=AP)
    assert response.status_code == 200, response.text
    note = response.json()
    assert note["id"] == post["uri"] == f"{node.url}/users/nora/statuses/{post['id']}"
    assert note["type"] == "Note" and note["attributedTo"] == f"{node.url}/users/nora"
    assert note["inReplyTo"] == parent["uri"]
    assert note["summary"] == "warm" and note["sensitive"] is True
    assert note["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert f"{node.url}/users/nora/followers" in note["cc"]
    assert f"{node.url}/users/omar" in note["cc"]
    kinds = {tag["type"]: tag for tag in note["tag"]}
    assert kinds["Mention"]["href"] == f"{node.url}/users/omar"
    assert kinds["Hashtag"]["name"] == "#sunset"
    assert note["contentMap"] == {"en": note["content"]}
    activity = (await http.get(f"/users/nora/statuses/{post['id']}/activity", headers=AP)).json()
    assert activity["type"] == "Create" and activity["object"]["id"] == note["id"]
    private = (
        await user.post("/api/v1/statuses", data={"status": "secret", "visibility": "private"})
    ).json()
    hidden = await http.get(f"/users/nora/statuses/{private['id']}", headers=AP)
    assert hidden.status_code == 404


async def test_outbox_and_follower_collections_are_paged(
    node: NodeProcess, http: httpx.AsyncClient, make_user
) -> None:
    user = await make_user("olga")
    fan = await make_user("fan")
    await fan.post(f"/api/v1/accounts/{user.account_id}/follow")
    for n in range(22):
        await user.post("/api/v1/statuses", data={"status": f"post {n}"})
    await user.post("/api/v1/statuses", data={"status": "dm", "visibility": "direct"})
    outbox = (await http.get("/users/olga/outbox", headers=AP)).json()
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 22
    first = (await http.get(outbox["first"], headers=AP)).json()
    assert first["type"] == "OrderedCollectionPage" and len(first["orderedItems"]) == 20
    assert first["orderedItems"][0]["type"] == "Create"
    assert first["orderedItems"][0]["object"]["content"] == "<p>post 21</p>"
    second = (await http.get(first["next"], headers=AP)).json()
    assert [i["object"]["content"] for i in second["orderedItems"]] == [
        "<p>post 1</p>",
        "<p>post 0</p>",
    ]
    followers = (await http.get("/users/olga/followers", headers=AP)).json()
    assert followers["totalItems"] == 1
    page = (await http.get(followers["first"], headers=AP)).json()
    assert page["orderedItems"] == [f"{node.url}/users/fan"]
    following = (await http.get("/users/fan/following", headers=AP)).json()
    assert following["totalItems"] == 1
