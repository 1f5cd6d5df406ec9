"""The single converter between ActivityStreams JSON and pinhole's domain rows, both directions.

Nothing else builds or reads AS2 documents: routes and handlers call these functions, so
ActivityStreams shapes never leak into tables and table rows never leak onto the wire.
"""

from __future__ import annotations

import json
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import quote

from asyncpg import Record

from federation.instance_actor import instance_actor_uri
from federation.vocabulary import (
    ACTOR_TYPES,
    CONTEXT,
    PUBLIC,
    PUBLIC_FORMS,
    as_list,
    host_of,
    id_of,
    text_of,
    type_of,
)
from node.sanitize import sanitize_html
from node.settings import get_settings

DEFAULT_AVATAR = "/static/avatar.png"
DEFAULT_HEADER = "/static/header.png"


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(raw: Any) -> datetime | None:
    """An AS2 timestamp (`2024-01-02T03:04:05Z`, with offsets, also `+0000` without a colon)."""
    if not isinstance(raw, str) or not raw:
        return None
    text = raw.strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _media_type_for(url: str) -> str:
    guessed, _ = mimetypes.guess_type(url.split("?")[0])
    return guessed or "image/png"


def _image(url: str) -> dict[str, str]:
    return {"type": "Image", "mediaType": _media_type_for(url), "url": url}


# --- local accounts → AS2 -------------------------------------------------------------------


def local_actor_document(account: Record) -> dict[str, Any]:
    """The Person (Service for bots) document of a local account."""
    settings = get_settings()
    fields = account["fields"]
    if isinstance(fields, str):
        fields = json.loads(fields)
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": account["uri"],
        "type": "Service" if account["bot"] else "Person",
        "preferredUsername": account["username"],
        "name": account["display_name"],
        "summary": account["note"],
        "url": account["url"],
        "inbox": account["inbox_url"],
        "outbox": account["outbox_url"],
        "followers": account["followers_url"],
        "following": account["following_url"],
        "manuallyApprovesFollowers": account["locked"],
        "discoverable": account["discoverable"],
        "indexable": account["discoverable"],
        "published": iso(account["created_at"]),
        "endpoints": {"sharedInbox": account["shared_inbox_url"] or f"{settings.base_url}/inbox"},
        "publicKey": {
            "id": account["key_id"],
            "owner": account["uri"],
            "publicKeyPem": account["public_key_pem"],
        },
        "icon": _image(account["avatar_url"] or settings.base_url + DEFAULT_AVATAR),
        "image": _image(account["header_url"] or settings.base_url + DEFAULT_HEADER),
        "attachment": [
            {"type": "PropertyValue", "name": f["name"], "value": f["value"]} for f in fields
        ],
        "tag": [],
    }
    if account["also_known_as"]:
        document["alsoKnownAs"] = list(account["also_known_as"])
    return document


def instance_actor_document(public_key_pem: str) -> dict[str, Any]:
    settings = get_settings()
    uri = instance_actor_uri()
    return {
        "@context": CONTEXT,
        "id": uri,
        "type": "Application",
        "preferredUsername": settings.domain,
        "name": settings.site_name,
        "url": f"{settings.base_url}/about",
        "inbox": f"{uri}/inbox",
        "outbox": f"{uri}/outbox",
        "manuallyApprovesFollowers": True,
        "discoverable": False,
        "endpoints": {"sharedInbox": f"{settings.base_url}/inbox"},
        "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": public_key_pem},
    }


class ActorRejected(ValueError):
    """A document that cannot be stored as a remote account."""


@dataclass
class RemoteActor:
    """The account fields a remote actor document yields."""

    uri: str
    username: str
    domain: str
    actor_type: str
    display_name: str = ""
    note: str = ""
    url: str = ""
    avatar_url: str = ""
    header_url: str = ""
    locked: bool = False
    discoverable: bool = False
    bot: bool = False
    fields: list[dict[str, str]] = field(default_factory=list)
    inbox_url: str = ""
    shared_inbox_url: str = ""
    outbox_url: str = ""
    followers_url: str = ""
    following_url: str = ""
    public_key_pem: str = ""
    key_id: str = ""
    also_known_as: list[str] = field(default_factory=list)
    moved_to: str = ""
    published: datetime | None = None


