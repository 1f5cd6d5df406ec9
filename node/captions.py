"""Captions: the hashtags and mentions in what people type, and the safe HTML we make of it."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from node.settings import get_settings

MAX_TAG_LENGTH = 100

# One scan finds every token, so a `#` inside a link or an `@` inside an email address is text.
_TOKEN_RE = re.compile(
    r"(?P<url>https?://[^\s<>\"']{1,2000})"
    r"|(?<![\w/@.])@(?P<user>[a-z0-9_]+(?:[a-z0-9_.-]*[a-z0-9_])?)"
    r"(?:@(?P<domain>[\w-]+(?:\.[\w-]+)*(?::\d{1,5})?))?"
    r"|(?<![\w/#&])#(?P<tag>\w+)",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?)"


@dataclass(frozen=True)
class MentionRef:
    """`@username` or `@username@domain` as typed; domain "" means this node."""

    username: str
    domain: str

    @property
    def key(self) -> tuple[str, str]:
        return self.username.lower(), self.domain.lower()


@dataclass(frozen=True)
class CaptionRefs:
    hashtags: list[str]  # as first typed, one per normalised name
    mentions: list[MentionRef]


def normalize_tag(name: str) -> str:
    """The form a hashtag is stored and looked up by: `#Café` and `#café` are one tag."""
    return unicodedata.normalize("NFKC", name).lower()


def _local_domain(domain: str | None) -> str:
    domain = (domain or "").lower()
    return "" if domain == get_settings().domain else domain


def _is_tag(name: str) -> bool:
    # "#1" is a number, not a tag.
    return len(name) <= MAX_TAG_LENGTH and not name.isdigit()


def find_references(text: str) -> CaptionRefs:
    """Hashtags and mentions in a caption, each once, in the order they first appear."""
    hashtags: dict[str, str] = {}
    mentions: dict[tuple[str, str], MentionRef] = {}
    for match in _TOKEN_RE.finditer(text):
        if match.group("tag") and _is_tag(match.group("tag")):
            hashtags.setdefault(normalize_tag(match.group("tag")), match.group("tag"))
        elif match.group("user"):
            ref = MentionRef(match.group("user"), _local_domain(match.group("domain")))
            mentions.setdefault(ref.key, ref)
    return CaptionRefs(hashtags=list(hashtags.values()), mentions=list(mentions.values()))


def render_caption(text: str, mention_urls: Mapping[tuple[str, str], str]) -> str:
    """Escape everything, then link URLs, hashtags and the mentions whose accounts we know
    (`mention_urls` maps MentionRef.key to the profile URL); paragraphs and line breaks stay."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(
        "<p>" + "<br>".join(_render_line(line, mention_urls) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


def _render_line(line: str, mention_urls: Mapping[tuple[str, str], str]) -> str:
    out: list[str] = []
    last = 0
    for match in _TOKEN_RE.finditer(line):
        out.append(html.escape(line[last : match.start()], quote=False))
        out.append(_render_token(match, mention_urls))
        last = match.end()
    out.append(html.escape(line[last:], quote=False))
    return "".join(out)


def _render_token(match: re.Match[str], mention_urls: Mapping[tuple[str, str], str]) -> str:
    raw = match.group(0)
    if match.group("url"):
        url = raw.rstrip(_URL_TRAILING)
        return (
            f'<a href="{html.escape(url)}" rel="nofollow noopener noreferrer" target="_blank">'
            f"{html.escape(url, quote=False)}</a>{html.escape(raw[len(url) :], quote=False)}"
        )
    if match.group("tag"):
        name = match.group("tag")
        if not _is_tag(name):
            return html.escape(raw, quote=False)
        href = f"{get_settings().base_url}/tags/{quote(normalize_tag(name))}"
        return (
            f'<a href="{html.escape(href)}" class="mention hashtag" rel="tag">'
            f"#<span>{html.escape(name, quote=False)}</span></a>"
        )
    ref = MentionRef(match.group("user"), _local_domain(match.group("domain")))
    url = mention_urls.get(ref.key)
    if url is None:
        return html.escape(raw, quote=False)
    return (
        f'<span class="h-card" translate="no"><a href="{html.escape(url)}" class="u-url mention">'
        f"@<span>{html.escape(ref.username, quote=False)}</span></a></span>"
    )
