"""Operations as an operator sees them: readiness, metrics, request ids, logs, and the
housekeeping cron jobs (run against the node's own database and media folder)."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta

import httpx

from media.storage import storage_from_settings
from node import cleanup, db, moderation
from node.errors import Forbidden
from node.ids import new_id
from node.observability import JsonFormatter, RequestIdFilter, request_id_var
from node.settings import get_settings
from tests.rig import NodeProcess, wait_until
from tests.test_admin import sign_up
from workers import maintenance


async def test_ready_checks_postgres_redis_and_storage(node, http):
    response = await http.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ok",
        "checks": {"postgres": "ok", "redis": "ok", "storage": "ok"},
    }
    assert (await http.get("/health/live")).json() == {"status": "ok"}


async def test_request_ids_are_kept_or_made(node, http):
    given = await http.get("/api/v1/instance", headers={"X-Request-Id": "edge-7f3a"})
    assert given.headers["X-Request-Id"] == "edge-7f3a"
    made = await http.get("/api/v1/instance")
    assert re.fullmatch(r"[0-9a-f]{24}", made.headers["X-Request-Id"])
    hostile = await http.get("/api/v1/instance", headers={"X-Request-Id": "x" * 500})
    assert len(hostile.headers["X-Request-Id"]) == 24


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus text exposition."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_metrics_show_routes_jobs_and_the_queue(node, http, make_user):
    alice = await make_user("alice")
    assert (await alice.post("/api/v1/statuses", json={"status": "metrics"})).status_code == 200

    async def fan_out_recorded() -> str | None:
        text = (await http.get("/metrics")).text
        done = _sample(text, "pinhole_job_duration_seconds_count", job="fan_out_post")
        return text if done else None

    text = await wait_until(fan_out_recorded, timeout=15)
    assert response_ok(text)
    assert (
        _sample(
            text,
            "pinhole_http_request_duration_seconds_count",
            method="POST",
            route="/api/v1/statuses",
            status="200",
        )
        >= 1
    )
    assert _sample(text, "pinhole_queue_depth") is not None
    assert _sample(text, "pinhole_jobs_total", job="fan_out_post", outcome="success") >= 1
    assert _sample(text, "pinhole_job_wait_seconds_count", job="fan_out_post") >= 1
    assert _sample(text, "pinhole_feed_fanout_seconds_count", kind="push") >= 1


def response_ok(text: str) -> bool:
    return "# TYPE pinhole_http_request_duration_seconds histogram" in text


def test_json_log_lines_carry_the_request_id():
    record = logging.LogRecord("pinhole.access", logging.INFO, __file__, 1, "GET %s", ("/x",), None)
    record.status = 200
    token = request_id_var.set("req-1")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "GET /x"
    assert line["request_id"] == "req-1"
    assert line["status"] == 200
    assert line["level"] == "info"
    assert line["logger"] == "pinhole.access"


async def test_json_logs_and_a_metrics_token_on_a_node_that_asks_for_them(services):
    process = NodeProcess.configure(
        database_url=await services.create_database(),
        redis_url=services.redis_url,
        extra_env={"PINHOLE_LOG_JSON": "true", "PINHOLE_METRICS_TOKEN": "s3cret"},
    )
    process.start()
    try:
        async with httpx.AsyncClient(base_url=process.url, timeout=30) as http:
            answered = await http.get("/api/v1/instance", headers={"X-Request-Id": "trace-42"})
            assert answered.status_code == 200
            assert (await http.get("/metrics")).status_code == 401
            scraped = await http.get("/metrics", headers={"Authorization": "Bearer s3cret"})
            assert scraped.status_code == 200
            assert "pinhole_http_request_duration_seconds" in scraped.text

        def access_line() -> dict | None:
            for raw in process.log().splitlines():
                if raw.startswith("{") and '"trace-42"' in raw:
                    return json.loads(raw)
            return None

        async def logged() -> dict | None:
            return access_line()

        line = await wait_until(logged, timeout=5)
        assert line["logger"] == "pinhole.access"
        assert line["path"] == "/api/v1/instance"
        assert line["status"] == 200
        assert line["route"] == "/api/v1/instance"
        assert isinstance(line["duration_ms"], float)
    finally:
        process.stop()


# ---------------------------------------------------------------- housekeeping


async def _stored_media(account_id: int, key_name: str, *, post_id=None, age=timedelta(0), **cols):
    """An attachment row whose renditions exist in the node's storage (setup data)."""
    storage = storage_from_settings(get_settings())
    key = f"tests/{key_name}.webp"
    await storage.put(key, b"webp bytes " + key_name.encode(), "image/webp")
    media_id = new_id()
    await db.execute(
        """INSERT INTO media_attachments (id, account_id, post_id, type, state, renditions,
               remote_url, file_size, created_at)
           VALUES ($1, $2, $3, 'image', 'ready', $4::jsonb, $5, $6, $7)""",
        media_id,
        account_id,
        post_id,
        json.dumps({"original": {"key": key, "width": 10, "height": 10}}),
        cols.get("remote_url", ""),
        cols.get("file_size", 100),
        datetime.now(UTC) - age,
    )
    return media_id, key