def _url_of(value: Any) -> str:
    """The URL of an icon/image/url property: a string, an Image with `url`, a Link, a list."""
    for item in as_list(value):
        if isinstance(item, str):
            return item
        if isinstance(item, dict):
            inner = item.get("url") if "url" in item else item.get("href")
            found = _url_of(inner) if inner is not None else ""
            if found:
                return found
    return ""


def _html_url_of(value: Any) -> str:
    """The HTML page among `url` values (a Link list may offer several media types)."""
    for item in as_list(value):
        if isinstance(item, str):
            return item
        if isinstance(item, dict) and item.get("mediaType", "text/html") == "text/html":
            href = item.get("href") or item.get("url")
            if isinstance(href, str):
                return href
    return _url_of(value)


def _public_key(document: dict[str, Any], actor_id: str) -> tuple[str, str]:
    for key in as_list(document.get("publicKey")):
        if not isinstance(key, dict):
            continue
        owner = id_of(key.get("owner")) or actor_id
        pem = key.get("publicKeyPem")
        if owner == actor_id and isinstance(pem, str) and "BEGIN" in pem:
            return id_of(key), pem
    return "", ""


def actor_from_document(document: dict[str, Any]) -> RemoteActor:
    """Read an actor document; ActorRejected when it lacks what federation needs."""
    actor_id = id_of(document)
    kind = type_of(document)
    if kind not in ACTOR_TYPES:
        raise ActorRejected(f"{kind or 'an untyped object'} is not an actor")
    if not actor_id or not host_of(actor_id):
        raise ActorRejected("the actor has no id")
    inbox = id_of(document.get("inbox"))
    if not inbox:
        raise ActorRejected("the actor has no inbox")
    username = text_of(document.get("preferredUsername")).strip()
    if not username:
        username = actor_id.rstrip("/").rsplit("/", 1)[-1]
    endpoints = document.get("endpoints") if isinstance(document.get("endpoints"), dict) else {}
    shared_inbox = id_of(endpoints.get("sharedInbox")) or id_of(document.get("sharedInbox"))
    key_id, pem = _public_key(document, actor_id)
    fields = []
    for item in as_list(document.get("attachment")):
        if isinstance(item, dict) and type_of(item) == "PropertyValue":
            fields.append(
                {
                    "name": text_of(item.get("name"))[:255],
                    "value": sanitize_html(text_of(item.get("value")))[:2000],
                }
            )
    manually = document.get("manuallyApprovesFollowers")
    discoverable = document.get("discoverable")
    return RemoteActor(
        uri=actor_id,
        username=username[:255],
        domain=host_of(actor_id),
        actor_type=kind,
        display_name=text_of(document.get("name")).strip()[:255],
        note=sanitize_html(text_of(document.get("summary"))),
        url=_html_url_of(document.get("url")) or actor_id,
        avatar_url=_url_of(document.get("icon")),
        header_url=_url_of(document.get("image")),
        locked=manually is True,
        discoverable=discoverable is True,
        bot=kind in ("Service", "Application"),
        fields=fields[:8],
        inbox_url=inbox,
        shared_inbox_url=shared_inbox,
        outbox_url=id_of(document.get("outbox")),
        followers_url=id_of(document.get("followers")),
        following_url=id_of(document.get("following")),
        public_key_pem=pem,
        key_id=key_id,
        also_known_as=[
            uri for uri in (id_of(v) for v in as_list(document.get("alsoKnownAs"))) if uri
        ],
        moved_to=id_of(document.get("movedTo")),
        published=parse_time(document.get("published")),
    )


# --- local posts → AS2 ------------------------------------------------------------------------

PIXELFED_MAX_SIDE = 5000  # Pixelfed drops attachments wider or taller than this
BLURHASH_LENGTHS = range(6, 165)  # Pixelfed drops blurhashes outside 6–164 characters


