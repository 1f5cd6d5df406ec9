"""Trends and explore through the real API: ranking by engagement with time decay (computed by the
trends job), the explore grid, and staff review of what trends."""

from __future__ import annotations

from node import admin, db, trends
from tests.test_admin import staff
from tests.test_search import photo, publish


async def backdate_posts(post_ids: list[str], hours: int) -> None:
    """Setup: make posts look `hours` old to the job (it weighs uses by their time)."""
    await db.execute(
        "UPDATE posts SET created_at = now() - make_interval(hours => $2) "
        "WHERE id = ANY($1::bigint[])",
        [int(i) for i in post_ids],
        hours,
    )


async def backdate_favourites(post_id: str, hours: int) -> None:
    await db.execute(
        "UPDATE favourites SET created_at = now() - make_interval(hours => $2) WHERE post_id = $1",
        int(post_id),
        hours,
    )


async def names(user, path: str = "/api/v1/trends/tags") -> list[str]:
    response = await user.get(path)
    assert response.status_code == 200, response.text
    return [tag["name"] for tag in response.json()]


async def status_ids(user, path: str, **params) -> list[str]:
    response = await user.get(path, params=params)
    assert response.status_code == 200, response.text
    return [status["id"] for status in response.json()]


async def test_hashtags_trend_by_recent_distinct_people_with_decay(make_user, http):
    people = [await make_user(f"poster{n}") for n in range(3)]
    for person in people:
        await publish(person, status="now #FreshSnow")
    stale = [(await publish(person, status="then #OldNews"))["id"] for person in people]
    await backdate_posts(stale, 30)
    # Many posts by one person are one voice; one voice does not make a trend.
    for _ in range(5):
        await publish(people[0], status="me again #Monologue")

    run = await trends.refresh_trends()
    assert run.tags == 2
    assert await names(http) == ["FreshSnow", "OldNews"]
    assert await names(http, "/api/v1/trends") == ["FreshSnow", "OldNews"]
    shown = (await http.get("/api/v1/trends/tags", params={"limit": 1})).json()
    assert len(shown) == 1 and shown[0]["history"][0]["accounts"] == "3"
    assert 'rel="next"' in (await http.get("/api/v1/trends/tags?limit=1")).headers["link"]
    # Earlier days' uses are what the job counted: the old tag's three uses sit 30 hours back.
    old = (await http.get("/api/v1/tags/oldnews")).json()["history"]
    assert old[0]["uses"] == "0" and sorted(day["uses"] for day in old)[-1] == "3"
    scores = await db.fetch(
        "SELECT t.name, tt.score FROM trending_tags tt JOIN tags t ON t.id = tt.tag_id "
        "ORDER BY tt.score DESC"
    )
    # Three people now against three people 30 hours ago (12-hour half-life): about 5.7x.
    assert [row["name"] for row in scores] == ["freshsnow", "oldnews"]
    assert 4 < scores[0]["score"] / scores[1]["score"] < 8


async def test_posts_trend_by_engagement_with_decay(make_user, http):
    alice = await make_user("alice")
    fans = [await make_user(f"fan{n}") for n in range(3)]
    hot = await publish(alice, status="Hot", media_ids=[await photo(alice, "ice")])
    cooling = await publish(alice, status="Cooling", media_ids=[await photo(alice, "tea")])
    lukewarm = await publish(alice, status="One like", media_ids=[await photo(alice, "x")])
    words = await publish(alice, status="Only words")
    for fan in fans:
        for post in (hot, cooling, words):
            assert (await fan.post(f"/api/v1/statuses/{post['id']}/favourite")).status_code == 200
    await fans[0].post(f"/api/v1/statuses/{lukewarm['id']}/favourite")
    await alice.post(f"/api/v1/statuses/{lukewarm['id']}/favourite")  # one's own like: no vote
    await backdate_favourites(cooling["id"], 24)
    # The text post was liked as much as the hot one, an hour earlier.
    await backdate_favourites(words["id"], 1)

    await trends.refresh_trends()
    assert await status_ids(http, "/api/v1/trends/statuses") == [
        hot["id"],
        words["id"],
        cooling["id"],
    ]
    assert await status_ids(http, "/api/v1/trends/statuses", limit=1, offset=1) == [words["id"]]
    assert (await http.get("/api/v1/trends/links")).json() == []

    # Explore: trending posts with photos first, then the newest photo posts.
    assert await status_ids(http, "/api/v1/pinhole/explore") == [
        hot["id"],
        cooling["id"],
        lukewarm["id"],
    ]
    assert await status_ids(http, "/api/v1/pinhole/explore", local="true", limit=2) == [
        hot["id"],
        cooling["id"],
    ]


