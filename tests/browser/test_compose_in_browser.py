"""Composing in a real browser: caption with live count, content warning, visibility; the post
then shows on its page, the profile grid and its hashtag page."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, PHONE, screenshot, sign_up
from tests.browser.conftest import sign_in as sign_in_as
from tests.rig import wait_until

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


async def test_an_empty_post_cannot_be_shared(new_page, make_user) -> None:
    page = await new_page(DESKTOP)
    await sign_up(page, "jon")
    await page.goto("/compose")
    share = page.get_by_role("button", name="Share")
    assert await share.is_disabled()
    await page.get_by_label("Caption").fill("something")
    assert await share.is_enabled()
    # Without scripts the server says what is wrong.
    await make_user("kim")
    plain = await new_page(DESKTOP, javascript=False)
    await sign_in_as(plain, "kim")
    await plain.goto("/compose")
    await plain.get_by_role("button", name="Share").click()
    page = plain
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


def _jpeg(path, colour: tuple[int, int, int], size: tuple[int, int] = (1200, 1500)) -> str:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, colour)
    ImageDraw.Draw(image).ellipse([300, 400, 900, 1000], fill=(250, 240, 210))
    image.save(path, "JPEG", quality=85)
    return str(path)


async def test_album_upload_with_alt_text_reaches_feed_and_grid(
    new_page, make_user, tmp_path
) -> None:
    await make_user("olga")
    reader = await make_user("pia")
    olga_id = (await reader.get("/api/v1/accounts/lookup", params={"acct": "olga"})).json()["id"]
    await reader.post(f"/api/v1/accounts/{olga_id}/follow")
    photos = [
        _jpeg(tmp_path / "one.jpg", (200, 90, 60)),
        _jpeg(tmp_path / "two.jpg", (40, 120, 180)),
    ]

    page = await new_page(PHONE)
    await sign_in_as(page, "olga")
    await page.goto("/compose")
    # Slow the uploads down a little so the progress bars can be seen.
    await page.route(
        "**/compose/media",
        lambda route: route.continue_() if route.request.method != "POST" else _slowly(route),
    )
    await page.get_by_label("Add photos and videos").set_input_files(photos)
    tiles = page.locator(".tile")
    await tiles.nth(1).wait_for()
    await page.locator(".tile progress").first.wait_for()
    await screenshot(page, "compose-uploading-phone")
    await page.locator('.tile[data-state="ready"]').nth(1).wait_for(timeout=60_000)
    await page.get_by_label("Describe item 1 (alt text)").fill("A red sun")
    await page.get_by_label("Describe item 2 (alt text)").fill("A blue sun")
    # Put the blue one first.
    await tiles.nth(1).get_by_role("button", name="Move earlier").click()
    assert await page.get_by_label("Describe item 1 (alt text)").input_value() == "A blue sun"
    await page.get_by_label("Caption").fill("Two suns #album")
    await screenshot(page, "compose-ready-phone")
    await page.get_by_role("button", name="Share").click()
    await page.wait_for_url("**/@olga/*")
    post_id = page.url.rsplit("/", 1)[1]

    feed = await new_page(DESKTOP)
    await sign_in_as(feed, "pia")
    post = feed.locator(f"#post-{post_id}")
    images = post.locator(".album img")
    await images.first.wait_for()
    assert [await images.nth(i).get_attribute("alt") for i in range(2)] == [
        "A blue sun",
        "A red sun",
    ]
    assert "w," in await images.first.get_attribute("srcset")
    # A browser that shows WebP picks a WebP rendition over the JPEG fallback.
    await images.first.scroll_into_view_if_needed()
    chosen = await wait_until(lambda: images.first.evaluate("img => img.currentSrc"))
    assert chosen.endswith(".webp"), chosen
    await screenshot(feed, "feed-uploaded-album-desktop")
    await feed.goto("/@olga")
    await feed.get_by_role("link", name="Post by @olga: Two suns #album").wait_for()


async def _slowly(route) -> None:
    import asyncio

    await asyncio.sleep(0.4)
    await route.continue_()


async def test_photo_post_and_avatar_without_javascript(new_page, make_user, tmp_path) -> None:
    await make_user("quinn")
    page = await new_page(DESKTOP, javascript=False)
    await sign_in_as(page, "quinn")
    await page.goto("/settings/profile")
    await page.get_by_label("Profile picture").set_input_files(
        _jpeg(tmp_path / "me.jpg", (90, 160, 90), (800, 800))
    )
    await page.get_by_role("button", name="Save").click()
    await page.get_by_text("Profile saved.").wait_for()
    avatar = await page.get_by_role("img", name="Your current profile picture").get_attribute("src")
    assert "/static/avatar.png" not in avatar

    await page.goto("/compose")
    await page.get_by_label("Add photos and videos").set_input_files(
        [_jpeg(tmp_path / "a.jpg", (180, 60, 60))]
    )
    await page.get_by_label("Descriptions of your photos").fill("A sun on red")
    await page.get_by_label("Caption").fill("Posted without scripts")
    await page.get_by_role("button", name="Share").click()
    await page.wait_for_url("**/@quinn/*")
    image = page.locator(".album img").first
    assert await image.get_attribute("alt") == "A sun on red"


async def test_author_edits_and_deletes_a_post(new_page, make_user) -> None:
    tess = await make_user("tess")
    created = await tess.post("/api/v1/statuses", data={"status": "First draft"})
    post_id = created.json()["id"]
    page = await new_page(DESKTOP)
    await sign_in_as(page, "tess")
    await page.goto(f"/@tess/{post_id}")
    await page.get_by_role("link", name="Edit").click()
    await page.get_by_label("Caption").fill("Second thoughts #edited")
    await page.get_by_role("button", name="Save").click()
    await page.get_by_text("Post updated.").wait_for()
    await page.locator(".thread").get_by_text("Second thoughts").wait_for()
    await page.locator(".thread").get_by_text("Edited", exact=True).wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Delete").click()
    await page.wait_for_url("**/@tess")
    await page.get_by_text("Post deleted.").wait_for()
    assert (await page.request.get(f"/@tess/{post_id}")).status == 404
