"""What our accounts do, as activities for their remote audience: the outgoing side of each
domain event (post, edit, delete, like, follow, accept/reject, block, profile update)."""

from __future__ import annotations

import logging
from typing import Any

from asyncpg import Record

from federation.convert import activity_document, local_actor_document
from federation.delivery import send
from federation.instance_actor import instance_actor_uri
from federation.objects import announce_activity, create_activity, note_for
from federation.vocabulary import PUBLIC
from node import db
from node.ids import new_id
from node.post_views import PostView, hydrate

log = logging.getLogger("pinhole.federation.outbox")


async def _account(account_id: int) -> Record | None:
    return await db.fetchrow("SELECT * FROM accounts WHERE id = $1", account_id)


def _is_local(account: Record | None) -> bool:
    return account is not None and account["domain"] == ""


def _is_remote(account: Record | None) -> bool:
    return account is not None and account["domain"] != ""


async def _last_sent(kind: str, account_id: int, object_uri: str) -> str:
    """The id of the newest activity of `kind` we sent about `object_uri` (for an Undo)."""
    found = await db.fetchval(
        """SELECT uri FROM outbox_activities
           WHERE account_id = $1 AND activity_type = $2 AND object_uri = $3
           ORDER BY id DESC LIMIT 1""",
        account_id,
        kind,
        object_uri,
    )
    return found or ""


async def remote_followers(account_id: int) -> list[Record]:
    return await db.fetch(
        """SELECT a.* FROM follows f JOIN accounts a ON a.id = f.account_id
           WHERE f.target_account_id = $1 AND a.domain <> '' AND a.suspended_at IS NULL""",
        account_id,
    )


# --- the social graph ---------------------------------------------------------------------


async def follow_requested(follower_id: int, target_id: int) -> None:
    """A local account asked to follow a remote one: send Follow (the request waits for Accept)."""
    follower, target = await _account(follower_id), await _account(target_id)
    if not _is_local(follower) or not _is_remote(target):
        return
    request_id = await db.fetchval(
        "SELECT id FROM follow_requests WHERE account_id = $1 AND target_account_id = $2",
        follower_id,
        target_id,
    )
    if request_id is None:
        return
    follow_uri = f"{follower['uri']}#follows/{request_id}"
    await db.execute("UPDATE follow_requests SET uri = $2 WHERE id = $1", request_id, follow_uri)
    activity = activity_document("Follow", follow_uri, follower["uri"], target["uri"])
    await send(activity, follower_id, [target])


async def follow_removed(follower_id: int, target_id: int) -> None:
    """A local account stopped following (or withdrew its request to) a remote one: Undo."""
    follower, target = await _account(follower_id), await _account(target_id)
    if not _is_local(follower) or not _is_remote(target):
        return
    follow_uri = await _last_sent("Follow", follower_id, target["uri"])
    follow = {"type": "Follow", "actor": follower["uri"], "object": target["uri"]}
    if follow_uri:
        follow = {"id": follow_uri, **follow}
    activity = activity_document(
        "Undo", f"{follower['uri']}#follows/{new_id()}/undo", follower["uri"], follow
    )
    await send(activity, follower_id, [target])


async def answer_follow(owner: Record, follower: Record, follow_uri: str, answer: str) -> None:
    """Accept or Reject a remote account's Follow of a local one."""
    follow: dict[str, Any] = {"type": "Follow", "actor": follower["uri"], "object": owner["uri"]}
    if follow_uri:
        follow = {"id": follow_uri, **follow}
    activity = activity_document(
        answer,
        f"{owner['uri']}#{answer.lower()}s/follows/{new_id()}",
        owner["uri"],
        follow,
        to=[follower["uri"]],
    )
    await send(activity, owner["id"], [follower])


