"""Moderation through the real API: registration modes, reports and the admin queue,
suspensions, domain blocks, and the admin API's answers to bad input."""

from __future__ import annotations

import httpx

from node import admin, db, moderation, registration
from node.ids import new_id
from tests.rig import register_app

ADMIN_SCOPES = "read write follow push admin:read admin:write"


async def staff(node, user, role: str = "admin") -> httpx.AsyncClient:
    """A client for `user` given a staff role, holding admin scopes (signed in by password)."""
    await db.execute("UPDATE users SET role = $2 WHERE account_id = $1", int(user.account_id), role)
    async with httpx.AsyncClient(base_url=node.url, timeout=30) as anonymous:
        app = await register_app(anonymous, scopes=ADMIN_SCOPES)
        token = await anonymous.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": user.username,
                "password": user.password,
                "scope": ADMIN_SCOPES,
            },
        )
    assert token.status_code == 200, token.text
    return httpx.AsyncClient(
        base_url=node.url,
        timeout=30,
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )


async def app_token(http: httpx.AsyncClient) -> str:
    app = await register_app(http)
    response = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "read write follow push",
        },
    )
    return response.json()["access_token"]


async def sign_up(http: httpx.AsyncClient, username: str, **extra) -> httpx.Response:
    return await http.post(
        "/api/v1/accounts",
        headers={"Authorization": f"Bearer {await app_token(http)}"},
        json={
            "username": username,
            "email": f"{username}@example.com",
            "password": "correct horse battery",
            "agreement": True,
            **extra,
        },
    )


async def password_grant(http: httpx.AsyncClient, username: str) -> httpx.Response:
    app = await register_app(http)
    return await http.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": username,
            "password": "correct horse battery",
            "scope": "read",
        },
    )


async def remote_account(username: str, domain: str) -> int:
    """A remote account as federation stores it (setup data)."""
    account_id = new_id()
    await db.execute(
        """INSERT INTO accounts (id, username, domain, uri, url, inbox_url)
           VALUES ($1, $2, $3, $4, $4, $5)""",
        account_id,
        username,
        domain,
        f"https://{domain}/users/{username}",
        f"https://{domain}/users/{username}/inbox",
    )
    return account_id


async def remote_public_post(account_id: int, domain: str, text: str) -> int:
    post_id = new_id()
    await db.execute(
        """INSERT INTO posts (id, account_id, uri, url, local, content, text, visibility)
           VALUES ($1, $2, $3, $3, false, $4, $5, 'public')""",
        post_id,
        account_id,
        f"https://{domain}/posts/{post_id}",
        f"<p>{text}</p>",
        text,
    )
    return post_id


# ---------------------------------------------------------------- registration


async def test_sign_up_in_approval_mode_waits_for_an_admin(node, http, make_user):
    boss = await staff(node, await make_user("boss"))
    await admin.change_setting("registration_mode", "approval")
    instance = (await http.get("/api/v2/instance")).json()
    assert instance["registrations"] == {
        "enabled": True,
        "approval_required": True,
        "message": None,
    }

    response = await sign_up(http, "newbie", reason="I take photos of moss")
    assert response.status_code == 200, response.text
    pending_token = response.json()["access_token"]
    me = await http.get(
        "/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {pending_token}"},
    )
    assert me.status_code == 401
    refused = await password_grant(http, "newbie")
    assert refused.status_code == 403

    queue = (await boss.get("/api/v1/admin/accounts", params={"pending": "true"})).json()
    assert [(a["username"], a["approved"], a["invite_request"]) for a in queue] == [
        ("newbie", False, "I take photos of moss")
    ]
    approved = await boss.post(f"/api/v1/admin/accounts/{queue[0]['id']}/approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved"] is True

    assert (await password_grant(http, "newbie")).status_code == 200
    me = await http.get(
        "/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {pending_token}"},
    )
    assert me.status_code == 200
    assert me.json()["username"] == "newbie"
    assert (await boss.get("/api/v1/admin/accounts", params={"pending": "true"})).json() == []
    await boss.aclose()


