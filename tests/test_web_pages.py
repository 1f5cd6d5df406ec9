"""The web UI over plain HTTP: security headers, CSRF, cookies, escaping, errors, link previews."""

from __future__ import annotations

import re

import httpx

from tests.rig import NodeProcess


async def _browser(node: NodeProcess) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=node.url, timeout=30, headers={"Accept": "text/html"})


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form has no CSRF token"
    return match.group(1)


async def _sign_in(client: httpx.AsyncClient, username: str) -> None:
    form = await client.get("/auth/sign_in")
    response = await client.post(
        "/auth/sign_in",
        data={
            "login": username,
            "password": "correct horse battery",
            "csrf_token": _csrf(form.text),
        },
    )
    assert response.status_code == 303, response.text


async def test_pages_forbid_inline_scripts_and_framing(node, make_user) -> None:
    await make_user("alice")
    async with await _browser(node) as client:
        for path in ("/", "/auth/sign_in", "/auth/sign_up", "/@alice", "/explore", "/search?q=a"):
            response = await client.get(path)
            assert response.status_code == 200, path
            policy = response.headers["content-security-policy"]
            assert "script-src 'self'" in policy and "unsafe-inline" not in policy
            assert "frame-ancestors 'none'" in policy
            assert response.headers["x-content-type-options"] == "nosniff"
            # Every script is a file of ours; no inline code, no inline handlers.
            assert not re.search(r"<script(?![^>]*\bsrc=)", response.text), path
            assert not re.search(r"\son[a-z]+=", response.text), path


async def test_session_cookie_is_http_only_and_same_site(node, make_user) -> None:
    await make_user("bob")
    async with await _browser(node) as client:
        form = await client.get("/auth/sign_in")
        response = await client.post(
            "/auth/sign_in",
            data={
                "login": "bob",
                "password": "correct horse battery",
                "csrf_token": _csrf(form.text),
            },
        )
        cookie = next(
            v for k, v in response.headers.multi_items() if k == "set-cookie" and "session" in v
        )
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        # The rig serves plain http on loopback; behind TLS the cookie is also Secure.
        assert "Secure" not in cookie


async def test_forms_without_a_valid_csrf_token_are_refused(node, make_user) -> None:
    await make_user("carol")
    await make_user("dave")
    async with await _browser(node) as client:
        await _sign_in(client, "carol")
        missing = await client.post("/@dave/follow", data={})
        forged = await client.post("/@dave/follow", data={"csrf_token": "0" * 64})
        assert missing.status_code == 403 and forged.status_code == 403
        assert "did not come from this site" in forged.text
        profile = await client.get("/@dave")
        assert "Following" not in profile.text
        followed = await client.post("/@dave/follow", data={"csrf_token": _csrf(profile.text)})
        assert followed.status_code == 303
        assert "Following" in (await client.get("/@dave")).text


async def test_sign_in_only_redirects_within_the_site(node, make_user) -> None:
    await make_user("erin")
    async with await _browser(node) as client:
        form = await client.get("/auth/sign_in", params={"next": "https://evil.example/"})
        response = await client.post(
            "/auth/sign_in",
            data={
                "login": "erin",
                "password": "correct horse battery",
                "csrf_token": _csrf(form.text),
                "next": "//evil.example/",
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/"


async def test_post_content_and_names_are_escaped(node, make_user) -> None:
    frank = await make_user("frank")
    await frank.client.patch(
        "/api/v1/accounts/update_credentials",
        data={"display_name": '<img src=x onerror="alert(1)">'},
    )
    created = await frank.post(
        "/api/v1/statuses", data={"status": "<script>alert('x')</script> hello #Sunset"}
    )
    assert created.status_code == 200, created.text
    post_id = created.json()["id"]
    async with await _browser(node) as client:
        page = await client.get(f"/@frank/{post_id}")
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert "&lt;script&gt;alert" in page.text
        assert "<img src=x" not in page.text
        assert 'href="http' in page.text and "/tags/sunset" in page.text


async def test_post_page_has_link_preview_tags_and_sends_peers_to_the_object(
    node, make_user
) -> None:
    gina = await make_user("gina")
    created = await gina.post("/api/v1/statuses", data={"status": "Golden hour at the pier"})
    post_id = created.json()["id"]
    async with await _browser(node) as client:
        page = await client.get(f"/@gina/{post_id}")
        assert '<meta property="og:title" content="gina (@gina) on pinhole">' in page.text
        assert 'property="og:description" content="Golden hour at the pier"' in page.text
        assert 'name="twitter:card"' in page.text
        assert f'href="{node.url}/users/gina/statuses/{post_id}"' in page.text
        peer = await client.get(
            f"/@gina/{post_id}", headers={"Accept": "application/activity+json"}
        )
        assert peer.status_code == 303
        assert peer.headers["location"] == f"{node.url}/users/gina/statuses/{post_id}"
        wrong_author = await client.get(f"/@someone/{post_id}")
        assert wrong_author.status_code == 303
        assert wrong_author.headers["location"] == f"/@gina/{post_id}"


async def test_unknown_pages_are_html_for_people_and_json_for_programs(node) -> None:
    async with await _browser(node) as client:
        page = await client.get("/@nobody")
        assert page.status_code == 404
        assert "text/html" in page.headers["content-type"]
        assert "Page not found" in page.text
        api = await client.get("/api/unknown", headers={"Accept": "application/json"})
        assert api.status_code == 404
        assert "error" in api.json()


async def test_followers_only_post_is_not_shown_to_strangers(node, make_user) -> None:
    hana = await make_user("hana")
    created = await hana.post(
        "/api/v1/statuses", data={"status": "just for friends", "visibility": "private"}
    )
    post_id = created.json()["id"]
    async with await _browser(node) as client:
        assert (await client.get(f"/@hana/{post_id}")).status_code == 404
    async with await _browser(node) as own:
        await _sign_in(own, "hana")
        assert "just for friends" in (await own.get(f"/@hana/{post_id}")).text


async def test_data_export_is_a_json_download_of_ones_own_posts(node, make_user) -> None:
    ivy = await make_user("ivy")
    await ivy.post("/api/v1/statuses", data={"status": "first light"})
    async with await _browser(node) as client:
        await _sign_in(client, "ivy")
        response = await client.get("/settings/export.json")
        assert response.status_code == 200
        assert "attachment" in response.headers["content-disposition"]
        data = response.json()
        assert data["account"]["username"] == "ivy"
        assert [p["text"] for p in data["posts"]] == ["first light"]
    async with await _browser(node) as anonymous:
        refused = await anonymous.get("/settings/export.json")
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/auth/sign_in")