async def follow_request_answered(follower_id: int, owner_id: int, answer: str) -> None:
    """A local owner authorized or rejected a remote account's request: Accept / Reject."""
    follower, owner = await _account(follower_id), await _account(owner_id)
    if not _is_remote(follower) or not _is_local(owner):
        return
    follow_uri = ""
    if answer == "Accept":
        follow_uri = (
            await db.fetchval(
                "SELECT uri FROM follows WHERE account_id = $1 AND target_account_id = $2",
                follower_id,
                owner_id,
            )
            or ""
        )
    await answer_follow(owner, follower, follow_uri, answer)


async def block_created(blocker_id: int, target_id: int) -> None:
    blocker, target = await _account(blocker_id), await _account(target_id)
    if not _is_local(blocker) or not _is_remote(target):
        return
    block_id = await db.fetchval(
        "SELECT id FROM blocks WHERE account_id = $1 AND target_account_id = $2",
        blocker_id,
        target_id,
    )
    block_uri = f"{blocker['uri']}#blocks/{block_id or new_id()}"
    if block_id is not None:
        await db.execute("UPDATE blocks SET uri = $2 WHERE id = $1", block_id, block_uri)
    activity = activity_document("Block", block_uri, blocker["uri"], target["uri"])
    await send(activity, blocker_id, [target])


async def block_removed(blocker_id: int, target_id: int) -> None:
    blocker, target = await _account(blocker_id), await _account(target_id)
    if not _is_local(blocker) or not _is_remote(target):
        return
    block_uri = await _last_sent("Block", blocker_id, target["uri"])
    block: dict[str, Any] = {"type": "Block", "actor": blocker["uri"], "object": target["uri"]}
    if block_uri:
        block = {"id": block_uri, **block}
    activity = activity_document(
        "Undo", f"{blocker['uri']}#blocks/{new_id()}/undo", blocker["uri"], block
    )
    await send(activity, blocker_id, [target])


async def account_updated(account_id: int) -> None:
    """A local profile changed: Update(Person) to every server that follows it."""
    account = await _account(account_id)
    if not _is_local(account):
        return
    document = local_actor_document(account)
    document.pop("@context", None)
    activity = activity_document(
        "Update",
        f"{account['uri']}#updates/{new_id()}",
        account["uri"],
        document,
        to=[PUBLIC],
        cc=[account["followers_url"]],
    )
    await send(activity, account_id, await remote_followers(account_id))


# --- posts ----------------------------------------------------------------------------------


async def _post_view(post_id: int) -> PostView | None:
    """A post as its author sees it (so followers-only and direct posts load too)."""
    author_id = await db.fetchval(
        "SELECT account_id FROM posts WHERE id = $1 AND local AND deleted_at IS NULL", post_id
    )
    if author_id is None:
        return None
    views = await hydrate([post_id], author_id)
    return views[0] if views else None


async def post_audience(post: Record, author_id: int) -> list[Record]:
    """Remote accounts a post goes to: followers (unless direct), mentioned accounts, and the
    author of the post it replies to."""
    audience: list[Record] = []
    if post["visibility"] != "direct":
        audience += await remote_followers(author_id)
    audience += await db.fetch(
        """SELECT a.* FROM mentions m JOIN accounts a ON a.id = m.account_id
           WHERE m.post_id = $1 AND a.domain <> ''""",
        post["id"],
    )
    if post["in_reply_to_account_id"] is not None and post["visibility"] != "direct":
        parent_author = await _account(post["in_reply_to_account_id"])
        if _is_remote(parent_author):
            audience.append(parent_author)
    if post["reblog_of_id"] is not None:
        original_author = await db.fetchrow(
            "SELECT a.* FROM posts p JOIN accounts a ON a.id = p.account_id WHERE p.id = $1",
            post["reblog_of_id"],
        )
        if _is_remote(original_author):
            audience.append(original_author)
    return audience


async def post_created(post_id: int) -> None:
    view = await _post_view(post_id)
    if view is None:
        return
    if view.reblog is not None:
        activity = announce_activity(view)
    else:
        activity = create_activity(await note_for(view), view)
    await send(activity, view.account["id"], await post_audience(view.post, view.account["id"]))


