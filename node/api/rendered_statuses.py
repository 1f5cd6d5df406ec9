"""Timeline pages as JSON from Statuses rendered once per version of their rows.

A feed page is mostly posts already shown to someone else: rendering each Status again (and
reading its media, tags, mentions and author for that) was most of a page's cost. Here each
post's Status is kept in this process as JSON bytes, keyed by the row versions of the post and
its author (timeline.views.ENTRY_COLUMNS), so a change to either — an edit, a like, new media,
a renamed author — is a new key and the next page renders it afresh. Only the viewer's own
state (favourited, reblogged, bookmarked, pinned) and the boost wrapper are added per request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import msgspec

from node.api import entities
from node.post_views import PostView
from timeline.views import post_views

MAX_ENTRIES = 20_000  # a Status is 1–3 kB of JSON: tens of MB at most per web process

_encode = msgspec.json.Encoder().encode
_TRUE_FALSE = (b"false", b"true")

# post id -> ((post row version, author row version), the Status without "reblog" and the
# viewer's fields, as JSON without its closing brace)
_pieces: dict[int, tuple[tuple[int, int], bytes]] = {}


def _store(post_id: int, version: tuple[int, int], view: PostView) -> bytes:
    status = entities.status(replace(view, reblog=None, viewer=None))
    del status["reblog"]
    piece = _encode(status)[:-1]
    if len(_pieces) >= MAX_ENTRIES:
        del _pieces[next(iter(_pieces))]  # the oldest
    _pieces[post_id] = (version, piece)
    return piece


def _cached(post_id: int, version: tuple[int, int]) -> bytes | None:
    entry = _pieces.get(post_id)
    return entry[1] if entry is not None and entry[0] == version else None


def _viewer_fields(entry: Mapping[str, Any]) -> bytes:
    return b',"favourited":%s,"reblogged":%s,"muted":false,"bookmarked":%s,"pinned":%s' % (
        _TRUE_FALSE[entry["favourited"]],
        _TRUE_FALSE[entry["reblogged"]],
        _TRUE_FALSE[entry["bookmarked"]],
        _TRUE_FALSE[entry["pinned"]],
    )


def _versions(entry: Mapping[str, Any]) -> list[tuple[int, tuple[int, int]]]:
    """The posts an entry shows (itself, and what it boosts) with their versions."""
    shown = [(entry["id"], (entry["version"], entry["author_version"]))]
    if entry["reblog_of_id"] is not None:
        shown.append(
            (entry["reblog_of_id"], (entry["reblog_version"], entry["reblog_author_version"]))
        )
    return shown


async def statuses_json(entries: Sequence[Mapping[str, Any]]) -> bytes:
    """A JSON array of Statuses for ENTRIES rows (a signed-in viewer's page), in their order."""
    shown = [_versions(entry) for entry in entries]
    pieces = {post_id: _cached(post_id, version) for posts in shown for post_id, version in posts}
    missing = [post_id for post_id, piece in pieces.items() if piece is None]
    if missing:
        # Rendered with the versions read now: a post changed since the page was chosen is shown
        # as it is now and cached under its new version.
        for view in await post_views(missing, None):
            for found in (view, view.reblog):
                if found is not None and found.post["id"] in pieces:
                    version = (found.post["row_version"], found.post["author_row_version"])
                    pieces[found.post["id"]] = _store(found.post["id"], version, found)
    # One list of parts joined once: the page is tens of kB, so every concatenation would copy it.
    parts = [b"["]
    for entry, posts in zip(entries, shown, strict=True):
        if any(pieces[post_id] is None for post_id, _ in posts):
            continue  # deleted between choosing the page and rendering it
        viewer = _viewer_fields(entry)
        if len(parts) > 1:
            parts.append(b",")
        parts.append(pieces[posts[0][0]])
        if len(posts) == 1:
            parts.append(b',"reblog":null')
        else:
            parts += (b',"reblog":', pieces[posts[1][0]], b',"reblog":null', viewer, b"}")
        parts += (viewer, b"}")
    parts.append(b"]")
    return b"".join(parts)
