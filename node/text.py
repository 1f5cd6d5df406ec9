"""Turning plain text people type into the small, safe HTML we store and send."""

from __future__ import annotations

import html
import re

_URL_RE = re.compile(r"https?://[^\s<>\"']{1,2000}")


def plain_to_html(text: str) -> str:
    """Escape text, link URLs, and keep paragraphs and line breaks; nothing else survives."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    rendered = []
    for paragraph in paragraphs:
        lines = [_link_urls(line) for line in paragraph.split("\n")]
        rendered.append("<p>" + "<br>".join(lines) + "</p>")
    return "".join(rendered)


def _link_urls(line: str) -> str:
    out, last = [], 0
    for match in _URL_RE.finditer(line):
        out.append(html.escape(line[last : match.start()], quote=False))
        url = match.group(0).rstrip(".,;:!?)")
        out.append(
            f'<a href="{html.escape(url)}" rel="nofollow noopener noreferrer" '
            f'target="_blank">{html.escape(url, quote=False)}</a>'
        )
        out.append(html.escape(match.group(0)[len(url) :], quote=False))
        last = match.end()
    out.append(html.escape(line[last:], quote=False))
    return "".join(out)
