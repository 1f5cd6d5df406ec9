"""Timeline edges: home, public, hashtag and list timelines; lists; followed hashtags; markers."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post, put

from node.api import entities
from node.api.authn import require_user, viewer_id
from node.api.pagination import link_header, page_params
from node.api.params import flag, id_list, read_params, text
from node.api.rendered_statuses import statuses_json
from node.errors import Invalid, NotFound
from node.ids import parse_id
from node.post_views import PostView
from timeline import followed_tags, lists, markers
from timeline.home import home_entries
from timeline.page import Page
from timeline.public import Scope, public_page, tag_page

_encode = msgspec.json.Encoder().encode


def _json(content: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(content=_encode(content), media_type="application/json", headers=headers or {})


def _page(params: dict[str, Any], *, default: int = 20, maximum: int = 40) -> Page:
    page = page_params(params, default=default, maximum=maximum)
    return Page(max_id=page.max_id, since_id=page.since_id, min_id=page.min_id, limit=page.limit)


def _scope(params: dict[str, Any]) -> Scope:
    return Scope(
        local=bool(flag(params, "local", default=False)),
        remote=bool(flag(params, "remote", default=False)),
        only_media=bool(flag(params, "only_media", default=False)),
    )


def _path_id(raw: str) -> int:
    value = parse_id(raw)
    if value is None:
        raise NotFound()
    return value


def _statuses(request: Request, views: list[PostView], limit: int) -> Response:
    return _json(
        [entities.status(v) for v in views],
        link_header(request, [v.post["id"] for v in views], limit),
    )


@get("/api/v1/timelines/home")
async def home_timeline(request: Request) -> Response:
    identity = await require_user(request, "read:statuses")
    page = _page(await read_params(request))
    entries = await home_entries(identity.account_id, page, user_id=identity.user_id)
    return Response(
        content=await statuses_json(entries),
        media_type="application/json",
        headers=link_header(request, [entry["id"] for entry in entries], page.limit),
    )


@get("/api/v1/timelines/public")
async def public_timeline(request: Request) -> Response:
    viewer = await viewer_id(request, "read:statuses")
    params = await read_params(request)
    page = _page(params)
    views = await public_page(viewer, page, _scope(params))
    return _statuses(request, views, page.limit)


def _names(params: dict[str, Any], name: str) -> list[str]:
    """Hashtag names from `name[]=a&name[]=b`, `name=a,b` or a JSON list."""
    value = params.get(name, params.get(f"{name}[]"))
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    if len(items) > 10:
        raise Invalid(name, "at most 10 hashtags")
    return [str(item) for item in items if str(item).strip()]


@get("/api/v1/timelines/tag/{hashtag:str}")
async def tag_timeline(request: Request, hashtag: str) -> Response:
    viewer = await viewer_id(request, "read:statuses")
    params = await read_params(request)
    page = _page(params)
    views = await tag_page(
        viewer,
        page,
        _scope(params),
        tag=hashtag,
        any_of=_names(params, "any"),
        all_of=_names(params, "all"),
        none_of=_names(params, "none"),
    )
    return _statuses(request, views, page.limit)


@get("/api/v1/timelines/list/{list_id:str}")
async def list_timeline(request: Request, list_id: str) -> Response:
    identity = await require_user(request, "read:lists")
    page = _page(await read_params(request))
    views = await lists.list_page(identity.account_id, _path_id(list_id), page)
    return _statuses(request, views, page.limit)


# Lists


def _list(row: Any) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "title": row["title"],
        "replies_policy": row["replies_policy"],
        "exclusive": row["exclusive"],
    }


@get("/api/v1/lists")
async def all_lists(request: Request) -> list[dict[str, Any]]:
    identity = await require_user(request, "read:lists")
    return [_list(row) for row in await lists.owned_lists(identity.account_id)]


@get("/api/v1/lists/{list_id:str}")
async def show_list(request: Request, list_id: str) -> dict[str, Any]:
    identity = await require_user(request, "read:lists")
    return _list(await lists.get_list(identity.account_id, _path_id(list_id)))


@post("/api/v1/lists", status_code=200)
async def create_list(request: Request) -> dict[str, Any]:
    identity = await require_user(request, "write:lists")
    params = await read_params(request)
    row = await lists.create_list(
        identity.account_id,
        text(params, "title", max_length=1000),
        replies_policy=text(params, "replies_policy", max_length=32),
        exclusive=bool(flag(params, "exclusive", default=False)),
    )
    return _list(row)


@put("/api/v1/lists/{list_id:str}")
async def update_list(request: Request, list_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:lists")
    params = await read_params(request)
    row = await lists.update_list(
        identity.account_id,
        _path_id(list_id),
        title=text(params, "title", max_length=1000),
        replies_policy=text(params, "replies_policy", max_length=32),
        exclusive=flag(params, "exclusive"),
    )
    return _list(row)


@delete("/api/v1/lists/{list_id:str}", status_code=200)
async def delete_list(request: Request, list_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:lists")
    await lists.delete_list(identity.account_id, _path_id(list_id))
    return {}


@get("/api/v1/lists/{list_id:str}/accounts")
async def list_accounts(request: Request, list_id: str) -> Response:
    identity = await require_user(request, "read:lists")
    params = await read_params(request)
    if str(params.get("limit", "")) == "0":  # Mastodon: limit=0 lists every member
        page = Page(limit=0)
    else:
        page = _page(params, default=40, maximum=80)
    result = await lists.members(identity.account_id, _path_id(list_id), page)
    return _json(
        [entities.account(row) for row in result.accounts],
        link_header(request, result.cursor_ids, page.limit) if page.limit else None,
    )


def _account_ids(params: dict[str, Any]) -> list[int]:
    ids = id_list(params, "account_ids", max_count=250)
    if not ids:
        raise Invalid("account_ids", "can't be blank")
    return ids


@post("/api/v1/lists/{list_id:str}/accounts", status_code=200)
async def add_list_accounts(request: Request, list_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:lists")
    params = await read_params(request)
    await lists.add_members(identity.account_id, _path_id(list_id), _account_ids(params))
    return {}


@delete("/api/v1/lists/{list_id:str}/accounts", status_code=200)
async def remove_list_accounts(request: Request, list_id: str) -> dict[str, Any]:
    identity = await require_user(request, "write:lists")
    params = await read_params(request)
    await lists.remove_members(identity.account_id, _path_id(list_id), _account_ids(params))
    return {}


@get("/api/v1/accounts/{account_id:str}/lists")
async def lists_of_account(request: Request, account_id: str) -> list[dict[str, Any]]:
    identity = await require_user(request, "read:lists")
    rows = await lists.lists_with_member(identity.account_id, _path_id(account_id))
    return [_list(row) for row in rows]


# Followed hashtags


def _followed_tag(row: Any, following: bool) -> dict[str, Any]:
    return {**entities.tag(row), "id": str(row["id"]), "history": [], "following": following}


@post("/api/v1/tags/{name:str}/follow", status_code=200)
async def follow_tag(request: Request, name: str) -> dict[str, Any]:
    identity = await require_user(request, "write:follows")
    result = await followed_tags.follow_tag(identity.account_id, name)
    return _followed_tag(result.tag, result.following)


@post("/api/v1/tags/{name:str}/unfollow", status_code=200)
async def unfollow_tag(request: Request, name: str) -> dict[str, Any]:
    identity = await require_user(request, "write:follows")
    result = await followed_tags.unfollow_tag(identity.account_id, name)
    return _followed_tag(result.tag, result.following)


@get("/api/v1/followed_tags")
async def list_followed_tags(request: Request) -> Response:
    identity = await require_user(request, "read:follows")
    page = _page(await read_params(request), default=100, maximum=200)
    result = await followed_tags.followed_tags(identity.account_id, page)
    return _json(
        [_followed_tag(row, True) for row in result.tags],
        link_header(request, result.cursor_ids, page.limit),
    )


# Markers


def _markers(rows: dict[str, Any]) -> dict[str, Any]:
    return {
        timeline: {
            "last_read_id": str(row["last_read_id"]),
            "version": row["version"],
            "updated_at": entities.iso(row["updated_at"]),
        }
        for timeline, row in rows.items()
    }


@get("/api/v1/markers")
async def get_markers(request: Request) -> dict[str, Any]:
    identity = await require_user(request, "read:statuses")
    params = await read_params(request)
    wanted = params.get("timeline", params.get("timeline[]", []))
    wanted = wanted if isinstance(wanted, list) else [wanted]
    return _markers(await markers.markers(identity.account_id, [str(t) for t in wanted]))


@post("/api/v1/markers", status_code=200)
async def save_markers(request: Request) -> dict[str, Any]:
    identity = await require_user(request, "write:statuses")
    params = await read_params(request)
    positions = {}
    for timeline in markers.TIMELINES:
        value = params.get(timeline)
        if value is None:
            continue
        raw = value.get("last_read_id") if isinstance(value, dict) else None
        last_read_id = parse_id(raw)
        if last_read_id is None:
            raise Invalid(f"{timeline}[last_read_id]", "must be an id")
        positions[timeline] = last_read_id
    if not positions:
        raise Invalid("home", "name a timeline: home[last_read_id] or notifications[last_read_id]")
    return _markers(await markers.save_markers(identity.account_id, positions))


ROUTES = [
    home_timeline,
    public_timeline,
    tag_timeline,
    list_timeline,
    all_lists,
    show_list,
    create_list,
    update_list,
    delete_list,
    list_accounts,
    add_list_accounts,
    remove_list_accounts,
    lists_of_account,
    follow_tag,
    unfollow_tag,
    list_followed_tags,
    get_markers,
    save_markers,
]