async def test_rejecting_a_pending_sign_up_frees_the_name(node, http, make_user):
    boss = await staff(node, await make_user("boss"))
    await admin.change_setting("registration_mode", "approval")
    assert (await sign_up(http, "spammer")).status_code == 200
    pending = (await boss.get("/api/v1/admin/accounts", params={"pending": "1"})).json()
    rejected = await boss.post(f"/api/v1/admin/accounts/{pending[0]['id']}/reject")
    assert rejected.status_code == 200
    assert (await boss.get(f"/api/v1/admin/accounts/{pending[0]['id']}")).status_code == 404
    await admin.change_setting("registration_mode", "open")
    assert (await sign_up(http, "spammer")).status_code == 200
    await boss.aclose()


async def test_invite_mode_needs_a_valid_invite_and_counts_its_uses(node, http):
    await admin.change_setting("registration_mode", "invite")
    assert (await http.get("/api/v1/instance")).json()["invites_enabled"] is True
    without = await sign_up(http, "stranger")
    assert without.status_code == 422
    assert "invite_code" in without.json()["error"]
    invite = await registration.create_invite(None, max_uses=1, expires_in=3600)
    welcome = await sign_up(http, "friend", invite_code=invite["code"])
    assert welcome.status_code == 200, welcome.text
    used_up = await sign_up(http, "friend2", invite_code=invite["code"])
    assert used_up.status_code == 422
    wrong = await sign_up(http, "friend3", invite_code="not-a-code")
    assert wrong.status_code == 422
    assert await db.fetchval("SELECT uses FROM invites WHERE id = $1", invite["id"]) == 1


async def test_closed_registrations_refuse_sign_ups(node, http):
    await admin.change_setting("registration_mode", "closed")
    instance = (await http.get("/api/v1/instance")).json()
    assert instance["registrations"] is False
    response = await sign_up(http, "latecomer")
    assert response.status_code == 403
    assert response.json() == {"error": "Registrations are closed on this node"}


async def test_instance_rules_are_shown_for_sign_up(node, http):
    first = await registration.add_rule("Only photos you took yourself", "Credit others.")
    await registration.add_rule("No hate")
    rules = (await http.get("/api/v1/instance/rules")).json()
    assert [(r["text"], r["hint"]) for r in rules] == [
        ("Only photos you took yourself", "Credit others."),
        ("No hate", ""),
    ]
    assert rules[0]["id"] == str(first["id"])
    assert (await http.get("/api/v1/instance")).json()["rules"] == rules
    assert (await http.get("/api/v2/instance")).json()["rules"] == rules


# ---------------------------------------------------------------- suspension


async def test_suspended_account_vanishes_and_cannot_sign_in(node, http, make_user):
    boss = await staff(node, await make_user("boss"))
    alice, bob = await make_user("alice"), await make_user("bob")
    assert (await bob.post(f"/api/v1/accounts/{alice.account_id}/follow")).status_code == 200
    post = (await alice.post("/api/v1/statuses", json={"status": "sunset"})).json()
    assert (await http.get(f"/api/v1/statuses/{post['id']}")).status_code == 200

    acted = await boss.post(
        f"/api/v1/admin/accounts/{alice.account_id}/action",
        data={"type": "suspend", "text": "spam"},
    )
    assert acted.status_code == 200, acted.text

    assert (await http.get(f"/api/v1/statuses/{post['id']}")).status_code == 404
    assert (await bob.get(f"/api/v1/statuses/{post['id']}")).status_code == 404
    assert (await http.get(f"/api/v1/accounts/{alice.account_id}")).status_code == 404
    assert (await http.get("/api/v1/accounts/lookup", params={"acct": "alice"})).status_code == 404
    home = (await bob.get("/api/v1/timelines/home")).json()
    assert post["id"] not in [s["id"] for s in home]
    public = (await http.get("/api/v1/timelines/public")).json()
    assert post["id"] not in [s["id"] for s in public]
    assert (await alice.get("/api/v1/accounts/verify_credentials")).status_code == 401
    signin = await password_grant(http, "alice")
    assert signin.status_code == 403

    shown = (await boss.get(f"/api/v1/admin/accounts/{alice.account_id}")).json()
    assert shown["suspended"] is True
    log = await admin.audit_log(target_type="account", target_id=alice.account_id)
    assert [row["action"] for row in log] == ["suspend"]

    lifted = await boss.post(f"/api/v1/admin/accounts/{alice.account_id}/unsuspend")
    assert lifted.status_code == 200
    assert lifted.json()["suspended"] is False
    assert (await http.get(f"/api/v1/statuses/{post['id']}")).status_code == 200
    assert (await alice.get("/api/v1/accounts/verify_credentials")).status_code == 200
    await boss.aclose()


