"""Rendering pages: the Jinja environment, the context every page gets, redirects and flashes."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from functools import lru_cache
from html import unescape
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig
from markupsafe import Markup, escape

from node import notifications
from node.captions import normalize_tag
from node.sanitize import sanitize_html
from node.settings import get_settings
from web.csrf import BROWSER_COOKIE, expected_token, new_browser_id
from web.presenters import media_item
from web.sessions import current_session

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
FLASH_COOKIE = "pinhole_flash"
DEFAULT_AVATAR = "/static/avatar.png"
DEFAULT_HEADER = "/static/header.png"


def _asset_version() -> str:
    """A short hash of our CSS and JS, appended to their URLs so browsers refetch on change."""
    digest = hashlib.sha256()
    for name in ("app.css", "app.js", "icons.svg"):
        path = STATIC_DIR / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


ASSET_VERSION = _asset_version()


def time_ago(value: datetime | None) -> str:
    """`5m`, `3h`, `2d`, `Mar 4`: the compact relative time photo apps show."""
    if value is None:
        return ""
    seconds = int((datetime.now(UTC) - value).total_seconds())
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    if seconds < 7 * 86400:
        return f"{seconds // 86400}d"
    if value.year == datetime.now(UTC).year:
        return value.strftime("%b %-d")
    return value.strftime("%b %-d, %Y")


def iso_time(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""


def compact_count(value: int | None) -> str:
    """1234 -> 1.2K, 1200000 -> 1.2M."""
    n = value or 0
    if n < 10_000:
        return f"{n:,}"
    if n < 1_000_000:
        return f"{n / 1000:.1f}".rstrip("0").rstrip(".") + "K"
    return f"{n / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"


@lru_cache(maxsize=8192)
def _sanitized(value: str) -> str:
    # Pure and slow-ish (an HTML parse): a page shows the same posts to many readers.
    return sanitize_html(value)


_HASHTAG_LINK = re.compile(
    r'<a href="[^"]*"([^>]*\bhashtag\b[^>]*)>#(<span>)?([^<]+)(</span>)?</a>'
)
_TARGET = re.compile(r'\s*target="_blank"')


def _local_hashtag(match: re.Match[str]) -> str:
    name = unescape(match.group(3))
    attributes = _TARGET.sub("", match.group(1))
    return (
        f'<a href="/tags/{quote(normalize_tag(name), safe="")}"{attributes}>'
        f"#{match.group(2) or ''}{match.group(3)}{match.group(4) or ''}</a>"
    )


def safe_content(value: str | None, mentions: list[Any] | None = None) -> Markup:
    """Stored HTML (post content, bios) through the whitelist sanitiser, then trusted.

    Hashtags link to this node's tag pages and mentions of accounts known here to their
    profiles here, so people browsing remote posts stay on their own node."""
    html = _HASHTAG_LINK.sub(_local_hashtag, _sanitized(value or ""))
    for account in mentions or ():
        for url in {account["url"], account["uri"]} - {""}:
            html = re.sub(
                f'href="{re.escape(str(escape(url)))}"([^>]*)>',
                lambda m, a=account: f'href="{profile_url(a)}"{_TARGET.sub("", m.group(1))}>',
                html,
            )
    return Markup(html)


# Small pieces every card repeats, as plain functions: much cheaper than Jinja macros.


def icon(name: str, label: str = "") -> Markup:
    labelled = f'role="img" aria-label="{escape(label)}"' if label else 'aria-hidden="true"'
    return Markup(
        f'<svg class="icon icon-{escape(name)}" {labelled} focusable="false">'
        f'<use href="/static/icons.svg?v={ASSET_VERSION}#i-{escape(name)}"></use></svg>'
    )


def account_acct(account: Any) -> str:
    return account["username"] + (f"@{account['domain']}" if account["domain"] else "")


def profile_url(account: Any) -> str:
    return "/@" + account_acct(account)


def avatar_url(account: Any) -> str:
    return account["avatar_url"] or DEFAULT_AVATAR


def avatar(account: Any, size: int = 32, cls: str = "") -> Markup:
    return Markup(
        f'<img class="avatar {escape(cls)}" src="{escape(avatar_url(account))}" alt="" '
        f'width="{int(size)}" height="{int(size)}" loading="lazy" decoding="async">'
    )


_LEADING_MENTIONS = re.compile(
    r'^<p>(?:\s*<span class="h-card">\s*<a [^>]*>@<span>[^<]*</span></a>\s*</span>)+\s*'
)


def message_content(value: str | None) -> Markup:
    """A direct message without the mentions that address it (the chat shows who it is with)."""
    return Markup(_LEADING_MENTIONS.sub("<p>", sanitize_html(value or "")))


def pluralize(count: int | None, singular: str, plural: str | None = None) -> str:
    return singular if count == 1 else (plural or singular + "s")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates change only with a deploy; skipping the mtime check saves a stat per render.
        auto_reload=False,
    )
    env.filters.update(
        time_ago=time_ago,
        iso_time=iso_time,
        compact=compact_count,
        safe_content=safe_content,
        message_content=message_content,
        media_items=lambda rows: [media_item(row) for row in rows],
        pluralize=pluralize,
        urlquote=lambda v: quote(str(v), safe=""),
    )
    env.globals["asset_version"] = ASSET_VERSION
    env.globals.update(
        icon=icon,
        acct=account_acct,
        profile_url=profile_url,
        avatar_url=avatar_url,
        avatar=avatar,
    )
    # The helpers and macros, reachable from every template (and its blocks) as `ui`.
    macros = env.get_template("partials/macros.html").module
    env.globals["ui"] = SimpleNamespace(
        icon=icon,
        acct=account_acct,
        profile_url=profile_url,
        avatar_url=avatar_url,
        avatar=avatar,
        nav_item=macros.nav_item,
        csrf_field=macros.csrf_field,
        field_error=macros.field_error,
        described=macros.described,
        account_row=macros.account_row,
    )
    return env


TEMPLATE_CONFIG = TemplateConfig(instance=JinjaTemplateEngine.from_environment(_environment()))


def safe_next(target: str | None, default: str = "/") -> str:
    """A redirect target on this site only (no `//evil.example`, no other host)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


