"""Browser fixtures: the system Chromium driven by Playwright (installed with apt when missing),
one browser per session, a fresh context per person, screenshots under test-artifacts/."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.rig import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1366, "height": 900}


def ensure_chromium() -> str:
    """The system Chromium; a fresh machine gets it from the distribution's packages (never
    `playwright install`, which downloads its own build)."""
    if not Path(CHROMIUM).exists():
        apt = shutil.which("apt-get")
        if apt is None:
            raise RuntimeError(f"{CHROMIUM} is missing and apt-get is not available")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([apt, "update"], check=False, env=env, capture_output=True)
        subprocess.run([apt, "install", "-y", "chromium"], check=True, env=env, capture_output=True)
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = ensure_chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def new_page(browser: Browser, node) -> AsyncIterator[Callable[..., Awaitable[Page]]]:
    """Pages in contexts of their own (one per person), closed after the test. Errors in our
    scripts fail the test."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    async def make(
        viewport: dict[str, int] | None = None, *, javascript: bool = True, dark: bool = False
    ) -> Page:
        context = await browser.new_context(
            base_url=node.url,
            viewport=viewport or DESKTOP,
            java_script_enabled=javascript,
            color_scheme="dark" if dark else "light",
            reduced_motion="reduce",
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda message: (
                errors.append(message.text)
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )
        return page

    yield make
    for context in contexts:
        await context.close()
    assert not errors, f"errors in the page: {errors}"


async def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    """Save a screenshot as a test artifact (test-artifacts/browser/NAME.png)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path


async def sign_up(page: Page, username: str, password: str = "correct horse battery") -> None:
    await page.goto("/auth/sign_up")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Email").fill(f"{username}@example.com")
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_label("Confirm password").fill(password)
    await page.get_by_label("I agree to the server rules").check()
    await page.get_by_role("button", name="Sign up").click()
    await page.wait_for_url("**/?welcome=1")


async def sign_in(page: Page, login: str, password: str = "correct horse battery") -> None:
    await page.goto("/auth/sign_in")
    await page.get_by_label("Username or email").fill(login)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(lambda url: "/auth/sign_in" not in url)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call" and report.failed and "node" in item.fixturenames:
        # The node's log is where a failed page or job says why.
        node = item.funcargs["node"]
        report.sections.append(("node log", node.log()))
    return report