async def test_moderators_cannot_act_on_staff_or_themselves(node, make_user):
    mod_user, admin_user = await make_user("mia"), await make_user("chief")
    mod = await staff(node, mod_user, role="moderator")
    chief = await staff(node, admin_user, role="admin")
    on_admin = await mod.post(
        f"/api/v1/admin/accounts/{admin_user.account_id}/action", data={"type": "suspend"}
    )
    assert on_admin.status_code == 403
    on_self = await mod.post(
        f"/api/v1/admin/accounts/{mod_user.account_id}/action", data={"type": "silence"}
    )
    assert on_self.status_code == 403
    # Domain blocks are for admins only.
    assert (await mod.get("/api/v1/admin/domain_blocks")).status_code == 403
    assert (await chief.get("/api/v1/admin/domain_blocks")).status_code == 200
    await mod.aclose()
    await chief.aclose()


# ---------------------------------------------------------------- reports


async def test_report_goes_through_the_queue(node, make_user):
    boss_user = await make_user("boss")
    boss = await staff(node, boss_user, role="moderator")
    alice, bob = await make_user("alice"), await make_user("bob")
    post = (await alice.post("/api/v1/statuses", json={"status": "buy followers"})).json()

    filed = await bob.post(
        "/api/v1/reports",
        json={
            "account_id": alice.account_id,
            "status_ids": [post["id"]],
            "comment": "spam",
            "category": "spam",
        },
    )
    assert filed.status_code == 200, filed.text
    report = filed.json()
    assert report["status_ids"] == [post["id"]]
    assert report["target_account"]["id"] == alice.account_id
    assert report["action_taken"] is False

    queue = (await boss.get("/api/v1/admin/reports")).json()
    assert [r["id"] for r in queue] == [report["id"]]
    assert queue[0]["account"]["username"] == "bob"
    assert queue[0]["target_account"]["username"] == "alice"
    assert [s["id"] for s in queue[0]["statuses"]] == [post["id"]]

    assigned = (await boss.post(f"/api/v1/admin/reports/{report['id']}/assign_to_self")).json()
    assert assigned["assigned_account"]["id"] == boss_user.account_id
    note = await boss.post(
        f"/api/v1/admin/reports/{report['id']}/notes", data={"content": "checking"}
    )
    assert note.status_code == 200
    deleted = await boss.post(
        f"/api/v1/admin/statuses/{post['id']}/delete", data={"report_id": report["id"]}
    )
    assert deleted.status_code == 200, deleted.text
    assert (await bob.get(f"/api/v1/statuses/{post['id']}")).status_code == 404
    warned = await boss.post(
        f"/api/v1/admin/accounts/{alice.account_id}/action",
        data={"type": "none", "report_id": report["id"], "text": "No spam, please."},
    )
    assert warned.status_code == 200

    assert (await boss.get("/api/v1/admin/reports")).json() == []
    resolved = (await boss.get("/api/v1/admin/reports", params={"resolved": "true"})).json()
    assert resolved[0]["action_taken"] is True
    assert resolved[0]["action_taken_by_account"]["id"] == boss_user.account_id
    reopened = (await boss.post(f"/api/v1/admin/reports/{report['id']}/reopen")).json()
    assert reopened["action_taken"] is False

    log = await admin.audit_log()
    assert [row["action"] for row in reversed(log)] == [
        "assign_report",
        "add_report_note",
        "delete_post",
        "resolve_report",
        "warn",
        "reopen_report",
    ]
    warning = await db.fetchrow("SELECT * FROM account_warnings")
    assert warning["text"] == "No spam, please."
    assert warning["target_account_id"] == int(alice.account_id)
    await boss.aclose()


