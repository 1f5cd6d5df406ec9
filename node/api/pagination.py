"""Mastodon-style pagination: max_id / since_id / min_id / limit in, a Link header out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from litestar import Request

from node.api.params import integer
from node.errors import Invalid
from node.ids import parse_id
from node.settings import get_settings


@dataclass(frozen=True)
class PageParams:
    max_id: int | None
    since_id: int | None
    min_id: int | None
    limit: int


def _cursor(params: dict[str, Any], name: str) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    value = parse_id(raw)
    if value is None:
        raise Invalid(name, "must be an id")
    return value


def page_params(params: dict[str, Any], *, default: int = 20, maximum: int = 40) -> PageParams:
    limit = integer(params, "limit", default=default, low=1, high=10_000)
    return PageParams(
        max_id=_cursor(params, "max_id"),
        since_id=_cursor(params, "since_id"),
        min_id=_cursor(params, "min_id"),
        limit=min(limit or default, maximum),
    )


def link_header(request: Request, cursor_ids: list[int], limit: int) -> dict[str, str]:
    """`Link: <…max_id=oldest>; rel="next", <…min_id=newest>; rel="prev"` for a page."""
    if not cursor_ids:
        return {}
    base = f"{get_settings().base_url}{request.url.path}"
    kept = [
        (k, v)
        for k, v in request.query_params.multi_items()
        if k not in ("max_id", "since_id", "min_id", "limit")
    ]

    def url(**cursor: object) -> str:
        return base + "?" + urlencode([*kept, ("limit", limit), *cursor.items()])

    return {
        "Link": f'<{url(max_id=min(cursor_ids))}>; rel="next", '
        f'<{url(min_id=max(cursor_ids))}>; rel="prev"'
    }