async def post_updated(post_id: int) -> None:
    view = await _post_view(post_id)
    if view is None or view.reblog is not None:
        return
    note = await note_for(view)
    activity = activity_document(
        "Update",
        f"{view.post['uri']}#updates/{new_id()}",
        view.account["uri"],
        note,
        to=note["to"],
        cc=note["cc"],
    )
    await send(activity, view.account["id"], await post_audience(view.post, view.account["id"]))


async def post_deleted(post_id: int) -> None:
    """A local post (or boost) was deleted: Delete(Tombstone), or Undo(Announce) for a boost."""
    post = await db.fetchrow("SELECT * FROM posts WHERE id = $1 AND local", post_id)
    if post is None:
        return
    author = await _account(post["account_id"])
    if not _is_local(author):
        return
    audience = await post_audience(post, author["id"])
    if post["reblog_of_id"] is not None:
        original_uri = await db.fetchval(
            "SELECT uri FROM posts WHERE id = $1", post["reblog_of_id"]
        )
        announce = {
            "id": post["uri"],
            "type": "Announce",
            "actor": author["uri"],
            "object": original_uri,
        }
        activity = activity_document(
            "Undo", f"{post['uri']}#undo", author["uri"], announce, to=[PUBLIC]
        )
    else:
        activity = activity_document(
            "Delete",
            f"{post['uri']}#delete",
            author["uri"],
            {"id": post["uri"], "type": "Tombstone"},
            to=[PUBLIC],
            cc=[author["followers_url"]],
        )
    await send(activity, author["id"], audience)


# --- likes ------------------------------------------------------------------------------------


async def favourite_created(favourite_id: int) -> None:
    row = await db.fetchrow(
        """SELECT f.id, f.account_id, p.uri AS post_uri, p.account_id AS author_id
           FROM favourites f JOIN posts p ON p.id = f.post_id WHERE f.id = $1""",
        favourite_id,
    )
    if row is None:
        return
    liker, author = await _account(row["account_id"]), await _account(row["author_id"])
    if not _is_local(liker) or not _is_remote(author):
        return
    like_uri = f"{liker['uri']}#likes/{favourite_id}"
    await db.execute("UPDATE favourites SET uri = $2 WHERE id = $1", favourite_id, like_uri)
    activity = activity_document("Like", like_uri, liker["uri"], row["post_uri"])
    await send(activity, liker["id"], [author])


async def favourite_removed(account_id: int, post_id: int, favourite_uri: str) -> None:
    liker = await _account(account_id)
    post = await db.fetchrow("SELECT uri, account_id FROM posts WHERE id = $1", post_id)
    if not _is_local(liker) or post is None:
        return
    author = await _account(post["account_id"])
    if not _is_remote(author):
        return
    like_uri = favourite_uri or await _last_sent("Like", account_id, post["uri"])
    like: dict[str, Any] = {"type": "Like", "actor": liker["uri"], "object": post["uri"]}
    if like_uri:
        like = {"id": like_uri, **like}
    activity = activity_document(
        "Undo", f"{liker['uri']}#likes/{new_id()}/undo", liker["uri"], like
    )
    await send(activity, liker["id"], [author])


# --- moderation -----------------------------------------------------------------------------


async def report_created(report_id: int) -> None:
    """A report forwarded to the reported account's server: Flag, sent by the instance actor
    (so the reporter stays anonymous to the other server)."""
    report = await db.fetchrow("SELECT * FROM reports WHERE id = $1", report_id)
    if report is None or not report["forwarded"]:
        return
    target = await _account(report["target_account_id"])
    if not _is_remote(target):
        return
    post_uris = [
        row["uri"]
        for row in await db.fetch(
            "SELECT uri FROM posts WHERE id = ANY($1::bigint[]) AND account_id = $2",
            list(report["status_ids"]),
            target["id"],
        )
    ]
    actor = instance_actor_uri()
    activity = activity_document(
        "Flag", f"{actor}#reports/{report_id}", actor, [target["uri"], *post_uris]
    )
    activity["content"] = report["comment"]
    await send(activity, None, [target])