async def test_report_from_a_remote_node_appears_in_the_queue(node, make_user):
    boss = await staff(node, await make_user("boss"))
    alice = await make_user("alice")
    post = (await alice.post("/api/v1/statuses", json={"status": "questionable"})).json()
    flagger = await remote_account("mod", "other.example")
    # What federation's Flag handler calls for an incoming Flag.
    report = await moderation.create_report(
        flagger,
        int(alice.account_id),
        [int(post["id"])],
        "Reported by a user of other.example",
        "other",
        "https://other.example/flags/1",
    )
    again = await moderation.create_report(
        flagger, int(alice.account_id), [], "again", "other", "https://other.example/flags/1"
    )
    assert again["id"] == report["id"]

    queue = (await boss.get("/api/v1/admin/reports")).json()
    assert len(queue) == 1
    assert queue[0]["comment"] == "Reported by a user of other.example"
    assert queue[0]["account"]["domain"] == "other.example"
    assert queue[0]["target_account"]["username"] == "alice"
    assert queue[0]["uri"] == "https://other.example/flags/1"
    assert [s["id"] for s in queue[0]["statuses"]] == [post["id"]]

    # A domain blocked with reject_reports is not heard.
    await moderation.block_domain(
        moderation.DomainBlockInput("rude.example", severity="noop", reject_reports=True)
    )
    dropped = await moderation.create_report(
        None, int(alice.account_id), [], "x", "other", "https://rude.example/flags/9"
    )
    assert dropped is None
    assert len((await boss.get("/api/v1/admin/reports")).json()) == 1
    await boss.aclose()


