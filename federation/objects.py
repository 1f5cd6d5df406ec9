"""Local posts as ActivityStreams objects and activities, ready to serve or deliver."""

from __future__ import annotations

from typing import Any

from federation.convert import activity_document, addressing, note_document, with_context
from node import db
from node.post_views import PostView


async def parent_uris(views: list[PostView]) -> dict[int, str]:
    """The ids (uris) of the posts these posts reply to, by post id."""
    parents = {v.post["in_reply_to_id"] for v in views if v.post["in_reply_to_id"]}
    rows = (
        await db.fetch("SELECT id, uri FROM posts WHERE id = ANY($1::bigint[])", list(parents))
        if parents
        else []
    )
    by_parent = {row["id"]: row["uri"] for row in rows}
    return {
        v.post["id"]: by_parent.get(v.post["in_reply_to_id"]) or v.post["in_reply_to_uri"] or ""
        for v in views
        if v.post["in_reply_to_id"] or v.post["in_reply_to_uri"]
    }


async def note_for(view: PostView) -> dict[str, Any]:
    parents = await parent_uris([view])
    return note_document(view, parents.get(view.post["id"]))


def create_activity(note: dict[str, Any], view: PostView) -> dict[str, Any]:
    return activity_document(
        "Create",
        f"{view.post['uri']}/activity",
        view.account["uri"],
        note,
        to=note["to"],
        cc=note["cc"],
        published=view.post["created_at"],
    )


def announce_activity(view: PostView) -> dict[str, Any]:
    """A local boost (a post row with reblog_of_id) as the Announce it stands for."""
    assert view.reblog is not None
    booster, original = view.account, view.reblog
    to, cc = addressing(view.post["visibility"], booster["followers_url"], [])
    if original.account["uri"] not in cc:
        cc.append(original.account["uri"])
    return activity_document(
        "Announce",
        view.post["uri"],
        booster["uri"],
        original.post["uri"],
        to=to,
        cc=cc,
        published=view.post["created_at"],
    )


async def object_for(view: PostView) -> dict[str, Any]:
    """What a post's id dereferences to: its Note, or the Announce of a boost."""
    if view.reblog is not None:
        return announce_activity(view)
    return with_context(await note_for(view))


async def outbox_items(views: list[PostView]) -> list[dict[str, Any]]:
    """Create (or Announce) activities for a page of an outbox, without @context each."""
    parents = await parent_uris(views)
    items = []
    for view in views:
        if view.reblog is not None:
            item = announce_activity(view)
        else:
            item = create_activity(note_document(view, parents.get(view.post["id"])), view)
        item.pop("@context", None)
        items.append(item)
    return items
