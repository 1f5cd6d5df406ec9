"""Albums in a real browser: the carousel (arrows, dots, keyboard), alt text, sizes for phones,
blurhash placeholders, double-tap to like, and the profile grid."""

from __future__ import annotations

import base64
import io
import json

import blurhash
import pytest
from PIL import Image, ImageDraw

from node import db
from node.ids import new_id
from tests.browser.conftest import DESKTOP, PHONE, screenshot, sign_in

pytestmark = pytest.mark.browser

COLOURS = [
    ((235, 120, 70), (60, 40, 120)),
    ((40, 150, 190), (250, 230, 160)),
    ((30, 90, 60), (200, 220, 120)),
]


def _picture(n: int, width: int, height: int) -> Image.Image:
    top, bottom = COLOURS[n % len(COLOURS)]
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    draw.ellipse([width * 0.3, height * 0.25, width * 0.7, height * 0.55], fill=(255, 245, 220))
    return image


def _data_url(image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


async def album(owner, count: int) -> list[str]:
    """Processed photos of `owner` as the media service leaves them (setup data only); their
    renditions are inline images so the page can show them without the media service."""
    ids = []
    for n in range(count):
        media_id = new_id()
        large = _picture(n, 1080, 1350)
        renditions = {
            name: {"url": _data_url(large.resize((w, h))), "width": w, "height": h}
            for name, w, h in (("large", 1080, 1350), ("small", 640, 800), ("thumbnail", 320, 320))
        }
        await db.execute(
            """INSERT INTO media_attachments (id, account_id, type, state, description,
                   renditions, blurhash, width, height)
               VALUES ($1, $2, 'image', 'ready', $3, $4::jsonb, $5, 1080, 1350)""",
            media_id,
            int(owner.account_id),
            f"Photo {n + 1}: a sun over a gradient sky",
            json.dumps(renditions),
            blurhash.encode(large.resize((64, 80)), 4, 3),
        )
        ids.append(str(media_id))
    return ids


async def test_album_carousel_in_the_feed_and_on_the_profile(new_page, make_user) -> None:
    kai = await make_user("kai")
    lea = await make_user("lea")
    await lea.post(f"/api/v1/accounts/{kai.account_id}/follow")
    media = await album(kai, 3)
    created = await kai.post(
        "/api/v1/statuses",
        data={"status": "Three suns #gradients", "media_ids[]": media},
    )
    assert created.status_code == 200, created.text
    post_id = created.json()["id"]

    page = await new_page(PHONE)
    await sign_in(page, "lea")
    post = page.locator(f"#post-{post_id}")
    region = post.get_by_role("region", name="Album of 3")
    await region.wait_for()
    images = region.locator("img")
    assert await images.count() == 3
    for i in range(3):
        image = images.nth(i)
        assert await image.get_attribute("alt") == f"Photo {i + 1}: a sun over a gradient sky"
        assert (await image.get_attribute("width"), await image.get_attribute("height")) == (
            "1080",
            "1350",
        )
        assert "640w" in await image.get_attribute("srcset")
    assert await images.nth(1).get_attribute("loading") == "lazy"
    # The placeholder was painted from the blurhash before the photo arrived.
    painted = await post.locator(".media-frame").first.evaluate(
        "frame => frame.dataset.painted || (frame.querySelector('img').complete ? 'loaded' : '')"
    )
    assert painted
    dots = post.locator(".album-dots span")
    assert await dots.nth(0).get_attribute("aria-current") == "true"
    await post.get_by_role("button", name="Next photo").click()
    await post.locator(".album-dots span:nth-child(2)[aria-current='true']").wait_for()
    await post.get_by_text("2/3").wait_for()
    await screenshot(page, "feed-album-phone")
    # Arrow keys browse the album too.
    await post.locator(".album-track").focus()
    await page.keyboard.press("ArrowRight")
    await post.locator(".album-dots span:nth-child(3)[aria-current='true']").wait_for()
    assert await post.locator(".album-next").is_disabled()

    # Double-tap (double-click) the photo to like it.
    await post.locator(".album").dblclick()
    await post.locator('.like-button[aria-pressed="true"]').wait_for()
    await post.get_by_text("1 like", exact=True).wait_for()

    desktop = await new_page(DESKTOP)
    await sign_in(desktop, "lea")
    await desktop.goto("/@kai")
    cell = desktop.get_by_role("link", name="Post by @kai: Three suns #gradients")
    await cell.wait_for()
    await cell.get_by_role("img", name="Album").wait_for()
    await screenshot(desktop, "profile-grid-desktop")
    await cell.click()
    await desktop.wait_for_url(f"**/@kai/{post_id}")
    await desktop.get_by_text("Image descriptions").click()
    await desktop.get_by_text("Photo 3: a sun over a gradient sky").wait_for()
    og_image = await desktop.locator('meta[property="og:image"]').get_attribute("content")
    assert og_image.startswith("data:image/jpeg")
    await screenshot(desktop, "post-album-desktop")
