"""Domain rows to Mastodon API JSON: the single place where the client API's shapes are made."""

from __future__ import annotations

import calendar
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from asyncpg import Record

from node import push
from node.conversations import ConversationView
from node.featured_tags import FeaturedTag
from node.notifications import GroupPage, NotificationView
from node.post_views import PostView
from node.posts import Version
from node.settings import get_settings
from node.social import Relationship
from node.suggestions import Suggestion
from node.trends import ReviewedTag, TagView

DEFAULT_AVATAR = "/static/avatar.png"
DEFAULT_HEADER = "/static/header.png"


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def acct(row: Record) -> str:
    return row["username"] if not row["domain"] else f"{row['username']}@{row['domain']}"


def account(row: Record) -> dict[str, Any]:
    settings = get_settings()
    avatar = row["avatar_url"] or settings.base_url + DEFAULT_AVATAR
    header = row["header_url"] or settings.base_url + DEFAULT_HEADER
    fields = row["fields"]
    if isinstance(fields, str):
        fields = json.loads(fields)
    return {
        "id": str(row["id"]),
        "username": row["username"],
        "acct": acct(row),
        "display_name": row["display_name"],
        "locked": row["locked"],
        "bot": row["bot"],
        "discoverable": row["discoverable"],
        "indexable": row["discoverable"],
        "group": False,
        "created_at": iso(row["created_at"].replace(hour=0, minute=0, second=0, microsecond=0)),
        "note": row["note"],
        "url": row["url"] or row["uri"],
        "uri": row["uri"],
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": row["followers_count"],
        "following_count": row["following_count"],
        "statuses_count": row["statuses_count"],
        "last_status_at": row["last_status_at"].date().isoformat()
        if row["last_status_at"]
        else None,
        "hide_collections": False,
        "noindex": not row["discoverable"],
        "emojis": [],
        "roles": [],
        "fields": [{"name": f["name"], "value": f["value"], "verified_at": None} for f in fields],
    }


def credential_account(row: Record, user: Record, follow_requests_count: int) -> dict[str, Any]:
    entity = account(row)
    fields = row["fields"]
    if isinstance(fields, str):
        fields = json.loads(fields)
    entity["source"] = {
        "privacy": "public",
        "sensitive": False,
        "language": user["locale"],
        "note": row["note_source"],
        "fields": [{"name": f["name"], "value": f["value"], "verified_at": None} for f in fields],
        "follow_requests_count": follow_requests_count,
    }
    entity["role"] = {
        "id": {"user": "-99", "moderator": "2", "admin": "3"}[user["role"]],
        "name": user["role"].capitalize() if user["role"] != "user" else "",
        "permissions": {"user": "0", "moderator": "1308", "admin": "1"}[user["role"]],
        "color": "",
        "highlighted": user["role"] != "user",
    }
    return entity