async def test_report_input_is_checked(node, make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    post = (await alice.post("/api/v1/statuses", json={"status": "mine"})).json()
    bobs = (await bob.post("/api/v1/statuses", json={"status": "bob's"})).json()
    cases = [
        ({}, 422),
        ({"account_id": "123456789"}, 404),
        ({"account_id": "not-an-id"}, 404),
        ({"account_id": bob.account_id}, 422),  # oneself
        ({"account_id": alice.account_id, "category": "boring"}, 422),
        ({"account_id": alice.account_id, "comment": "x" * 1001}, 422),
        ({"account_id": alice.account_id, "status_ids": [bobs["id"]]}, 422),
        ({"account_id": alice.account_id, "category": "violation"}, 422),  # no rule named
        ({"account_id": alice.account_id, "category": "violation", "rule_ids": ["1"]}, 422),
    ]
    for body, status in cases:
        response = await bob.post("/api/v1/reports", json=body)
        assert response.status_code == status, (body, response.text)
        assert "error" in response.json()
    ok = await bob.post(
        "/api/v1/reports",
        data={"account_id": alice.account_id, "status_ids[]": post["id"], "forward": "true"},
    )
    assert ok.status_code == 200
    assert ok.json()["forwarded"] is False  # a local account: nowhere to forward to


# ---------------------------------------------------------------- domain blocks


async def test_silenced_domain_stays_out_of_public_timelines(node, http, make_user):
    boss = await staff(node, await make_user("boss"))
    loud = await remote_account("loud", "noisy.example")
    loud_post = await remote_public_post(loud, "noisy.example", "BUY NOW")
    calm = await remote_account("calm", "calm.example")
    calm_post = await remote_public_post(calm, "calm.example", "a quiet lake")

    def ids(statuses: list[dict]) -> set[str]:
        return {s["id"] for s in statuses}

    before = ids((await http.get("/api/v1/timelines/public")).json())
    assert {str(loud_post), str(calm_post)} <= before

    created = await boss.post(
        "/api/v1/admin/domain_blocks",
        data={"domain": "Noisy.Example", "severity": "silence", "public_comment": "spam"},
    )
    assert created.status_code == 200, created.text
    block = created.json()
    assert block["domain"] == "noisy.example"
    assert block["severity"] == "silence"

    # An account of that domain met only after the block is silenced as it arrives.
    later = await remote_account("louder", "cdn.noisy.example")
    later_post = await remote_public_post(later, "cdn.noisy.example", "MORE DEALS")

    after = ids((await http.get("/api/v1/timelines/public")).json())
    assert str(calm_post) in after
    assert str(loud_post) not in after and str(later_post) not in after
    assert await moderation.domain_policy("noisy.example") == "silence"
    assert await moderation.domain_policy("cdn.noisy.example:8443") == "silence"
    assert await moderation.domain_policy("calm.example") == "allowed"
    public_list = (await http.get("/api/v1/instance/domain_blocks")).json()
    assert public_list[0]["domain"] == "noisy.example"
    assert public_list[0]["comment"] == "spam"

    removed = await boss.delete(f"/api/v1/admin/domain_blocks/{block['id']}")
    assert removed.status_code == 200
    restored = ids((await http.get("/api/v1/timelines/public")).json())
    assert {str(loud_post), str(later_post)} <= restored
    await boss.aclose()


async def test_suspending_a_domain_suspends_its_accounts_until_lifted(node, http, make_user):
    boss = await staff(node, await make_user("boss"))
    bad = await remote_account("troll", "bad.example")
    await db.execute(
        "UPDATE accounts SET silenced_at = now() - interval '1 day' WHERE id = $1", bad
    )
    created = await boss.post(
        "/api/v1/admin/domain_blocks", json={"domain": "bad.example", "severity": "suspend"}
    )
    assert created.status_code == 200
    assert (await http.get(f"/api/v1/accounts/{bad}")).status_code == 404
    assert await moderation.domain_policy("bad.example") == "suspend"
    changed = await boss.put(
        f"/api/v1/admin/domain_blocks/{created.json()['id']}", data={"severity": "noop"}
    )
    assert changed.json()["severity"] == "noop"
    assert (await http.get(f"/api/v1/accounts/{bad}")).status_code == 200
    # The silence a moderator set earlier is not the block's to lift.
    assert await db.fetchval("SELECT silenced_at IS NOT NULL FROM accounts WHERE id = $1", bad)
    await boss.aclose()


async def test_domain_blocks_round_trip_through_mastodon_csv(node):
    text = (
        "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
        "spam.example,suspend,true,true,Spam farm,false\n"
        "meh.example,silence,false,false,,true\n"
        "not a domain,suspend,false,false,,false\n"
        "odd.example,explode,false,false,,false\n"
    )
    result = await moderation.import_domain_blocks(text)
    assert result.imported == 2
    assert result.errors == [
        "line 4: Validation failed: domain is not a valid domain name",
        "line 5: Validation failed: severity must be one of suspend, silence, noop",
    ]
    exported = await moderation.export_domain_blocks()
    assert exported == (
        "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
        "meh.example,silence,false,false,,true\n"
        "spam.example,suspend,true,true,Spam farm,false\n"
    )
    rules = await moderation.domain_rules("img.spam.example")
    assert (rules.severity, rules.reject_media, rules.reject_reports) == ("suspend", True, True)
    plain = await moderation.import_domain_blocks("plain.example\n")
    assert plain.imported == 1
    assert await moderation.domain_policy("plain.example") == "suspend"


async def test_allowlist_mode_refuses_domains_not_allowed(node):
    await admin.change_setting("federation_mode", "allowlist")
    await moderation.allow_domain("friends.example")
    assert await moderation.domain_policy("friends.example") == "allowed"
    assert await moderation.domain_policy("photos.friends.example") == "allowed"
    assert await moderation.domain_policy("strangers.example") == "suspend"
    await admin.change_setting("federation_mode", "")
    assert await moderation.domain_policy("strangers.example") == "allowed"


async def test_media_hash_blocks(node):
    digest = "ab" * 32
    assert not await moderation.is_media_hash_blocked(digest)
    await moderation.block_media_hash(digest.upper(), "known bad")
    assert await moderation.is_media_hash_blocked(digest)
    await moderation.unblock_media_hash(digest)
    assert not await moderation.is_media_hash_blocked(digest)


# ---------------------------------------------------------------- the admin API's gate and input


async def test_admin_api_needs_scope_and_role(node, http, make_user):
    plain = await make_user("plain")
    assert (await http.get("/api/v1/admin/accounts")).status_code == 401
    # A normal token lacks the admin scopes.
    assert (await plain.get("/api/v1/admin/accounts")).status_code == 403
    # Admin scopes without a staff role are not enough either.
    holder = await staff(node, plain, role="user")
    response = await holder.get("/api/v1/admin/reports")
    assert response.status_code == 403
    assert response.json() == {"error": "This action is not allowed"}
    await holder.aclose()


async def test_admin_api_answers_bad_input_with_4xx(node, make_user):
    boss = await staff(node, await make_user("boss"))
    target = await make_user("target")
    cases = [
        ("get", "/api/v1/admin/accounts/nope", {}, 404),
        ("get", "/api/v1/admin/accounts/123", {}, 404),
        ("get", "/api/v1/admin/accounts?limit=abc", {}, 422),
        ("get", "/api/v1/admin/accounts?max_id=xyz", {}, 422),
        ("get", "/api/v1/admin/accounts?local=maybe", {}, 422),
        ("get", "/api/v1/admin/accounts?local=true&remote=true", {}, 422),
        ("post", f"/api/v1/admin/accounts/{target.account_id}/action", {}, 422),
        ("post", f"/api/v1/admin/accounts/{target.account_id}/action", {"type": "zap"}, 422),
        (
            "post",
            f"/api/v1/admin/accounts/{target.account_id}/action",
            {"type": "none", "report_id": "abc"},
            422,
        ),
        (
            "post",
            f"/api/v1/admin/accounts/{target.account_id}/action",
            {"type": "none", "report_id": "999"},
            404,
        ),
        ("post", "/api/v1/admin/accounts/999/action", {"type": "silence"}, 404),
        ("post", f"/api/v1/admin/accounts/{target.account_id}/approve", {}, 422),
        ("post", f"/api/v1/admin/accounts/{target.account_id}/reject", {}, 403),
        ("get", "/api/v1/admin/reports/42", {}, 404),
        ("post", "/api/v1/admin/reports/42/resolve", {}, 404),
        ("post", "/api/v1/admin/reports/x/assign_to_self", {}, 404),
        ("get", "/api/v1/admin/reports?account_id=xyz", {}, 422),
        ("post", "/api/v1/admin/statuses/77/delete", {}, 404),
        ("post", "/api/v1/admin/domain_blocks", {}, 422),
        ("post", "/api/v1/admin/domain_blocks", {"domain": "not a domain"}, 422),
        ("post", "/api/v1/admin/domain_blocks", {"domain": "x.example", "severity": "nuke"}, 422),
        (
            "post",
            "/api/v1/admin/domain_blocks",
            {"domain": "x.example", "reject_media": "perhaps"},
            422,
        ),
        ("post", "/api/v1/admin/domain_blocks", {"domain": node.domain}, 422),
        ("get", "/api/v1/admin/domain_blocks/555", {}, 404),
        ("put", "/api/v1/admin/domain_blocks/555", {"severity": "silence"}, 404),
        ("delete", "/api/v1/admin/domain_blocks/555", {}, 404),
    ]
    for method, path, body, status in cases:
        kwargs = {"json": body} if method in ("post", "put") else {}
        response = await getattr(boss, method)(path, **kwargs)
        assert response.status_code == status, (method, path, body, response.text)
        assert "error" in response.json(), (path, response.text)
    first = await boss.post("/api/v1/admin/domain_blocks", json={"domain": "dup.example"})
    assert first.status_code == 200
    again = await boss.post("/api/v1/admin/domain_blocks", json={"domain": "DUP.example"})
    assert again.status_code == 422
    assert again.json()["error"] == "Validation failed: domain is already blocked"
    malformed = await boss.post(
        "/api/v1/admin/domain_blocks",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    await boss.aclose()


async def test_admin_account_list_filters(node, make_user):
    boss = await staff(node, await make_user("boss"))
    await make_user("alice")
    await remote_account("far", "far.example")
    local = (await boss.get("/api/v1/admin/accounts", params={"local": "true"})).json()
    assert sorted(a["username"] for a in local) == ["alice", "boss"]
    remote = (await boss.get("/api/v1/admin/accounts", params={"remote": "true"})).json()
    assert [(a["username"], a["domain"], a["email"]) for a in remote] == [
        ("far", "far.example", None)
    ]
    staff_only = (await boss.get("/api/v1/admin/accounts", params={"staff": "true"})).json()
    assert [a["username"] for a in staff_only] == ["boss"]
    assert staff_only[0]["role"]["name"] == "Admin"
    by_name = (await boss.get("/api/v1/admin/accounts", params={"username": "ali"})).json()
    assert [a["username"] for a in by_name] == ["alice"]
    await boss.aclose()
