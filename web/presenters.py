"""Domain rows to what templates show: post cards, album items with their image sizes, comments."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any

from asyncpg import Record

from node.post_views import PostView
from node.settings import get_settings

VIDEO_KINDS = ("video", "gifv")
_TAGS_RE = re.compile(r"<[^>]+>")
_BREAKS_RE = re.compile(r"<br\s*/?>|</p>\s*<p>", re.IGNORECASE)

# Album shapes, as Instagram crops them: the first item's aspect picks one for the whole album
# (as classes, because the CSP allows no inline styles).
RATIOS = (("portrait", 0.8), ("square", 1.0), ("classic", 4 / 3), ("landscape", 1.91))


# What a browser without WebP can show in place of our WebP renditions.
_EVERY_BROWSER_TYPES = ("image/jpeg", "image/png")


@dataclass(frozen=True)
class Rendition:
    url: str
    width: int
    height: int
    mime: str = ""


@dataclass(frozen=True)
class MediaItem:
    id: int
    kind: str
    alt: str
    width: int
    height: int
    src: str  # the <img src>: the large rendition (or the only one there is)
    srcset: str  # "small 640w, large 1080w" so phones fetch the small one
    thumbnail: str  # the square thumbnail, for grids
    grid_srcset: str  # thumbnail and small, for grid cells on dense screens
    # For browsers without WebP (in a <picture>): the JPEG copies of small and thumbnail, and
    # the large JPEG or else the original (a JPEG or PNG). Empty when src is no WebP.
    fallback_src: str
    fallback_srcset: str
    grid_fallback: str
    grid_fallback_srcset: str
    video: str  # playable file for videos and GIFs
    blurhash: str
    ready: bool

    @property
    def is_video(self) -> bool:
        return self.kind in VIDEO_KINDS


@dataclass(frozen=True)
class PostCard:
    """A post as the feed, grids and the post page show it."""

    view: PostView  # the post itself (for a boost: the boosted post)
    boosted_by: Record | None
    media: list[MediaItem]
    ratio: str
    comments: list[PostView] = field(default_factory=list)

    @property
    def post(self) -> Record:
        return self.view.post

    @property
    def author(self) -> Record:
        return self.view.account

    @property
    def id(self) -> int:
        return self.view.post["id"]

    @property
    def path(self) -> str:
        return post_path(self.view.account, self.view.post["id"])

    @property
    def liked(self) -> bool:
        return bool(self.view.viewer and self.view.viewer.favourited)

    @property
    def cover(self) -> MediaItem | None:
        return self.media[0] if self.media else None

    @property
    def summary(self) -> str:
        return plain_text(self.view.post["content"])


def acct(account: Record) -> str:
    return account["username"] + (f"@{account['domain']}" if account["domain"] else "")


def profile_path(account: Record) -> str:
    return f"/@{acct(account)}"


def post_path(account: Record, post_id: int) -> str:
    return f"{profile_path(account)}/{post_id}"


def plain_text(content: str) -> str:
    """Post HTML as one line of text (for meta descriptions and previews)."""
    text = _BREAKS_RE.sub(" ", content or "")
    return " ".join(unescape(_TAGS_RE.sub("", text)).split())


def _renditions(row: Record) -> dict[str, Rendition]:
    raw = row["renditions"]
    if isinstance(raw, str):
        raw = json.loads(raw or "{}")
    base = get_settings().public_media_url
    found: dict[str, Rendition] = {}
    for name, value in (raw or {}).items():
        if not isinstance(value, dict):
            continue
        url = value.get("url") or (f"{base}/{value['key']}" if value.get("key") else "")
        if url:
            found[name] = Rendition(
                url,
                int(value.get("width") or 0),
                int(value.get("height") or 0),
                str(value.get("mime") or ""),
            )
    return found


def _srcset(*renditions: Rendition | None) -> str:
    shown = {r for r in renditions if r is not None and r.width}
    return ", ".join(f"{r.url} {r.width}w" for r in sorted(shown, key=lambda r: r.width))


def media_item(row: Record) -> MediaItem:
    found = _renditions(row)
    original = found.get("original")
    large = found.get("large") or original
    small = found.get("small") or large
    thumbnail = found.get("thumbnail") or small
    width = row["width"] or (large.width if large else 0) or 1080
    height = row["height"] or (large.height if large else 0) or 1080
    remote = row["remote_url"]
    src = large.url if large else remote
    is_video = row["type"] in VIDEO_KINDS
    large_fallback = found.get("large_jpeg") or (
        original if original and original.mime in _EVERY_BROWSER_TYPES else None
    )
    small_fallback = found.get("small_jpeg")
    has_fallback = bool(large and large.mime == "image/webp" and large_fallback and not is_video)
    webp_thumbnail = bool(thumbnail and thumbnail.mime == "image/webp")
    thumbnail_fallback = found.get("thumbnail_jpeg") if webp_thumbnail else None
    return MediaItem(
        id=row["id"],
        kind=row["type"],
        alt=row["description"] or "",
        width=width,
        height=height,
        src=src,
        srcset=_srcset(small, large),
        thumbnail=thumbnail.url if thumbnail else remote,
        grid_srcset=_srcset(thumbnail, small),
        fallback_src=large_fallback.url if has_fallback and large_fallback else "",
        fallback_srcset=_srcset(small_fallback, large_fallback) if has_fallback else "",
        grid_fallback=thumbnail_fallback.url if thumbnail_fallback else "",
        grid_fallback_srcset=_srcset(thumbnail_fallback, small_fallback)
        if thumbnail_fallback
        else "",
        video=(original.url if original else remote) if is_video else "",
        blurhash=row["blurhash"] or "",
        ready=row["state"] == "ready" and bool(src),
    )


def album_ratio(items: list[MediaItem]) -> str:
    if not items:
        return "square"
    aspect = items[0].width / max(items[0].height, 1)
    return min(RATIOS, key=lambda r: abs(r[1] - aspect))[0]


def card(view: PostView) -> PostCard:
    shown = view.reblog or view
    items = [media_item(row) for row in shown.media]
    return PostCard(
        view=shown,
        boosted_by=view.account if view.reblog else None,
        media=items,
        ratio=album_ratio(items),
    )


def cards(
    views: list[PostView], comments: dict[int, list[PostView]] | None = None
) -> list[PostCard]:
    made = []
    for view in views:
        made_card = card(view)
        if comments:
            made_card.comments.extend(comments.get(made_card.id, []))
        made.append(made_card)
    return made


def og_meta(post_card: PostCard) -> dict[str, Any]:
    """OpenGraph and Twitter card values for a post page."""
    settings = get_settings()
    author = post_card.author
    name = author["display_name"] or author["username"]
    image = post_card.cover
    return {
        "title": f"{name} (@{acct(author)}) on {settings.site_name}",
        "description": post_card.summary[:300] or f"A post by @{acct(author)}",
        "url": settings.base_url + post_card.path,
        "image": image.src if image and not image.is_video else (image.thumbnail if image else ""),
        "image_alt": image.alt if image else "",
        "image_width": image.width if image and not image.is_video else None,
        "image_height": image.height if image and not image.is_video else None,
    }
