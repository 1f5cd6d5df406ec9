"""Composing in a real browser: caption with live count, content warning, visibility; the post
then shows on its page, the profile grid and its hashtag page."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, PHONE, screenshot, sign_up
from tests.browser.conftest import sign_in as sign_in_as

pytestmark = pytest.mark.browser


async def test_caption_post_shows_on_its_page_profile_and_hashtag(new_page) -> None:
    page = await new_page(PHONE)
    await sign_up(page, "ines")
    await page.goto("/compose")
    caption = page.get_by_label("Caption")
    await caption.fill("Harbour at dawn #bluehour")
    await page.get_by_text("25 / 2,200").wait_for()
    await page.get_by_label("Everyone", exact=True).check()
    await screenshot(page, "compose-phone")
    await page.get_by_role("button", name="Share").click()
    await page.wait_for_url("**/@ines/*")
    await page.get_by_text("Shared.").wait_for()
    await page.locator(".thread").get_by_text("Harbour at dawn").wait_for()

    await page.locator(".thread").get_by_role("link", name="#bluehour").click()
    await page.wait_for_url("**/tags/bluehour")
    await page.get_by_role("heading", name="#bluehour").wait_for()
    await page.get_by_role("link", name="Post by @ines: Harbour at dawn #bluehour").wait_for()

    desktop = await new_page(DESKTOP)
    await desktop.goto("/@ines")
    await desktop.get_by_role("link", name="Post by @ines: Harbour at dawn #bluehour").wait_for()
    assert await desktop.get_by_text("1 post", exact=True).count() == 1


async def test_an_empty_post_is_refused_with_a_message(new_page) -> None:
    page = await new_page(DESKTOP)
    await sign_up(page, "jon")
    await page.goto("/compose")
    await page.get_by_role("button", name="Share").click()
    await page.get_by_role("alert").wait_for()
    assert "blank" in await page.get_by_role("alert").inner_text()


async def test_search_finds_people_tags_and_posts(new_page, make_user) -> None:
    mira = await make_user("mira")
    await mira.client.patch(
        "/api/v1/accounts/update_credentials", data={"display_name": "Mira Lighthouse"}
    )
    await mira.post("/api/v1/statuses", data={"status": "Lighthouse keeper diaries #lighthouse"})
    await make_user("nils")

    page = await new_page(PHONE)
    await page.goto("/search?q=lighthouse")
    await page.get_by_role("heading", name="People").wait_for()
    await page.get_by_role("link", name="mira Mira Lighthouse").wait_for()
    await page.get_by_role("link", name="#lighthouse").wait_for()
    # Posts are searched for signed-in people only, as on Mastodon.
    await page.get_by_role("link", name="Sign in").first.wait_for()

    await sign_in_as(page, "nils")
    await page.goto("/explore")
    await page.get_by_label("Search people, tags and posts").fill("lighthouse")
    await page.get_by_label("Search people, tags and posts").press("Enter")
    await page.wait_for_url("**/search?q=lighthouse")
    await page.get_by_role("heading", name="Posts").wait_for()
    await page.get_by_role(
        "link", name="Post by @mira: Lighthouse keeper diaries #lighthouse"
    ).wait_for()
    await screenshot(page, "search-phone")
