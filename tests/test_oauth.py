"""OAuth 2 as third-party apps use it: app registration, the three grants, PKCE, scopes, revoke."""

import base64
import hashlib
import re
from urllib.parse import parse_qs, urlsplit

from node import db
from tests.rig import register_app, wait_until


async def _password_token(http, app, user, scope="read write follow"):
    return await http.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": user.email,
            "password": user.password,
            "scope": scope,
        },
    )


async def test_app_registration_returns_credentials_and_accepts_json(http):
    response = await http.post(
        "/api/v1/apps",
        json={
            "client_name": "Tusky",
            "redirect_uris": ["https://tusky.example/callback", "urn:ietf:wg:oauth:2.0:oob"],
            "scopes": "read write:statuses",
            "website": "https://tusky.example",
        },
    )
    assert response.status_code == 200
    app = response.json()
    assert app["name"] == "Tusky"
    assert app["client_id"] and app["client_secret"]
    assert app["redirect_uris"] == ["https://tusky.example/callback", "urn:ietf:wg:oauth:2.0:oob"]
    assert sorted(app["scopes"]) == ["read", "write:statuses"]


async def test_app_registration_rejects_bad_input(http):
    missing_name = await http.post(
        "/api/v1/apps", data={"redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
    )
    assert missing_name.status_code == 422
    assert "client_name" in missing_name.json()["error"]
    bad_scope = await http.post(
        "/api/v1/apps",
        data={"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "root"},
    )
    assert bad_scope.status_code == 422
    assert "scope" in bad_scope.json()["error"]
    malformed = await http.post(
        "/api/v1/apps", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert malformed.json()["error"] == "malformed JSON body"


async def test_password_grant_gives_a_working_token(http, make_user):
    alice = await make_user("alice")
    app = await register_app(http)
    response = await _password_token(http, app, alice)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    me = await http.get(
        "/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert me.json()["username"] == "alice"


async def test_password_grant_refuses_a_wrong_password(http, make_user):
    alice = await make_user("alice")
    app = await register_app(http)
    alice.password = "not the password"
    response = await _password_token(http, app, alice)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_authorization_code_flow_with_pkce(http, make_user):
    alice = await make_user("alice")
    redirect = "https://app.example/callback"
    app = (
        await http.post(
            "/api/v1/apps",
            data={"client_name": "web app", "redirect_uris": redirect, "scopes": "read write"},
        )
    ).json()
    verifier = "a-very-long-random-verifier-string-for-pkce-0123456789"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    query = {
        "client_id": app["client_id"],
        "redirect_uri": redirect,
        "response_type": "code",
        "scope": "read",
        "state": "xyz",
        "code_challenge": challenge.decode(),
        "code_challenge_method": "S256",
    }
    page = await http.get("/oauth/authorize", params=query)
    assert page.status_code == 200
    assert "web app" in page.text and 'name="password"' in page.text
    consent = await http.post(
        "/oauth/authorize",
        data={**query, "username": "alice", "password": alice.password, "decision": "approve"},
    )
    assert consent.status_code in (302, 303)
    location = urlsplit(consent.headers["location"])
    returned = parse_qs(location.query)
    assert returned["state"] == ["xyz"]
    code = returned["code"][0]

    wrong_verifier = await http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": app["client_id"],
            "redirect_uri": redirect,
            "code": code,
            "code_verifier": "wrong" * 10,
        },
    )
    assert wrong_verifier.status_code == 400

    # The failed attempt used the code up: a code is good for one try only.
    consent = await http.post(
        "/oauth/authorize",
        data={**query, "username": "alice", "password": alice.password, "decision": "approve"},
    )
    code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
    token = await http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": app["client_id"],
            "redirect_uri": redirect,
            "code": code,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "read"
    reused = await http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": app["client_id"],
            "redirect_uri": redirect,
            "code": code,
            "code_verifier": verifier,
        },
    )
    assert reused.status_code == 400


async def test_consent_page_with_wrong_password_shows_an_error(http, make_user):
    await make_user("alice")
    app = await register_app(http)
    response = await http.post(
        "/oauth/authorize",
        data={
            "client_id": app["client_id"],
            "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
            "scope": "read",
            "username": "alice",
            "password": "nope nope nope",
        },
    )
    assert response.status_code == 401
    assert "Wrong username or password" in response.text