async def test_private_sensitive_and_blocked_posts_stay_out_of_trends(make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    fans = [await make_user(f"fan{n}") for n in range(2)]
    for fan in fans:
        await fan.post(f"/api/v1/accounts/{alice.account_id}/follow")
    private = await publish(alice, status="friends only", visibility="private")
    spoiler = await publish(alice, status="cw", spoiler_text="spoilers")
    public = await publish(alice, status="for all")
    for fan in fans:
        for post in (private, spoiler, public):
            await fan.post(f"/api/v1/statuses/{post['id']}/favourite")
    await trends.refresh_trends()
    assert await status_ids(bob, "/api/v1/trends/statuses") == [public["id"]]
    await bob.post(f"/api/v1/accounts/{alice.account_id}/block")
    assert await status_ids(bob, "/api/v1/trends/statuses") == []


async def test_staff_approve_and_reject_trends(node, make_user, http):
    people = [await make_user(f"poster{n}") for n in range(2)]
    for person in people:
        await publish(person, status="#Aurora tonight")
    post = await publish(
        people[0], status="Northern lights", media_ids=[await photo(people[0], "")]
    )
    await people[1].post(f"/api/v1/statuses/{post['id']}/favourite")
    fan = await make_user("fan")
    await fan.post(f"/api/v1/statuses/{post['id']}/favourite")
    await trends.refresh_trends()
    tag_id = await db.fetchval("SELECT id FROM tags WHERE name = 'aurora'")

    user = await make_user("morgan")
    # Admin scopes without a staff role: refused.
    not_staff = await staff(node, user, role="user")
    assert (await not_staff.post(f"/api/v1/admin/trends/tags/{tag_id}/reject")).status_code == 403
    await not_staff.aclose()
    moderator = await staff(node, user, role="moderator")

    queue = (await moderator.get("/api/v1/admin/trends/tags")).json()
    assert [(t["name"], t["requires_review"], t["trendable"]) for t in queue] == [
        ("Aurora", True, False)
    ]
    rejected = await moderator.post(f"/api/v1/admin/trends/tags/{tag_id}/reject")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["requires_review"] is False and rejected.json()["trendable"] is False
    assert await names(http) == []
    # Clients asking for reviewed tags only (Mastodon.py's default) no longer get it by prefix.
    reviewed_only = {"type": "hashtags", "exclude_unreviewed": "true"}
    prefix = await http.get("/api/v2/search", params={"q": "auro", **reviewed_only})
    exact = await http.get("/api/v2/search", params={"q": "aurora", **reviewed_only})
    assert prefix.json()["hashtags"] == [] and len(exact.json()["hashtags"]) == 1
    approved = await moderator.post(f"/api/v1/admin/trends/tags/{tag_id}/approve")
    assert approved.json()["trendable"] is True
    assert await names(http) == ["Aurora"]

    assert await status_ids(http, "/api/v1/trends/statuses") == [post["id"]]
    assert await status_ids(moderator, "/api/v1/admin/trends/statuses") == [post["id"]]
    hidden = await moderator.post(f"/api/v1/admin/trends/statuses/{post['id']}/reject")
    assert hidden.status_code == 200 and hidden.json()["id"] == post["id"]
    assert await status_ids(http, "/api/v1/trends/statuses") == []
    assert await status_ids(http, "/api/v1/pinhole/explore") == []
    await moderator.post(f"/api/v1/admin/trends/statuses/{post['id']}/approve")
    assert await status_ids(http, "/api/v1/trends/statuses") == [post["id"]]

    actions = [row["action"] for row in await admin.audit_log(target_type="tag")]
    assert actions == ["approve_tag", "reject_tag"]
    for path in ("tags/999/approve", "statuses/999/reject", "tags/x/approve"):
        assert (await moderator.post(f"/api/v1/admin/trends/{path}")).status_code == 404
    await moderator.aclose()


async def test_bad_trends_input(make_user, http):
    assert (await http.get("/api/v1/trends/tags", params={"limit": "0"})).status_code == 422
    assert (await http.get("/api/v1/trends/statuses", params={"offset": "-3"})).status_code == 422
    assert (await http.get("/api/v1/pinhole/explore", params={"local": "maybe"})).status_code == 422
    assert (await http.get("/api/v1/trends/tags", params={"limit": "99"})).status_code == 200
    assert (await http.get("/api/v1/admin/trends/tags")).status_code == 401
