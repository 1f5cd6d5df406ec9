"""ActivityStreams vocabulary and the JSON-LD shapes peers send: single values or arrays, objects
or bare IRIs, three spellings of Public."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_FORMS = frozenset({PUBLIC, "as:Public", "Public"})

ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
POST_TYPES = frozenset({"Note", "Image", "Video", "Page", "Article", "Question", "Audio", "Event"})

# The context of every document we serve: AS2, security (publicKey), and the few extension
# terms peers read (Mastodon's sensitive/blurhash/focalPoint/discoverable, Pixelfed's hashtags).
CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "toot": "http://joinmastodon.org/ns#",
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "blurhash": "toot:blurhash",
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
        "movedTo": {"@id": "as:movedTo", "@type": "@id"},
    },
]

ACTIVITY_JSON = "application/activity+json"


def as_list(value: Any) -> list[Any]:
    """Any property as a list: absent → [], single → [it], list → itself."""
    if value is None:
        return []
    if isinstance(value, list):
        return [v for v in value if v is not None]
    return [value]


def id_of(value: Any) -> str:
    """The IRI of a value that is an IRI, an object with an id, or a Link with an href."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        found = value.get("id") or value.get("href")
        return found if isinstance(found, str) else ""
    if isinstance(value, list) and value:
        return id_of(value[0])
    return ""


def ids_of(value: Any) -> list[str]:
    return [found for found in (id_of(v) for v in as_list(value)) if found]


def type_of(value: Any) -> str:
    """The type of an object; when `type` is a list, the first ActivityStreams-looking one."""
    if not isinstance(value, dict):
        return ""
    kind = value.get("type")
    if isinstance(kind, str):
        return kind
    if isinstance(kind, list):
        for candidate in kind:
            if isinstance(candidate, str) and ":" not in candidate:
                return candidate
        return next((k for k in kind if isinstance(k, str)), "")
    return ""


def text_of(value: Any) -> str:
    """A string property (also a language map's first value)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for item in value.values():
            if isinstance(item, str):
                return item
    if isinstance(value, list) and value and isinstance(value[0], str):
        return value[0]
    return ""


@lru_cache(maxsize=65536)
def host_of(uri: str) -> str:
    """The host of a URI with its port when it has one (`127.0.0.2:8000`), lowercased."""
    parts = urlsplit(uri or "")
    if not parts.hostname:
        return ""
    return parts.hostname.lower() + (f":{parts.port}" if parts.port else "")


def same_host(a: str, b: str) -> bool:
    return bool(a) and host_of(a) == host_of(b)


def media_type_is_activity(content_type: str) -> bool:
    """Whether an Accept or Content-Type names ActivityStreams JSON."""
    lowered = content_type.lower()
    return "application/activity+json" in lowered or "application/ld+json" in lowered