async def test_out_of_band_redirect_shows_the_code(http, make_user):
    alice = await make_user("alice")
    app = await register_app(http)
    response = await http.post(
        "/oauth/authorize",
        data={
            "client_id": app["client_id"],
            "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
            "scope": "read",
            "username": alice.email,
            "password": alice.password,
        },
    )
    assert response.status_code == 200
    code = re.search(r'<code id="code">([^<]+)</code>', response.text).group(1)
    token = await http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
            "code": code,
        },
    )
    assert token.status_code == 200


async def test_scopes_are_enforced_per_endpoint(http, make_user):
    alice = await make_user("alice")
    bob = await make_user("bob")
    app = await register_app(http)
    read_only = (await _password_token(http, app, alice, scope="read")).json()["access_token"]
    headers = {"Authorization": f"Bearer {read_only}"}
    assert (
        await http.get("/api/v1/accounts/verify_credentials", headers=headers)
    ).status_code == 200
    follow = await http.post(f"/api/v1/accounts/{bob.account_id}/follow", headers=headers)
    assert follow.status_code == 403
    assert "scope" in follow.json()["error"]

    granular = (await _password_token(http, app, alice, scope="write:follows read:accounts")).json()
    headers = {"Authorization": f"Bearer {granular['access_token']}"}
    assert (
        await http.post(f"/api/v1/accounts/{bob.account_id}/follow", headers=headers)
    ).status_code == 200
    blocks = await http.get("/api/v1/blocks", headers=headers)
    assert blocks.status_code == 403


async def test_requests_without_or_with_a_bad_token_get_401(http):
    assert (await http.get("/api/v1/accounts/verify_credentials")).status_code == 401
    response = await http.get(
        "/api/v1/accounts/verify_credentials", headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401
    assert response.json()["error"]


async def test_revoked_token_stops_working(http, make_user):
    alice = await make_user("alice")
    app = await register_app(http)
    token = (await _password_token(http, app, alice)).json()["access_token"]
    revoke = await http.post(
        "/oauth/revoke",
        data={"client_id": app["client_id"], "client_secret": app["client_secret"], "token": token},
    )
    assert revoke.status_code == 200
    me = await http.get(
        "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"}
    )
    assert me.status_code == 401


async def test_token_ended_by_another_process_stops_working(http, make_user):
    """The node keeps token identities in memory; a change made elsewhere (the admin CLI, another
    web process, a suspension) reaches it through the database, within moments."""
    alice = await make_user("alice")
    bob = await make_user("bob")

    async def status_of(user) -> int:
        return (await user.get("/api/v1/accounts/verify_credentials")).status_code

    assert await status_of(alice) == 200 and await status_of(bob) == 200  # now remembered
    await db.execute(
        "UPDATE oauth_tokens SET revoked_at = now() WHERE token_hash = $1",
        hashlib.sha256(alice.token.encode()).hexdigest(),
    )
    await db.execute("UPDATE accounts SET suspended_at = now() WHERE id = $1", int(bob.account_id))
    assert await wait_until(lambda: _is(status_of(alice), 401), timeout=2)
    assert await wait_until(lambda: _is(status_of(bob), 401), timeout=2)


async def _is(status, expected: int) -> bool:
    return await status == expected


async def test_client_credentials_token_cannot_act_as_a_user(http):
    app = await register_app(http)
    token = (
        await http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "scope": "read",
            },
        )
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await http.get("/api/v1/apps/verify_credentials", headers=headers)).json()[
        "name"
    ] == "tests"
    assert (
        await http.get("/api/v1/accounts/verify_credentials", headers=headers)
    ).status_code == 401


async def test_unknown_grant_type_and_bad_client_are_refused(http):
    app = await register_app(http)
    unknown = await http.post(
        "/oauth/token", data={"grant_type": "magic", "client_id": app["client_id"]}
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "unsupported_grant_type"
    bad_client = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": "x",
        },
    )
    assert bad_client.status_code == 401