def _renditions(row: Record) -> dict[str, Any]:
    renditions = row["renditions"]
    if isinstance(renditions, str):
        renditions = json.loads(renditions)
    return renditions or {}


def _rendition_url(rendition: dict[str, Any]) -> str:
    return f"{get_settings().public_media_url}/{rendition['key']}"


def attachment_document(row: Record) -> dict[str, Any]:
    """One media attachment as Mastodon and Pixelfed read it: type, mediaType, url, alt text
    in `name`, blurhash, focalPoint, width/height (within Pixelfed's 5000 px)."""
    renditions = _renditions(row)
    chosen = renditions.get("original") or {}
    width = chosen.get("width") or row["width"]
    height = chosen.get("height") or row["height"]
    if row["type"] == "image" and max(width or 0, height or 0) > PIXELFED_MAX_SIDE:
        # Too big for Pixelfed: send the large rendition (JPEG for the widest support).
        chosen = renditions.get("large_jpeg") or renditions.get("large") or chosen
        width, height = chosen.get("width"), chosen.get("height")
    url = _rendition_url(chosen) if chosen.get("key") else row["remote_url"]
    media_type = chosen.get("mime") or chosen.get("content_type") or row["mime_type"]
    if not media_type:
        media_type = _media_type_for(url or "")
    kind = {"image": "Image", "video": "Video", "gifv": "Video", "audio": "Audio"}.get(
        row["type"], "Document"
    )
    document: dict[str, Any] = {
        "type": kind,
        "mediaType": media_type,
        "url": url,
        "name": row["description"] or None,
        "focalPoint": [row["focus_x"] or 0.0, row["focus_y"] or 0.0],
    }
    if row["blurhash"] and len(row["blurhash"]) in BLURHASH_LENGTHS:
        document["blurhash"] = row["blurhash"]
    if width and height:
        document["width"], document["height"] = int(width), int(height)
    return document


def addressing(
    visibility: str, followers_url: str, mentioned_uris: list[str]
) -> tuple[list[str], list[str]]:
    """(to, cc) for a visibility: public = Public in `to`, unlisted = Public in `cc`,
    private = the followers collection, direct = only the mentioned actors."""
    if visibility == "public":
        return [PUBLIC], [followers_url, *mentioned_uris]
    if visibility == "unlisted":
        return [followers_url], [PUBLIC, *mentioned_uris]
    if visibility == "private":
        return [followers_url], list(mentioned_uris)
    return list(mentioned_uris), []


def _acct_name(account: Record) -> str:
    domain = account["domain"] or get_settings().domain
    return f"@{account['username']}@{domain}"


def note_document(view: Any, in_reply_to_uri: str | None) -> dict[str, Any]:
    """A local post (a PostView) as a Note; `in_reply_to_uri` is the parent's id if any."""
    post, author = view.post, view.account
    settings = get_settings()
    mentioned = [m["uri"] for m in view.mentions]
    to, cc = addressing(post["visibility"], author["followers_url"], mentioned)
    tags: list[dict[str, Any]] = [
        {"type": "Mention", "href": m["uri"], "name": _acct_name(m)} for m in view.mentions
    ]
    tags += [
        {
            "type": "Hashtag",
            "href": f"{settings.base_url}/tags/{quote(t['name'])}",
            "name": f"#{t['name']}",
        }
        for t in view.tags
    ]
    document: dict[str, Any] = {
        "id": post["uri"],
        "type": "Note",
        "attributedTo": author["uri"],
        "summary": post["spoiler_text"] or None,
        "content": post["content"],
        "sensitive": post["sensitive"],
        "published": iso(post["created_at"]),
        "url": post["url"] or post["uri"],
        "inReplyTo": in_reply_to_uri,
        "to": to,
        "cc": cc,
        "tag": tags,
        "attachment": [attachment_document(m) for m in view.media],
    }
    if post["language"]:
        document["contentMap"] = {post["language"]: post["content"]}
    if post["edited_at"] is not None:
        document["updated"] = iso(post["edited_at"])
    return document