async def page(
    request: Request,
    template: str,
    *,
    status: int = 200,
    title: str = "",
    **context: Any,
) -> Template:
    """A full page: the template with the viewer, CSRF token, flash message and site name."""
    session = await current_session(request)
    cookies: list[Cookie] = []
    if session is None and not request.cookies.get(BROWSER_COOKIE):
        browser_id = new_browser_id()
        request.state.new_browser_id = browser_id
        cookies.append(
            Cookie(
                key=BROWSER_COOKIE,
                value=browser_id,
                httponly=True,
                secure=get_settings().https,
                samesite="lax",
                path="/",
                max_age=365 * 24 * 3600,
            )
        )
    flash = unquote(request.cookies.get(FLASH_COOKIE, ""))
    if flash:
        cookies.append(Cookie(key=FLASH_COOKIE, value="", max_age=0, path="/"))
    settings = get_settings()
    unread = 0
    if session is not None:
        unread = getattr(request.state, "unread_notifications", None)
        if unread is None:
            unread = await notifications.unread_count(
                session.account_id, notifications.Filter(), limit=99
            )
    return Template(
        template_name=template,
        context={
            "viewer": session,
            "me": session.account if session else None,
            "csrf": await expected_token(request),
            "flash": flash[:200],
            "site_name": settings.site_name,
            "base_url": settings.base_url,
            "path": request.url.path,
            "title": title,
            "unread_notifications": unread,
            **context,
        },
        status_code=status,
        cookies=cookies,
        media_type="text/html",
    )


def redirect(target: str, *, flash: str = "") -> Redirect:
    """A 303 after a form post (so reload does not post again), with an optional notice."""
    cookies = []
    if flash:
        cookies.append(
            Cookie(
                key=FLASH_COOKIE,
                value=quote(flash),
                max_age=60,
                path="/",
                httponly=True,
                samesite="lax",
            )
        )
    return Redirect(target, status_code=303, cookies=cookies)


def wants_json(request: Request) -> bool:
    """Scripts ask for JSON; plain form posts get a redirect back to a page."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def wants_activity_json(request: Request) -> bool:
    """A peer (or a Mastodon search) fetching a page URL for its ActivityStreams document."""
    accept = request.headers.get("accept", "").lower()
    return (
        "application/activity+json" in accept or "application/ld+json" in accept
    ) and "text/html" not in accept


def json_response(data: dict[str, Any], status: int = 200) -> Response:
    return Response(data, status_code=status, media_type="application/json")