async def test_orphaned_uploads_go_after_a_day(node, make_user):
    alice = await make_user("alice")
    owner = int(alice.account_id)
    old, old_key = await _stored_media(owner, "old", age=timedelta(days=2))
    fresh, fresh_key = await _stored_media(owner, "fresh", age=timedelta(hours=1))
    storage = storage_from_settings(get_settings())

    assert await cleanup.delete_orphaned_uploads() == 1
    remaining = {r["id"] for r in await db.fetch("SELECT id FROM media_attachments")}
    assert remaining == {fresh}
    assert not await storage.exists(old_key)
    assert await storage.exists(fresh_key)


async def test_bytes_shared_with_another_attachment_stay(node, make_user):
    alice = await make_user("alice")
    owner = int(alice.account_id)
    _, key = await _stored_media(owner, "shared", age=timedelta(days=3))
    keeper = new_id()
    await db.execute(
        """INSERT INTO media_attachments (id, account_id, type, renditions, created_at)
           VALUES ($1, $2, 'image', $3::jsonb, now())""",
        keeper,
        owner,
        json.dumps({"small": {"key": key}}),
    )
    assert await cleanup.delete_orphaned_uploads() == 1
    assert await storage_from_settings(get_settings()).exists(key)


async def test_remote_media_cache_keeps_to_its_age_bound(node, make_user):
    alice = await make_user("alice")
    owner = int(alice.account_id)
    stale, stale_key = await _stored_media(
        owner, "stale", age=timedelta(days=40), remote_url="https://far.example/a.jpg"
    )
    recent, recent_key = await _stored_media(
        owner, "recent", age=timedelta(days=1), remote_url="https://far.example/b.jpg"
    )
    assert await cleanup.trim_remote_media_cache() == 1
    rows = {
        r["id"]: r["renditions"]
        for r in await db.fetch("SELECT id, renditions FROM media_attachments")
    }
    assert json.loads(rows[stale]) == {}
    assert json.loads(rows[recent]) != {}
    storage = storage_from_settings(get_settings())
    assert not await storage.exists(stale_key)
    assert await storage.exists(recent_key)


async def test_expired_codes_and_old_revoked_tokens_are_deleted(node, make_user):
    alice = await make_user("alice")
    user_id = await db.fetchval("SELECT id FROM users WHERE account_id = $1", int(alice.account_id))
    app_id = await db.fetchval("SELECT id FROM oauth_apps LIMIT 1")
    for code, expires in (("old", -2), ("live", 1)):
        await db.execute(
            """INSERT INTO oauth_codes (id, code_hash, app_id, user_id, redirect_uri, scopes,
                   expires_at) VALUES ($1, $2, $3, $4, 'urn:x', 'read', now() + $5 * interval '1 day')""",
            new_id(),
            code,
            app_id,
            user_id,
            expires,
        )
    await db.execute(
        """INSERT INTO oauth_tokens (id, token_hash, app_id, user_id, scopes, revoked_at)
           VALUES ($1, 'revoked-long-ago', $2, $3, 'read', now() - interval '8 days')""",
        new_id(),
        app_id,
        user_id,
    )
    counts = await maintenance.delete_expired_credentials({})
    assert counts["codes"] == 1 and counts["tokens"] == 1
    assert [r["code_hash"] for r in await db.fetch("SELECT code_hash FROM oauth_codes")] == ["live"]
    # Alice's own token still works.
    assert (await alice.get("/api/v1/accounts/verify_credentials")).status_code == 200


async def test_suspended_account_data_is_deleted_after_the_grace_period(node, http, make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    assert (await bob.post(f"/api/v1/accounts/{alice.account_id}/follow")).status_code == 200
    post = (await alice.post("/api/v1/statuses", json={"status": "last words"})).json()
    assert (await bob.post(f"/api/v1/statuses/{post['id']}/favourite")).status_code == 200
    bobs = (await bob.post("/api/v1/statuses", json={"status": "hi"})).json()
    assert (await alice.post(f"/api/v1/statuses/{bobs['id']}/favourite")).status_code == 200
    await moderation.suspend(int(alice.account_id), None)

    # Inside the grace period nothing is deleted.
    assert await maintenance.delete_suspended_accounts({}) == 0
    await db.execute(
        "UPDATE accounts SET suspended_at = now() - interval '31 days' WHERE id = $1",
        int(alice.account_id),
    )
    assert await maintenance.delete_suspended_accounts({}) == 1
    assert await maintenance.delete_suspended_accounts({}) == 0  # runs twice without harm

    assert (
        await db.fetchval("SELECT count(*) FROM posts WHERE account_id = $1", int(alice.account_id))
        == 0
    )
    assert (
        await db.fetchval("SELECT count(*) FROM users WHERE account_id = $1", int(alice.account_id))
        == 0
    )
    account = await db.fetchrow("SELECT * FROM accounts WHERE id = $1", int(alice.account_id))
    assert account["data_deleted_at"] is not None and account["private_key_pem"] == ""
    me = (await bob.get("/api/v1/accounts/verify_credentials")).json()
    assert me["following_count"] == 0
    assert (await bob.get(f"/api/v1/statuses/{bobs['id']}")).json()["favourites_count"] == 0
    try:
        await moderation.unsuspend(int(alice.account_id), None)
    except Forbidden:
        pass
    else:
        raise AssertionError("an account whose data is gone came back")
    # The name stays taken: its URI must never point at someone else.
    again = await sign_up(http, "alice")
    assert again.status_code == 422
