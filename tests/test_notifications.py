"""Notifications: made by jobs from likes, follows, mentions, comments, boosts, edits, sign-ups
and reports; never from blocked or muted accounts nor for one's own actions; listed, filtered,
paginated, dismissed, cleared and counted."""

import asyncio

from node import accounts
from tests.rig import wait_until


async def _post(user, text: str, **extra) -> dict:
    response = await user.post("/api/v1/statuses", data={"status": text, **extra})
    assert response.status_code == 200, response.text
    return response.json()


async def _notifications(user, **params) -> list[dict]:
    response = await user.get("/api/v1/notifications", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def _wait_for(user, count: int, **params) -> list[dict]:
    async def enough():
        found = await _notifications(user, **params)
        return found if len(found) >= count else None

    return await wait_until(enough)


async def _settle() -> None:
    """Give jobs that should not make anything the time they would have needed."""
    await asyncio.sleep(0.6)


async def test_a_like_notifies_the_author_once_even_when_undone_and_redone(make_user):
    ana, bea = await make_user("ana"), await make_user("bea")
    photo = await _post(ana, "sunset")
    await bea.post(f"/api/v1/statuses/{photo['id']}/favourite")
    [liked] = await _wait_for(ana, 1)
    assert liked["type"] == "favourite"
    assert liked["account"]["username"] == "bea"
    assert liked["status"]["id"] == photo["id"]
    await bea.post(f"/api/v1/statuses/{photo['id']}/unfavourite")
    await bea.post(f"/api/v1/statuses/{photo['id']}/favourite")
    await _settle()
    assert [n["id"] for n in await _notifications(ana)] == [liked["id"]]


async def test_no_notification_for_ones_own_actions(make_user):
    ana = await make_user("ana")
    photo = await _post(ana, "me @ana")
    await ana.post(f"/api/v1/statuses/{photo['id']}/favourite")
    await _post(ana, "replying to myself", in_reply_to_id=photo["id"])
    await _settle()
    assert await _notifications(ana) == []


async def test_follow_and_follow_request_notify(make_user):
    ana, bea = await make_user("ana"), await make_user("bea", locked=True)
    cem = await make_user("cem")
    await cem.post(f"/api/v1/accounts/{ana.account_id}/follow")
    await cem.post(f"/api/v1/accounts/{bea.account_id}/follow")
    [followed] = await _wait_for(ana, 1)
    assert followed["type"] == "follow" and followed["account"]["username"] == "cem"
    [requested] = await _wait_for(bea, 1)
    assert requested["type"] == "follow_request"
    await bea.post(f"/api/v1/follow_requests/{cem.account_id}/authorize")

    async def request_gone():
        return not any(n["type"] == "follow_request" for n in await _notifications(bea))

    await wait_until(request_gone)


async def test_mentions_and_comments_notify_as_mentions(make_user):
    ana, bea, cem = await make_user("ana"), await make_user("bea"), await make_user("cem")
    photo = await _post(ana, "my photo")
    await _post(bea, "lovely!", in_reply_to_id=photo["id"])  # a comment, no @mention
    await _post(bea, "look @cem")
    [comment] = await _wait_for(ana, 1)
    assert comment["type"] == "mention"
    assert comment["status"]["in_reply_to_id"] == photo["id"]
    [mention] = await _wait_for(cem, 1)
    assert mention["type"] == "mention" and mention["status"]["content"].startswith("<p>look")


async def test_a_boost_notifies_the_author(make_user):
    ana, bea = await make_user("ana"), await make_user("bea")
    photo = await _post(ana, "boost me")
    await bea.post(f"/api/v1/statuses/{photo['id']}/reblog")
    [boosted] = await _wait_for(ana, 1)
    assert boosted["type"] == "reblog" and boosted["status"]["id"] == photo["id"]


async def test_subscribed_followers_hear_of_new_posts(make_user):
    ana, bea = await make_user("ana"), await make_user("bea")
    await bea.post(f"/api/v1/accounts/{ana.account_id}/follow", data={"notify": "true"})
    post = await _post(ana, "new photo out")
    [status] = await _wait_for(bea, 1, types=["status"])
    assert status["status"]["id"] == post["id"]


async def test_an_edit_notifies_those_who_liked_or_boosted(make_user):
    ana, bea = await make_user("ana"), await make_user("bea")
    photo = await _post(ana, "first caption")
    await bea.post(f"/api/v1/statuses/{photo['id']}/favourite")
    await _wait_for(ana, 1)
    response = await ana.client.put(f"/api/v1/statuses/{photo['id']}", data={"status": "better"})
    assert response.status_code == 200, response.text
    [update] = await _wait_for(bea, 1, types=["update"])
    assert update["status"]["content"] == "<p>better</p>"


async def test_blocked_and_muted_accounts_do_not_notify(make_user):
    ana, bea, cem = await make_user("ana"), await make_user("bea"), await make_user("cem")
    dan = await make_user("dan")
    photo = await _post(ana, "quiet please")
    await ana.post(f"/api/v1/accounts/{bea.account_id}/block")
    await ana.post(f"/api/v1/accounts/{cem.account_id}/mute", data={"notifications": "true"})
    await ana.post(f"/api/v1/accounts/{dan.account_id}/mute", data={"notifications": "false"})
    await cem.post(f"/api/v1/statuses/{photo['id']}/favourite")
    await cem.post(f"/api/v1/accounts/{ana.account_id}/follow")
    await dan.post(f"/api/v1/statuses/{photo['id']}/favourite")
    await bea.post(f"/api/v1/accounts/{ana.account_id}/follow")  # refused: blocked
    [from_dan] = await _wait_for(ana, 1)
    await _settle()
    assert [n["account"]["username"] for n in await _notifications(ana)] == ["dan"]
    assert from_dan["type"] == "favourite"


async def test_a_later_block_hides_earlier_notifications(make_user):
    ana, bea = await make_user("ana"), await make_user("bea")
    photo = await _post(ana, "hello")
    await bea.post(f"/api/v1/statuses/{photo['id']}/favourite")
    await _wait_for(ana, 1)
    await ana.post(f"/api/v1/accounts/{bea.account_id}/block")
    assert await _notifications(ana) == []


async def test_dismiss_and_clear(make_user):
    ana, bea, cem = await make_user("ana"), await make_user("bea"), await make_user("cem")
    photo = await _post(ana, "dismiss me")
    await bea.post(f"/api/v1/statuses/{photo['id']}/favourite")
    await cem.post(f"/api/v1/statuses/{photo['id']}/favourite")
    await bea.post(f"/api/v1/accounts/{ana.account_id}/follow")
    found = await _wait_for(ana, 3)
    first = found[0]["id"]
    assert (await ana.get(f"/api/v1/notifications/{first}")).json()["id"] == first
    dismissed = await ana.post(f"/api/v1/notifications/{first}/dismiss")
    assert dismissed.status_code == 200
    assert (await ana.get(f"/api/v1/notifications/{first}")).status_code == 404
    assert first not in [n["id"] for n in await _notifications(ana)]
    assert (await bea.post(f"/api/v1/notifications/{found[1]['id']}/dismiss")).status_code == 404
    assert (await ana.post("/api/v1/notifications/clear")).status_code == 200
    assert await _notifications(ana) == []


async def test_filters_and_pagination(make_user):
    ana = await make_user("ana")
    photo = await _post(ana, "popular")
    fans = [await make_user(f"fan{i}") for i in range(3)]
    for fan in fans:
        await fan.post(f"/api/v1/statuses/{photo['id']}/favourite")
    await fans[0].post(f"/api/v1/accounts/{ana.account_id}/follow")
    everything = await _wait_for(ana, 4)
    assert [n["type"] for n in await _notifications(ana, types=["follow"])] == ["follow"]
    assert len(await _notifications(ana, **{"exclude_types[]": "follow"})) == 3
    from_fan = await _notifications(ana, account_id=fans[1].account_id)
    assert [n["account"]["username"] for n in from_fan] == ["fan1"]
    first_page = await ana.get("/api/v1/notifications", params={"limit": 2})
    assert [n["id"] for n in first_page.json()] == [n["id"] for n in everything[:2]]
    assert 'rel="next"' in first_page.headers["link"]
    older = await ana.get(
        "/api/v1/notifications", params={"limit": 2, "max_id": everything[1]["id"]}
    )
    assert [n["id"] for n in older.json()] == [n["id"] for n in everything[2:4]]
    newer = await ana.get("/api/v1/notifications", params={"min_id": everything[2]["id"]})
    assert [n["id"] for n in newer.json()] == [n["id"] for n in everything[:2]]


async def test_unread_count_follows_the_notifications_marker(make_user):
    ana, bea, cem = await make_user("ana"), await make_user("bea"), await make_user("cem")
    photo = await _post(ana, "count me")
    await bea.post(f"/api/v1/statuses/{photo['id']}/favourite")
    found = await _wait_for(ana, 1)
    count = await ana.get("/api/v1/notifications/unread_count")
    assert count.json() == {"count": 1}
    await ana.post("/api/v1/markers", data={"notifications[last_read_id]": found[0]["id"]})
    assert (await ana.get("/api/v1/notifications/unread_count")).json() == {"count": 0}
    await cem.post(f"/api/v1/statuses/{photo['id']}/favourite")
    await _wait_for(ana, 2)
    assert (await ana.get("/api/v1/notifications/unread_count")).json() == {"count": 1}


async def test_grouped_notifications_gather_likes_of_one_post(make_user):
    ana = await make_user("ana")
    photo = await _post(ana, "the one everyone liked")
    other = await _post(ana, "another")
    fans = [await make_user(f"fan{i}") for i in range(4)]
    for fan in fans:
        await fan.post(f"/api/v1/statuses/{photo['id']}/favourite")
    await fans[0].post(f"/api/v1/statuses/{other['id']}/favourite")
    await _post(fans[1], "hey @ana")
    await _wait_for(ana, 6)
    response = await ana.get("/api/v2/notifications")
    assert response.status_code == 200, response.text
    body = response.json()
    groups = body["notification_groups"]
    assert [g["type"] for g in groups] == ["mention", "favourite", "favourite"]
    mention, other_likes, likes = groups
    assert likes["notifications_count"] == 4 and likes["status_id"] == photo["id"]
    assert likes["sample_account_ids"] == [f.account_id for f in reversed(fans)]
    assert other_likes["notifications_count"] == 1
    assert mention["group_key"].startswith("ungrouped-")
    assert {a["id"] for a in body["accounts"]} >= {f.account_id for f in fans}
    assert {s["id"] for s in body["statuses"]} >= {photo["id"], other["id"]}
    one = (await ana.get(f"/api/v2/notifications/{likes['group_key']}")).json()
    assert one["notification_groups"][0]["notifications_count"] == 4
    who = (await ana.get(f"/api/v2/notifications/{likes['group_key']}/accounts")).json()
    assert [a["username"] for a in who] == ["fan3", "fan2", "fan1", "fan0"]
    paged = (await ana.get("/api/v2/notifications", params={"limit": 1})).json()
    assert [g["group_key"] for g in paged["notification_groups"]] == [mention["group_key"]]
    ungrouped = (
        await ana.get("/api/v2/notifications", params={"grouped_types[]": "follow"})
    ).json()
    assert len(ungrouped["notification_groups"]) == 6
    assert (await ana.get("/api/v2/notifications/unread_count")).json() == {"count": 3}
    gone = await ana.post(f"/api/v2/notifications/{likes['group_key']}/dismiss")
    assert gone.status_code == 200
    left = (await ana.get("/api/v2/notifications")).json()["notification_groups"]
    assert [g["type"] for g in left] == ["mention", "favourite"]


async def test_moderators_hear_of_sign_ups_and_reports(make_user):
    mod = await make_user("moira")
    await accounts.set_role("moira", "moderator")
    newcomer = await make_user("newcomer")
    [signed_up] = await _wait_for(mod, 1, types=["admin.sign_up"])
    assert signed_up["account"]["username"] == "newcomer"
    reporter = await make_user("reporter")
    response = await reporter.post(
        "/api/v1/reports", data={"account_id": newcomer.account_id, "comment": "spam"}
    )
    assert response.status_code == 200, response.text
    [reported] = await _wait_for(mod, 1, types=["admin.report"])
    assert reported["account"]["username"] == "reporter"
    assert reported["report"]["target_account"]["username"] == "newcomer"
    regular = await make_user("regular")
    await _settle()
    assert await _notifications(regular) == []


async def test_notifications_need_a_token_with_the_scope(http, make_user):
    assert (await http.get("/api/v1/notifications")).status_code == 401
    assert (await http.get("/api/v2/notifications")).status_code == 401