def relationship(rel: Relationship) -> dict[str, Any]:
    return {
        "id": str(rel.id),
        "following": rel.following,
        "showing_reblogs": rel.showing_reblogs,
        "notifying": rel.notifying,
        "languages": None,
        "followed_by": rel.followed_by,
        "blocking": rel.blocking,
        "blocked_by": rel.blocked_by,
        "muting": rel.muting,
        "muting_notifications": rel.muting_notifications,
        "requested": rel.requested,
        "requested_by": rel.requested_by,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


def rule(row: Record) -> dict[str, Any]:
    return {"id": str(row["id"]), "text": row["text"], "hint": row["hint"]}


def report(row: Record, target: Record) -> dict[str, Any]:
    """A Report as its author sees it."""
    return {
        "id": str(row["id"]),
        "action_taken": row["action_taken_at"] is not None,
        "action_taken_at": iso(row["action_taken_at"]),
        "category": row["category"],
        "comment": row["comment"],
        "forwarded": row["forwarded"],
        "created_at": iso(row["created_at"]),
        "status_ids": [str(i) for i in row["status_ids"]] or None,
        "rule_ids": [str(i) for i in row["rule_ids"]] or None,
        "target_account": account(target),
    }


STAFF_ROLES = {
    "user": {"id": "-99", "name": "", "permissions": "0"},
    "moderator": {"id": "2", "name": "Moderator", "permissions": "1308"},
    "admin": {"id": "3", "name": "Admin", "permissions": "1"},
}


def admin_account(row: Record) -> dict[str, Any]:
    """Admin::Account: an account with what staff may see of its user (node.admin rows)."""
    local = not row["domain"]
    role = row["role"] or "user"
    return {
        "id": str(row["id"]),
        "username": row["username"],
        "domain": row["domain"] or None,
        "created_at": iso(row["created_at"]),
        "email": row["email"] if local else None,
        "ip": (row["sign_up_ip"] or None) if local else None,
        "ips": [{"ip": row["sign_up_ip"], "used_at": iso(row["user_created_at"])}]
        if local and row["sign_up_ip"]
        else [],
        "locale": row["locale"] if local else None,
        "invite_request": (row["sign_up_reason"] or None) if local else None,
        "role": {**STAFF_ROLES[role], "color": "", "highlighted": role != "user"},
        "confirmed": bool(row["confirmed_at"]) if local else True,
        "approved": bool(row["approved"]) if local else True,
        "disabled": bool(row["disabled"]) if local else False,
        "silenced": row["silenced_at"] is not None,
        "suspended": row["suspended_at"] is not None,
        "sensitized": row["sensitized_at"] is not None,
        "account": account(row),
        "created_by_application_id": None,
        "invited_by_account_id": str(row["invited_by_account_id"])
        if row["invited_by_account_id"]
        else None,
    }


def admin_report(
    row: Record,
    accounts: dict[int, Record],
    statuses: list[dict[str, Any]],
    rules: list[Record],
) -> dict[str, Any]:
    """Admin::Report; `accounts` holds node.admin rows of everyone the report names."""

    def staff_view(account_id: int | None) -> dict[str, Any] | None:
        found = accounts.get(account_id) if account_id is not None else None
        return admin_account(found) if found is not None else None

    return {
        "id": str(row["id"]),
        "action_taken": row["action_taken_at"] is not None,
        "action_taken_at": iso(row["action_taken_at"]),
        "category": row["category"],
        "comment": row["comment"],
        "forwarded": row["forwarded"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "account": staff_view(row["account_id"]),
        "target_account": staff_view(row["target_account_id"]),
        "assigned_account": staff_view(row["assigned_account_id"]),
        "action_taken_by_account": staff_view(row["action_taken_by_account_id"]),
        "statuses": statuses,
        "rules": [rule(r) for r in rules],
        "uri": row["uri"] or None,
    }


def domain_digest(domain: str) -> str:
    import hashlib

    return hashlib.sha256(domain.encode()).hexdigest()


def admin_domain_block(row: Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "domain": row["domain"],
        "digest": domain_digest(row["domain"]),
        "created_at": iso(row["created_at"]),
        "severity": row["severity"],
        "reject_media": row["reject_media"],
        "reject_reports": row["reject_reports"],
        "private_comment": row["private_comment"] or None,
        "public_comment": row["public_comment"] or None,
        "obfuscate": row["obfuscate"],
    }


def public_domain_block(row: Record, shown_domain: str) -> dict[str, Any]:
    """DomainBlock as /api/v1/instance/domain_blocks shows it (obfuscated where asked)."""
    return {
        "domain": shown_domain,
        "digest": domain_digest(row["domain"]),
        "severity": row["severity"],
        "comment": row["public_comment"] or None,
    }


def application(app: Any, *, with_secret: bool) -> dict[str, Any]:
    entity = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website or None,
        "scopes": sorted(app.scopes),
        "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": app.redirect_uris,
        "vapid_key": app.vapid_key or push.known_vapid_public_key(),
    }
    if with_secret:
        entity["client_id"] = app.client_id
        entity["client_secret"] = app.client_secret
        entity["client_secret_expires_at"] = 0
    return entity


def _rendition_meta(rendition: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not rendition or not rendition.get("width") or not rendition.get("height"):
        return None
    width, height = int(rendition["width"]), int(rendition["height"])
    return {"width": width, "height": height, "size": f"{width}x{height}", "aspect": width / height}


def media_attachment(row: Mapping[str, Any]) -> dict[str, Any]:
    """A media_attachments row as a MediaAttachment: `url` is the original (for a video, the
    web-playable file), `preview_url` the small rendition (the poster for video and gifv)."""
    renditions = row["renditions"]
    if isinstance(renditions, str):
        renditions = json.loads(renditions)
    renditions = renditions or {}
    base = get_settings().public_media_url
    remote = row["remote_url"] or None

    def url_of(name: str) -> str | None:
        rendition = renditions.get(name)
        return f"{base}/{rendition['key']}" if rendition and rendition.get("key") else None

    moving = row["type"] in ("video", "gifv")
    original_meta = _rendition_meta(renditions.get("original")) or _rendition_meta(
        {"width": row["width"], "height": row["height"]}
    )
    if original_meta is not None and moving and row["duration"] is not None:
        original_meta["duration"] = round(float(row["duration"]), 3)
    # Focus is stored as a 4-byte real: two decimals is what was asked for.
    focus = {"x": round(float(row["focus_x"]), 2), "y": round(float(row["focus_y"]), 2)}
    meta: dict[str, Any] = {"focus": focus}
    if original_meta is not None:
        meta["original"] = original_meta
    small_meta = _rendition_meta(renditions.get("small"))
    if small_meta is not None:
        meta["small"] = small_meta
    return {
        "id": str(row["id"]),
        "type": row["type"],
        "url": url_of("original") or remote,
        "preview_url": (url_of("poster") if moving else None) or url_of("small") or remote,
        "remote_url": remote,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": row["description"] or None,
        "blurhash": row["blurhash"],
    }


def tag(row: Mapping[str, Any]) -> dict[str, Any]:
    """A hashtag as a post's tag: {name, url}."""
    return {"name": row["name"], "url": f"{get_settings().base_url}/tags/{quote(row['name'])}"}


def mention(row: Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "username": row["username"],
        "url": row["url"] or row["uri"],
        "acct": acct(row),
    }


def status(view: PostView, *, with_source: bool = False) -> dict[str, Any]:
    """A post as a Status; the viewer's own state (favourited…) only for a signed-in viewer.

    with_source adds the plain `text`, as Mastodon answers a delete (for redrafting)."""
    post = view.post
    entity: dict[str, Any] = {
        "id": str(post["id"]),
        "uri": post["uri"],
        "url": post["url"] or None,
        "created_at": iso(post["created_at"]),
        "account": account(view.account),
        "content": post["content"],
        "visibility": post["visibility"],
        "sensitive": post["sensitive"],
        "spoiler_text": post["spoiler_text"],
        "media_attachments": [media_attachment(m) for m in view.media],
        "mentions": [mention(a) for a in view.mentions],
        "tags": [tag(t) for t in view.tags],
        "emojis": [],
        "reblogs_count": post["reblogs_count"],
        "favourites_count": post["favourites_count"],
        "replies_count": post["replies_count"],
        "in_reply_to_id": str(post["in_reply_to_id"]) if post["in_reply_to_id"] else None,
        "in_reply_to_account_id": str(post["in_reply_to_account_id"])
        if post["in_reply_to_account_id"]
        else None,
        "reblog": status(view.reblog) if view.reblog is not None else None,
        "application": {"name": post["application_name"], "website": post["application_website"]}
        if post["application_name"]
        else None,
        "language": post["language"],
        "edited_at": iso(post["edited_at"]),
        "poll": None,
        "card": None,
        "filtered": [],
    }
    if view.viewer is not None:
        entity["favourited"] = view.viewer.favourited
        entity["reblogged"] = view.viewer.reblogged
        entity["muted"] = False
        entity["bookmarked"] = view.viewer.bookmarked
        entity["pinned"] = view.viewer.pinned
    if with_source:
        entity["text"] = post["text"]
    return entity


def context(ancestors: list[PostView], descendants: list[PostView]) -> dict[str, Any]:
    return {
        "ancestors": [status(v) for v in ancestors],
        "descendants": [status(v) for v in descendants],
    }


def status_edit(version: Version, author: Record) -> dict[str, Any]:
    """One version of a post in its edit history."""
    return {
        "content": version.content,
        "spoiler_text": version.spoiler_text,
        "sensitive": version.sensitive,
        "created_at": iso(version.created_at),
        "account": account(author),
        "poll": None,
        "media_attachments": [media_attachment(m) for m in version.media],
        "emojis": [],
    }


def status_source(post: Record) -> dict[str, Any]:
    return {"id": str(post["id"]), "text": post["text"], "spoiler_text": post["spoiler_text"]}


def notification(view: NotificationView) -> dict[str, Any]:
    row = view.row
    entity: dict[str, Any] = {
        "id": str(row["id"]),
        "type": row["type"],
        "group_key": row["group_key"],
        "created_at": iso(row["created_at"]),
        "account": account(view.account),
    }
    if view.status is not None:
        entity["status"] = status(view.status)
    if view.report is not None and view.report_target is not None:
        entity["report"] = report(view.report, view.report_target)
    return entity


def grouped_notifications(page: GroupPage) -> dict[str, Any]:
    """/api/v2/notifications (Mastodon 4.3): groups, with their accounts and statuses once."""
    groups = []
    for group in page.groups:
        entity: dict[str, Any] = {
            "group_key": group.group_key,
            "notifications_count": group.notifications_count,
            "type": group.type,
            "most_recent_notification_id": str(group.most_recent_notification_id),
            "page_min_id": str(group.page_min_id),
            "page_max_id": str(group.page_max_id),
            "latest_page_notification_at": iso(group.latest_at),
            "sample_account_ids": [str(a) for a in group.sample_account_ids if a in page.accounts],
        }
        if group.post_id is not None:
            entity["status_id"] = str(group.post_id)
        reported = page.reports.get(group.report_id) if group.report_id is not None else None
        if reported is not None and reported["target_account_id"] in page.accounts:
            entity["report"] = report(reported, page.accounts[reported["target_account_id"]])
        groups.append(entity)
    return {
        "accounts": [account(a) for a in page.accounts.values()],
        "statuses": [status(v) for v in page.statuses.values()],
        "notification_groups": groups,
    }


def conversation(view: ConversationView) -> dict[str, Any]:
    """A Conversation, plus `request` (ours): it waits among the owner's message requests."""
    return {
        "id": str(view.row["id"]),
        "unread": view.row["unread"],
        "accounts": [account(a) for a in view.accounts],
        "last_status": status(view.last_status) if view.last_status is not None else None,
        "request": view.row["request"],
    }


def push_subscription(row: Record, server_key: str) -> dict[str, Any]:
    alerts = row["alerts"]
    if isinstance(alerts, str):
        alerts = json.loads(alerts)
    return {
        "id": str(row["id"]),
        "endpoint": row["endpoint"],
        "standard": True,
        "alerts": alerts,
        "policy": row["policy"],
        "server_key": server_key,
    }


def hashtag(view: TagView) -> dict[str, Any]:
    """A Tag with its usage history (newest day first) and, for a signed-in viewer, whether
    they follow (and feature) it."""
    row = view.tag
    entity: dict[str, Any] = {
        "name": row.get("display_name") or row["name"],
        "url": f"{get_settings().base_url}/tags/{quote(row['name'])}",
        "history": [
            {
                "day": str(calendar.timegm(day.day.timetuple())),
                "uses": str(day.uses),
                "accounts": str(day.accounts),
            }
            for day in view.history
        ],
    }
    if row.get("id") is not None:
        entity["id"] = str(row["id"])
    if view.following is not None:
        entity["following"] = view.following
    if view.featuring is not None:
        entity["featuring"] = view.featuring
    return entity


def admin_tag(reviewed: ReviewedTag) -> dict[str, Any]:
    """An Admin::Tag: the Tag plus its review state."""
    row = reviewed.view.tag
    return {
        **hashtag(reviewed.view),
        "id": str(row["id"]),
        "trendable": row["trendable"] and row["reviewed_at"] is not None,
        "usable": row["usable"],
        "requires_review": row["reviewed_at"] is None and reviewed.trending,
        "listable": row["usable"],
    }


def featured_tag(featured: FeaturedTag) -> dict[str, Any]:
    base = get_settings().base_url
    name = featured.tag["display_name"] or featured.tag["name"]
    return {
        "id": str(featured.id),
        "name": name,
        "url": f"{base}/@{featured.account['username']}/tagged/{quote(featured.tag['name'])}",
        "statuses_count": str(featured.statuses_count),
        "last_status_at": featured.last_status_at.date().isoformat()
        if featured.last_status_at
        else None,
    }


def suggestion(found: Suggestion) -> dict[str, Any]:
    """A v2 Suggestion: `sources` as Mastodon names them, `source` its older summary."""
    return {
        "source": "past_interactions" if "friends_of_friends" in found.sources else "global",
        "sources": found.sources,
        "account": account(found.account),
    }
