"""Sign-up, profiles and lookups through the client API, including bad input."""

import asyncio

import httpx

from tests.rig import register_app, sign_up


async def _app_token(http: httpx.AsyncClient) -> str:
    app = await register_app(http)
    response = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "read write follow",
        },
    )
    return response.json()["access_token"]


async def _sign_up(http, app_token, **fields):
    body = {
        "username": "alice",
        "email": "alice@example.com",
        "password": "long enough",
        "agreement": True,
    }
    body.update(fields)
    return await http.post(
        "/api/v1/accounts", json=body, headers={"Authorization": f"Bearer {app_token}"}
    )


async def test_sign_up_works_right_away_without_a_mail_server(http):
    token = (await sign_up(http, "alice"))["access_token"]
    me = await http.get(
        "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"}
    )
    assert me.status_code == 200
    body = me.json()
    assert body["username"] == "alice"
    assert body["acct"] == "alice"
    assert body["url"].endswith("/@alice")
    assert body["source"]["follow_requests_count"] == 0
    assert isinstance(body["id"], str) and body["id"].isdigit()


async def test_taken_username_and_email_are_422_naming_the_field(http):
    token = await _app_token(http)
    assert (await _sign_up(http, token)).status_code == 200
    same_name = await _sign_up(http, token, username="ALICE", email="other@example.com")
    assert same_name.status_code == 422
    assert "username" in same_name.json()["error"]
    assert "username" in same_name.json()["details"]
    same_email = await _sign_up(http, token, username="alice2", email="Alice@Example.com")
    assert same_email.status_code == 422
    assert "email" in same_email.json()["error"]


async def test_username_rules(http):
    token = await _app_token(http)
    for username, problem in (
        ("", "blank"),
        ("a" * 31, "1 to 30"),
        ("al ice", "1 to 30"),
        ("alice!", "1 to 30"),
        ("admin", "reserved"),
        ("Inbox", "reserved"),
    ):
        response = await _sign_up(
            http, token, username=username, email=f"x{len(username)}@example.com"
        )
        assert response.status_code == 422, username
        assert problem in response.json()["error"], (username, response.json())


async def test_sign_up_bad_input(http):
    token = await _app_token(http)
    short_password = await _sign_up(http, token, password="short")
    assert short_password.status_code == 422 and "password" in short_password.json()["error"]
    bad_email = await _sign_up(http, token, email="not-an-email")
    assert bad_email.status_code == 422 and "email" in bad_email.json()["error"]
    no_agreement = await _sign_up(http, token, agreement=False)
    assert no_agreement.status_code == 422 and "agreement" in no_agreement.json()["error"]
    wrong_type = await _sign_up(http, token, username=["a", "b"])
    assert wrong_type.status_code == 422
    huge = await _sign_up(http, token, username="a" * 100_000)
    assert huge.status_code == 422
    no_token = await http.post("/api/v1/accounts", json={"username": "x"})
    assert no_token.status_code == 401


async def test_concurrent_sign_ups_with_one_username_create_one_account(http):
    token = await _app_token(http)
    results = await asyncio.gather(
        *(_sign_up(http, token, email=f"alice{i}@example.com") for i in range(5))
    )
    assert sorted(r.status_code for r in results) == [200, 422, 422, 422, 422]


async def test_update_credentials_changes_the_profile(make_user, http):
    alice = await make_user("alice")
    response = await alice.client.patch(
        "/api/v1/accounts/update_credentials",
        data={
            "display_name": "Alice A.",
            "note": "Photos of <b>cats</b>\nand https://example.com",
            "locked": "true",
            "fields_attributes[0][name]": "Site",
            "fields_attributes[0][value]": "example.com",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["display_name"] == "Alice A."
    assert body["locked"] is True
    assert "&lt;b&gt;cats&lt;/b&gt;" in body["note"] and "<b>" not in body["note"]
    assert '<a href="https://example.com"' in body["note"]
    assert body["source"]["note"] == "Photos of <b>cats</b>\nand https://example.com"
    assert body["fields"][0]["name"] == "Site"
    public = (await http.get(f"/api/v1/accounts/{alice.account_id}")).json()
    assert public["display_name"] == "Alice A."


async def test_update_credentials_bad_input(make_user):
    alice = await make_user("alice")
    too_long = await alice.client.patch(
        "/api/v1/accounts/update_credentials", json={"display_name": "x" * 31}
    )
    assert too_long.status_code == 422 and "display_name" in too_long.json()["error"]
    bad_flag = await alice.client.patch(
        "/api/v1/accounts/update_credentials", json={"locked": "maybe"}
    )
    assert bad_flag.status_code == 422 and "locked" in bad_flag.json()["error"]
    too_many_fields = await alice.client.patch(
        "/api/v1/accounts/update_credentials",
        json={"fields_attributes": [{"name": f"n{i}", "value": "v"} for i in range(5)]},
    )
    assert too_many_fields.status_code == 422
    unchanged = (await alice.get("/api/v1/accounts/verify_credentials")).json()
    assert unchanged["display_name"] == "" and unchanged["locked"] is False


async def test_lookup_and_show(make_user, http, node):
    alice = await make_user("alice")
    for acct in ("alice", "@alice", f"alice@{node.domain}", "ALICE"):
        found = await http.get("/api/v1/accounts/lookup", params={"acct": acct})
        assert found.status_code == 200, acct
        assert found.json()["id"] == alice.account_id
    assert (await http.get("/api/v1/accounts/lookup", params={"acct": "nobody"})).status_code == 404
    assert (await http.get("/api/v1/accounts/123")).status_code == 404
    assert (await http.get("/api/v1/accounts/not-a-number")).status_code == 404
    assert (await http.get(f"/api/v1/accounts/{alice.account_id}/")).status_code == 200


async def test_unknown_routes_answer_json_404(http):
    response = await http.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": "Record not found"}