def with_context(document: dict[str, Any]) -> dict[str, Any]:
    return {"@context": CONTEXT, **document}


def activity_document(
    kind: str,
    activity_id: str,
    actor_uri: str,
    obj: Any,
    *,
    to: list[str] | None = None,
    cc: list[str] | None = None,
    published: datetime | None = None,
) -> dict[str, Any]:
    """An activity wrapping `obj` (a document or an IRI)."""
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": activity_id,
        "type": kind,
        "actor": actor_uri,
        "object": obj,
    }
    if to is not None:
        document["to"] = to
    if cc is not None:
        document["cc"] = cc
    if published is not None:
        document["published"] = iso(published)
    return document


# --- remote posts: AS2 → post fields -----------------------------------------------------------


@dataclass
class RemoteMedia:
    type: str  # image | video | gifv | audio | unknown
    url: str
    mime_type: str = ""
    description: str = ""
    blurhash: str | None = None
    width: int | None = None
    height: int | None = None
    focus_x: float = 0.0
    focus_y: float = 0.0


@dataclass
class RemotePost:
    uri: str
    author_uri: str
    url: str
    content: str
    text: str
    spoiler_text: str
    sensitive: bool
    visibility: str
    language: str | None
    in_reply_to_uri: str
    published: datetime | None
    edited: datetime | None
    media: list[RemoteMedia]
    hashtags: list[str]
    mention_uris: list[str]
    addressed: list[str]  # every actor or collection in to/cc (for direct messages)


def visibility_from_addressing(obj: dict[str, Any], followers_url: str) -> str:
    """public: Public in `to`; unlisted: Public in `cc`; private: the followers collection is
    addressed; direct: neither (only the actors named)."""
    to = [id_of(v) for v in as_list(obj.get("to"))]
    cc = [id_of(v) for v in as_list(obj.get("cc"))]
    if any(address in PUBLIC_FORMS for address in to):
        return "public"
    if any(address in PUBLIC_FORMS for address in cc):
        return "unlisted"
    if followers_url and followers_url in to + cc:
        return "private"
    if any(address.endswith("/followers") for address in to + cc):
        return "private"
    return "direct"


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and 0 < value < 1_000_000:
        return int(value)
    return None


def _focus(value: Any) -> tuple[float, float]:
    if isinstance(value, list) and len(value) == 2:
        try:
            x, y = float(value[0]), float(value[1])
        except (TypeError, ValueError):
            return 0.0, 0.0
        return max(-1.0, min(1.0, x)), max(-1.0, min(1.0, y))
    return 0.0, 0.0


def _media_kind(as_type: str, mime: str) -> str:
    if mime.startswith("image/gif"):
        return "image"
    if mime.startswith("image/"):
        return "image"
    if mime.startswith("video/"):
        return "video"
    if mime.startswith("audio/"):
        return "audio"
    return {"Image": "image", "Video": "video", "Audio": "audio"}.get(as_type, "unknown")


def _link_url(value: Any, prefer: str = "") -> tuple[str, str]:
    """(url, mediaType) of an attachment's `url`: a string, a Link, or a list of Links."""
    links = as_list(value)
    for link in links:
        if isinstance(link, dict) and prefer and str(link.get("mediaType", "")).startswith(prefer):
            href = link.get("href") or link.get("url")
            if isinstance(href, str):
                return href, str(link.get("mediaType", ""))
    for link in links:
        if isinstance(link, str):
            return link, ""
        if isinstance(link, dict):
            href = link.get("href") or link.get("url")
            if isinstance(href, str):
                return href, str(link.get("mediaType", ""))
    return "", ""


