"""Accounts in a real browser: sign up, sign out, sign in, password change, profiles, follows."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, PHONE, screenshot, sign_in, sign_up

pytestmark = pytest.mark.browser


async def test_person_signs_up_signs_out_and_signs_in_again(new_page) -> None:
    page = await new_page(PHONE)
    await page.goto("/auth/sign_up")
    await screenshot(page, "sign-up-phone")
    await sign_up(page, "alice")
    await page.get_by_role("heading", name="Welcome to pinhole").wait_for()
    await screenshot(page, "home-empty-phone")

    await page.goto("/settings/profile")
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/auth/sign_in")
    await page.get_by_text("You have signed out.").wait_for()
    await page.goto("/settings/profile")
    assert "/auth/sign_in?next=" in page.url

    await page.get_by_label("Username or email").fill("alice")
    await page.get_by_label("Password").fill("wrong password")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("alert").get_by_text("Wrong username, email or password.").wait_for()

    # The failed attempt kept where the person was going.
    await page.get_by_label("Username or email").fill("alice@example.com")
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/settings/profile")
    await page.get_by_role("heading", name="Edit profile").wait_for()


async def test_sign_up_form_names_the_field_that_is_wrong(new_page) -> None:
    page = await new_page(DESKTOP)
    await sign_up(page, "taken")
    await page.context.clear_cookies()
    await page.goto("/auth/sign_up")
    await page.get_by_label("Username").fill("taken")
    await page.get_by_label("Email").fill("other@example.com")
    await page.get_by_label("Password", exact=True).fill("correct horse battery")
    await page.get_by_label("Confirm password").fill("correct horse battery")
    await page.get_by_label("I agree to the server rules").check()
    await page.get_by_role("button", name="Sign up").click()
    error = page.locator("#username-error")
    await error.wait_for()
    assert "has already been taken" in await error.inner_text()
    assert await page.get_by_label("Username").get_attribute("aria-invalid") == "true"
    assert await page.get_by_label("Email").input_value() == "other@example.com"


async def test_password_change_signs_out_other_browsers(new_page) -> None:
    first = await new_page(DESKTOP)
    await sign_up(first, "carol")
    second = await new_page(DESKTOP)
    await sign_in(second, "carol")

    await first.goto("/settings/password")
    await first.get_by_label("Current password").fill("correct horse battery")
    await first.get_by_label("New password", exact=True).fill("a brand new secret")
    await first.get_by_label("Confirm new password").fill("a brand new secret")
    await first.get_by_role("button", name="Change password").click()
    await first.get_by_text("Password changed.").wait_for()

    await second.goto("/settings/profile")
    assert "/auth/sign_in" in second.url
    await sign_in(second, "carol", "a brand new secret")
    await second.goto("/settings/sessions")
    rows = second.locator("table.settings-table").first.locator("tbody tr")
    assert await rows.count() == 2


async def test_profile_edit_shows_on_the_profile_with_follow_buttons_for_others(new_page) -> None:
    dana = await new_page(DESKTOP)
    await sign_up(dana, "dana")
    await dana.goto("/settings/profile")
    await dana.get_by_label("Name").fill("Dana <b>Photos</b>")
    await dana.get_by_label("Bio").fill("Film and #streetphotography")
    await dana.get_by_role("button", name="Save").click()
    await dana.get_by_text("Profile saved.").wait_for()
    await dana.goto("/@dana")
    # Typed markup is shown as text, never interpreted.
    await dana.get_by_text("Dana <b>Photos</b>").wait_for()
    await dana.get_by_role("link", name="Edit profile").wait_for()
    await screenshot(dana, "profile-own-desktop")

    erin = await new_page(PHONE)
    await sign_up(erin, "erin")
    await erin.goto("/@dana")
    await erin.get_by_role("button", name="Follow").click()
    await erin.get_by_role("button", name="Following, press to unfollow").wait_for()
    followers = erin.get_by_role("link", name="1 follower")
    await followers.wait_for()
    await screenshot(erin, "profile-other-phone")
    await followers.click()
    await erin.get_by_role("link", name="erin").wait_for()


async def test_private_profile_hides_posts_until_the_request_is_approved(new_page) -> None:
    owner = await new_page(DESKTOP)
    await sign_up(owner, "fern")
    await owner.goto("/settings/privacy")
    await owner.get_by_label("Private account").check()
    await owner.get_by_role("button", name="Save").click()
    await owner.get_by_text("Privacy settings saved.").wait_for()

    visitor = await new_page(PHONE)
    await sign_up(visitor, "gus")
    await visitor.goto("/@fern")
    await visitor.get_by_role("heading", name="This account is private").wait_for()
    await visitor.get_by_role("button", name="Follow").click()
    await visitor.get_by_role("button", name="Requested, press to withdraw the request").wait_for()

    await owner.goto("/settings/privacy")
    await owner.get_by_role("button", name="Approve @gus").click()
    await owner.wait_for_url("**/settings/privacy")
    await visitor.goto("/@fern")
    await visitor.get_by_role("button", name="Following, press to unfollow").wait_for()
    assert await visitor.get_by_role("heading", name="This account is private").count() == 0


async def test_keyboard_reaches_everything_with_a_visible_focus_in_both_themes(new_page) -> None:
    page = await new_page(DESKTOP, dark=True)
    await sign_up(page, "hugo")
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert await skip.evaluate("element => element === document.activeElement")
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"
    # Tab order walks the main navigation; the focused link shows an outline.
    await page.goto("/@hugo")
    for _ in range(3):
        await page.keyboard.press("Tab")
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(0, 0, 0)"  # the dark theme follows the system setting
    await screenshot(page, "profile-dark-desktop")
    # Every form control has a label.
    for path in ("/settings/profile", "/settings/privacy", "/settings/password", "/search"):
        await page.goto(path)
        unlabelled = await page.evaluate(
            """[...document.querySelectorAll('input:not([type=hidden]), textarea, select')]
                 .filter(el => !el.labels.length && !el.getAttribute('aria-label'))
                 .map(el => el.name)"""
        )
        assert unlabelled == [], (path, unlabelled)


async def test_oauth_consent_page_uses_the_site_style(new_page, http) -> None:
    app = (
        await http.post(
            "/api/v1/apps",
            data={
                "client_name": "Photo Roll",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write",
            },
        )
    ).json()
    page = await new_page(PHONE)
    await page.goto(
        f"/oauth/authorize?client_id={app['client_id']}&redirect_uri=urn:ietf:wg:oauth:2.0:oob"
        "&response_type=code&scope=read+write"
    )
    await page.get_by_role("heading", name="Authorize Photo Roll").wait_for()
    await page.get_by_label("Username or email").wait_for()
    radius = await page.evaluate(
        "getComputedStyle(document.querySelector('.auth-card')).borderRadius"
    )
    assert radius == "12px"  # the site stylesheet is applied
    await screenshot(page, "oauth-consent-phone")
