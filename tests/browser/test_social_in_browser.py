"""Two people in two browsers: follow, see the post in the feed, like, comment, get notified,
and talk in direct messages that arrive live."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, PHONE, screenshot, sign_in

pytestmark = pytest.mark.browser


async def test_like_and_comment_from_a_follower_reach_the_author(new_page, make_user) -> None:
    alice = await make_user("alice")
    await make_user("bob")
    created = await alice.post("/api/v1/statuses", data={"status": "Morning fog over the #harbour"})
    assert created.status_code == 200, created.text
    post_id = created.json()["id"]

    bob = await new_page(PHONE)
    await sign_in(bob, "bob")
    await bob.goto("/@alice")
    await bob.get_by_role("button", name="Follow").click()
    await bob.get_by_role("button", name="Following, press to unfollow").wait_for()

    await bob.goto("/")
    post = bob.locator(f"#post-{post_id}")
    await post.get_by_text("Morning fog over the").wait_for()
    like = post.get_by_role("button", name="Like")
    assert await like.get_attribute("aria-pressed") == "false"
    await like.click()
    await post.locator('.like-button[aria-pressed="true"]').wait_for()
    await post.get_by_text("1 like", exact=True).wait_for()
    await post.get_by_label("Add a comment to the post by @alice").fill("Beautiful light!")
    await post.get_by_role("button", name="Post").click()
    await bob.wait_for_url(f"**/@alice/{post_id}#comment-*")
    await bob.locator(".thread").get_by_text("Beautiful light!").wait_for()
    await screenshot(bob, "post-page-phone")

    owner = await new_page(DESKTOP)
    await sign_in(owner, "alice")
    # Notifications are made by jobs: the badge and the page show them once they ran.
    await owner.goto("/notifications")
    for _ in range(40):
        if await owner.get_by_text("liked your post.").count():
            break
        await owner.wait_for_timeout(250)
        await owner.reload()
    await owner.get_by_text("liked your post.").wait_for()
    await owner.get_by_text("commented:").wait_for()
    await owner.get_by_text("started following you.").wait_for()
    await screenshot(owner, "notifications-desktop")
    await owner.goto(f"/@alice/{post_id}")
    await owner.locator("#likes").get_by_role("link", name="bob").wait_for()
    await owner.get_by_role("link", name="Edit").wait_for()


async def test_post_actions_work_without_javascript(new_page, make_user) -> None:
    carol = await make_user("carol")
    await make_user("dan")
    created = await carol.post("/api/v1/statuses", data={"status": "No scripts needed"})
    post_id = created.json()["id"]
    dan = await new_page(DESKTOP, javascript=False)
    await sign_in(dan, "dan")
    await dan.goto(f"/@carol/{post_id}")
    await dan.get_by_role("button", name="Like").click()
    await dan.wait_for_url(f"**/@carol/{post_id}")
    assert await dan.locator('.like-button[aria-pressed="true"]').count() == 1
    await dan.get_by_label("Add a comment").fill("Works fine")
    await dan.get_by_role("button", name="Post").click()
    await dan.locator(".thread").get_by_text("Works fine").wait_for()


async def test_direct_messages_arrive_live_with_typing_and_read_state(new_page, make_user) -> None:
    erin = await make_user("erin")
    frank = await make_user("frank")
    # Erin follows Frank, so his messages reach her chats rather than her requests.
    await erin.post(f"/api/v1/accounts/{frank.account_id}/follow")

    her = await new_page(DESKTOP)
    await sign_in(her, "erin")
    await her.goto("/messages")
    await her.wait_for_selector("[data-chat-live][data-live]")

    him = await new_page(PHONE)
    await sign_in(him, "frank")
    await him.goto("/messages/new?to=erin")
    await him.get_by_role("textbox", name="Message").fill("Are you at the gallery?")
    await him.get_by_role("button", name="Send").click()
    await him.wait_for_url("**/messages/*")
    conversation_url = him.url
    await him.locator(".bubble.mine").get_by_text("Are you at the gallery?").wait_for()
    await him.wait_for_selector("[data-chat-live][data-live]")

    # Without reloading, Erin's list shows the new conversation.
    entry = her.locator("[data-conversation-list] a").first
    await entry.wait_for()
    await entry.click()
    await her.locator(".bubble").get_by_text("Are you at the gallery?").wait_for()
    await her.wait_for_selector("[data-chat-live][data-live]")

    # Frank sees that Erin read it, then that she is typing, then her answer.
    await him.get_by_text("Seen").wait_for()
    await her.get_by_role("textbox", name="Message").press_sequentially("Yes, by the")
    await him.locator("[data-typing]").get_by_text("Typing…").wait_for()
    await her.get_by_role("textbox", name="Message").press_sequentially(" window")
    await her.get_by_role("button", name="Send").click()
    await him.locator(".bubble:not(.mine)").get_by_text("Yes, by the window").wait_for()
    assert him.url == conversation_url
    await screenshot(him, "chat-phone")
    await screenshot(her, "chat-desktop")


async def test_home_feed_loads_older_posts_as_you_scroll(new_page, make_user) -> None:
    ruth = await make_user("ruth")
    sam = await make_user("sam")
    await sam.post(f"/api/v1/accounts/{ruth.account_id}/follow")
    for n in range(25):
        response = await ruth.post("/api/v1/statuses", data={"status": f"Frame {n:02d}"})
        assert response.status_code == 200, response.text

    page = await new_page(PHONE)
    await sign_in(page, "sam")
    posts = page.locator("article.post")
    assert await posts.count() == 20
    await page.get_by_text("Frame 05", exact=True).wait_for(state="attached")
    await page.locator("article.post").last.scroll_into_view_if_needed()
    await page.mouse.wheel(0, 20000)
    await page.get_by_text("Frame 00", exact=True).wait_for()
    assert await posts.count() == 25
    # The older page's posts are enhanced too: their like buttons work in place.
    oldest = page.locator("article.post").last
    await oldest.get_by_role("button", name="Like").click()
    await oldest.locator('.like-button[aria-pressed="true"]').wait_for()
