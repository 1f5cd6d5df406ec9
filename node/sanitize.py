"""A whitelist HTML sanitiser for post content and bios, local or from other servers.

The output is rebuilt from parsed tokens: only the tags and attributes listed here are
written, every text and attribute value is escaped again, and links may only point to
http(s) and mailto. Whatever the input, nothing else can reach a page.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser
from urllib.parse import urlsplit

from node.settings import get_settings

# tag -> attributes it may keep
ALLOWED_TAGS: dict[str, frozenset[str]] = {
    "p": frozenset(),
    "br": frozenset(),
    "span": frozenset({"class"}),
    "a": frozenset({"href", "class", "rel", "translate"}),
    "del": frozenset(),
    "s": frozenset(),
    "pre": frozenset(),
    "code": frozenset(),
    "em": frozenset(),
    "strong": frozenset(),
    "b": frozenset(),
    "i": frozenset(),
    "u": frozenset(),
    "ul": frozenset(),
    "ol": frozenset(),
    "li": frozenset(),
    "blockquote": frozenset(),
}
VOID_TAGS = frozenset({"br"})
# Tags whose whole content goes, not only the tag.
DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "template", "iframe", "object", "embed", "noscript", "svg", "math", "title"}
)
# Microformat and Mastodon classes that clients style; any other class is removed.
ALLOWED_CLASSES = frozenset(
    {"h-card", "u-url", "mention", "hashtag", "invisible", "ellipsis", "quote-inline"}
)
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
MAX_DEPTH = 64


def _safe_href(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    scheme = urlsplit(value).scheme.lower()
    if scheme:
        return value if scheme in ALLOWED_SCHEMES else None
    # Relative links (/tags/x, /@user) stay on this node.
    return value if value.startswith("/") and not value.startswith("//") else None


def _is_this_node(url: str) -> bool:
    """Links to this node's own pages open in place; other sites' in a new tab."""
    return url.startswith(get_settings().base_url + "/")


class _Sanitiser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        self.dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self.dropping += 1
            return
        if self.dropping or tag not in ALLOWED_TAGS:
            return
        if tag not in VOID_TAGS and len(self.open) >= MAX_DEPTH:
            return
        kept: list[str] = []
        external = False
        allowed = ALLOWED_TAGS[tag]
        for name, value in attrs:
            if name not in allowed or value is None:
                continue
            if name == "href":
                value = _safe_href(value)
                if value is None:
                    continue
                external = not value.startswith("/") and not _is_this_node(value)
            elif name == "class":
                value = " ".join(c for c in value.split() if c in ALLOWED_CLASSES)
                if not value:
                    continue
            elif name == "rel":
                continue  # set below for every link
            kept.append(f'{name}="{html.escape(value, quote=True)}"')
        if tag == "a":
            kept.append('rel="nofollow noopener noreferrer"')
            if external:
                kept.append('target="_blank"')
        self.out.append(f"<{tag}{''.join(' ' + a for a in kept)}>")
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_WITH_CONTENT:
            return
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS and self.open and self.open[-1] == tag:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self.dropping = max(0, self.dropping - 1)
            return
        if self.dropping or tag not in self.open:
            return
        # Close anything left open inside this tag, so the output always nests.
        while self.open:
            current = self.open.pop()
            self.out.append(f"</{current}>")
            if current == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(html.escape(data, quote=False))

    def close(self) -> None:
        super().close()
        while self.open:
            self.out.append(f"</{self.open.pop()}>")


def sanitize_html(raw: str) -> str:
    """The same content with only whitelisted tags, attributes and link schemes left."""
    if not raw:
        return ""
    parser = _Sanitiser()
    parser.feed(raw)
    parser.close()
    return "".join(parser.out)