def media_from_attachment(item: Any) -> RemoteMedia | None:
    if not isinstance(item, dict):
        return None
    kind = type_of(item)
    if kind in ("PropertyValue", "Link", "Hashtag", "Mention") and not item.get("mediaType"):
        return None
    url, link_type = _link_url(item.get("url") if "url" in item else item.get("href"))
    if not url or not host_of(url):
        return None
    mime = str(item.get("mediaType") or link_type or "")
    if not mime:
        guessed, _ = mimetypes.guess_type(url.split("?")[0])
        mime = guessed or ""
    # Alt text: Mastodon and Pixelfed put it in `name`, GoToSocial in `summary`.
    description = text_of(item.get("name")) or text_of(item.get("summary"))
    blurhash = item.get("blurhash")
    focus_x, focus_y = _focus(item.get("focalPoint"))
    return RemoteMedia(
        type=_media_kind(kind, mime),
        url=url,
        mime_type=mime[:64],
        description=description.strip()[:1500],
        blurhash=blurhash if isinstance(blurhash, str) and 6 <= len(blurhash) <= 200 else None,
        width=_int_or_none(item.get("width")),
        height=_int_or_none(item.get("height")),
        focus_x=focus_x,
        focus_y=focus_y,
    )


def html_to_text(content: str) -> str:
    """The text of sanitised HTML (for search and previews): tags dropped, breaks kept."""
    from html import unescape

    text = re.sub(r"<br\s*/?>", "\n", content, flags=re.IGNORECASE)
    text = re.sub(r"</p>\s*<p[^>]*>", "\n\n", text, flags=re.IGNORECASE)
    return unescape(re.sub(r"<[^>]+>", "", text)).strip()


def post_from_object(obj: dict[str, Any], followers_url: str) -> RemotePost:
    """Read a Note (or Image, Video, Page, Article, Question) into post fields."""
    kind = type_of(obj)
    content = text_of(obj.get("content")) or text_of(obj.get("contentMap"))
    name = text_of(obj.get("name"))
    page_url = _html_url_of(obj.get("url")) or id_of(obj)
    if kind in ("Page", "Article", "Video", "Event") and name:
        # Titled objects show their title first, linked to the original (as Mastodon does).
        title = f'<p><a href="{escape(page_url)}">{escape(name)}</a></p>'
        content = title + (content if kind != "Video" else "")
    content = sanitize_html(content)
    media = [m for m in (media_from_attachment(a) for a in as_list(obj.get("attachment"))) if m]
    if kind == "Video" and not media:
        url, mime = _link_url(obj.get("url"), prefer="video/")
        if url and mime.startswith("video/"):
            media.append(RemoteMedia(type="video", url=url, mime_type=mime[:64]))
    hashtags, mentions = [], []
    for tag in as_list(obj.get("tag")):
        if not isinstance(tag, dict):
            continue
        tag_type = type_of(tag)
        if tag_type == "Hashtag":
            tag_name = text_of(tag.get("name")).lstrip("#").strip()
            if tag_name and len(tag_name) <= 100:
                hashtags.append(tag_name)
        elif tag_type == "Mention":
            href = id_of(tag.get("href")) or id_of(tag)
            if href:
                mentions.append(href)
    language = None
    content_map = obj.get("contentMap")
    if isinstance(content_map, dict) and content_map:
        candidate = next(iter(content_map))
        if isinstance(candidate, str) and 2 <= len(candidate) <= 16:
            language = candidate
    addressed = [
        address
        for address in (id_of(v) for v in as_list(obj.get("to")) + as_list(obj.get("cc")))
        if address and address not in PUBLIC_FORMS
    ]
    return RemotePost(
        uri=id_of(obj),
        author_uri=next((id_of(a) for a in as_list(obj.get("attributedTo"))), ""),
        url=page_url,
        content=content,
        text=html_to_text(content),
        spoiler_text=text_of(obj.get("summary")).strip()[:500],
        sensitive=obj.get("sensitive") is True or bool(text_of(obj.get("summary")).strip()),
        visibility=visibility_from_addressing(obj, followers_url),
        language=language,
        in_reply_to_uri=id_of(obj.get("inReplyTo")),
        published=parse_time(obj.get("published")),
        edited=parse_time(obj.get("updated")),
        media=media[:20],
        hashtags=list(dict.fromkeys(hashtags))[:30],
        mention_uris=list(dict.fromkeys(mentions)),
        addressed=addressed,
    )
