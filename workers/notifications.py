"""Real-time jobs: notifications, direct-message conversations, streaming events and Web Push,
from domain events. Thin: call node.notifications / conversations / push, render what clients
see (node.api.entities) and publish it through node.streaming."""

from __future__ import annotations

import logging
from typing import Any

from arq import Retry

from node import conversations, db, notifications, push, streaming
from node.api import entities
from node.jobs import enqueue
from node.post_views import hydrate

log = logging.getLogger("pinhole.realtime")

PUSH_RETRY_SECONDS = (5, 30, 300, 1800)  # then the message is given up


async def _deliver(notification_ids: list[int]) -> None:
    """Each new notification: onto its owner's `user` stream, and to their push subscriptions."""
    if not notification_ids:
        return
    rows = await db.fetch(
        "SELECT * FROM notifications WHERE id = ANY($1::bigint[]) ORDER BY id", notification_ids
    )
    for row in rows:
        shown = await notifications.views([row], row["account_id"])
        if not shown:
            continue
        await streaming.publish(
            [streaming.user_stream(row["account_id"])],
            "notification",
            entities.notification(shown[0]),
        )
        for subscription_id in await push.subscriptions_for(row["id"]):
            await enqueue(
                "send_web_push",
                subscription_id,
                row["id"],
                job_id=f"push:{subscription_id}:{row['id']}",
            )


async def notify_follow(ctx: dict[str, Any], follower_id: int, target_id: int) -> None:
    """follow.created"""
    await _deliver(await notifications.on_follow(follower_id, target_id))


async def notify_follow_request(ctx: dict[str, Any], follower_id: int, target_id: int) -> None:
    """follow.requested"""
    await _deliver(await notifications.on_follow_request(follower_id, target_id))


async def settle_follow_request(ctx: dict[str, Any], follower_id: int, target_id: int) -> None:
    """follow_request.authorized/rejected, follow.removed: the request's notification goes."""
    await notifications.on_follow_request_settled(follower_id, target_id)


async def notify_favourite(ctx: dict[str, Any], favourite_id: int) -> None:
    """favourite.created"""
    await _deliver(await notifications.on_favourite(favourite_id))


async def _announce_conversation(deliveries: list[conversations.Delivery]) -> None:
    """A direct message on each participant's `direct` stream: `conversation` with the updated
    conversation, or `pinhole.conversation_request` while it waits among message requests."""
    for delivery in sorted(deliveries, key=lambda d: d.own):  # recipients first: they wait
        view = await conversations.view(
            delivery.account_id, delivery.conversation_id, as_of_post_id=delivery.post_id
        )
        await streaming.publish(
            [streaming.direct_stream(delivery.account_id)],
            "pinhole.conversation_request" if delivery.request else "conversation",
            entities.conversation(view),
        )


async def _public_channels(post_id: int) -> tuple[list[str], list[str]]:
    """(public channels, hashtag channels) a post is streamed to: public posts only; boosts and
    replies to others stay off the public streams (as on Mastodon), not off their hashtags."""
    post = await db.fetchrow(
        """SELECT p.id, p.local, p.visibility, p.reblog_of_id, p.account_id,
                  p.in_reply_to_account_id, p.in_reply_to_uri,
                  EXISTS (SELECT 1 FROM media_attachments m WHERE m.post_id = p.id) AS media,
                  ARRAY(SELECT t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id
                        WHERE pt.post_id = p.id) AS tags
           FROM posts p WHERE p.id = $1""",
        post_id,
    )
    if post is None or post["visibility"] != "public" or post["reblog_of_id"] is not None:
        return [], []
    replying_to_other = post["in_reply_to_account_id"] not in (None, post["account_id"]) or (
        post["in_reply_to_account_id"] is None and post["in_reply_to_uri"] != ""
    )
    public = (
        []
        if replying_to_other
        else streaming.public_streams(local=post["local"], media=post["media"])
    )
    tags = [streaming.hashtag_stream(t) for t in post["tags"]]
    if post["local"]:
        tags += [streaming.hashtag_stream(t, local=True) for t in post["tags"]]
    return public, tags


async def announce_post(ctx: dict[str, Any], post_id: int) -> None:
    """post.created: a public post on the public and hashtag streams (home and list streams are
    the feed fan-out's, which knows whose feeds a post enters); a direct message into its
    participants' conversations (in order, announced once); then mentions, comments, boosts
    and subscribed posts notify — except those for whom the message waits among requests."""
    public, tags = await _public_channels(post_id)
    if public or tags:
        shown = await hydrate([post_id], None)
        if shown:
            await streaming.publish(public + tags, "update", entities.status(shown[0]))
    await conversations.record_direct_post(post_id, _announce_conversation)
    quiet = await conversations.request_recipients(post_id)
    await _deliver(await notifications.on_post_created(post_id, quiet=quiet))


async def _readers(post_id: int) -> list[int]:
    """Local accounts whose `user` stream may show a post: its author, the author's local
    followers (unless the post is direct) and the accounts it mentions."""
    rows = await db.fetch(
        """SELECT p.account_id AS id FROM posts p WHERE p.id = $1
           UNION SELECT f.account_id FROM posts p JOIN follows f ON f.target_account_id = p.account_id
                 JOIN users u ON u.account_id = f.account_id
                 WHERE p.id = $1 AND p.visibility <> 'direct'
           UNION SELECT m.account_id FROM mentions m JOIN users u ON u.account_id = m.account_id
                 WHERE m.post_id = $1""",
        post_id,
    )
    return [r["id"] for r in rows]


async def notify_post_update(ctx: dict[str, Any], post_id: int) -> None:
    """post.updated: `status.update` wherever the post may be on screen, and `update`
    notifications for those who boosted or liked it."""
    readers = await _readers(post_id)
    direct = await db.fetchval("SELECT visibility = 'direct' FROM posts WHERE id = $1", post_id)

    def streams_of(reader: int) -> list[str]:
        own = [streaming.user_stream(reader)]
        return [*own, streaming.direct_stream(reader)] if direct else own

    anonymous = await hydrate([post_id], None)
    if anonymous:  # public or unlisted: one rendering for every stream
        public, tags = await _public_channels(post_id)
        channels = public + tags + [s for r in readers for s in streams_of(r)]
        await streaming.publish(channels, "status.update", entities.status(anonymous[0]))
    else:  # followers-only or direct: each reader gets it as they may see it
        for reader in readers:
            shown = await hydrate([post_id], reader)
            if shown:
                await streaming.publish(
                    streams_of(reader), "status.update", entities.status(shown[0])
                )
    await _deliver(await notifications.on_post_updated(post_id))


async def retract_post(ctx: dict[str, Any], post_id: int) -> None:
    """post.deleted: `delete` on every stream that may show it; its notifications go; the
    conversations that held it fall back to their latest remaining message."""
    readers = await _readers(post_id)
    post = await db.fetchrow(
        """SELECT p.local, p.visibility, p.reblog_of_id,
                  ARRAY(SELECT t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id
                        WHERE pt.post_id = p.id) AS tags
           FROM posts p WHERE p.id = $1""",
        post_id,
    )
    channels = [streaming.user_stream(a) for a in readers]
    if post is not None and post["visibility"] == "public":
        channels += streaming.public_streams(local=post["local"], media=True)
        channels += [streaming.hashtag_stream(t) for t in post["tags"]]
        channels += [streaming.hashtag_stream(t, local=True) for t in post["tags"]]
    if post is not None and post["visibility"] == "direct":
        channels += [streaming.direct_stream(a) for a in readers]
    await streaming.publish(channels, "delete", str(post_id))
    await notifications.on_post_deleted(post_id)
    for row in await conversations.on_post_deleted(post_id):
        if not row["gone"]:
            view = await conversations.view(row["account_id"], row["id"])
            await streaming.publish(
                [streaming.direct_stream(row["account_id"])],
                "pinhole.conversation_request" if row["request"] else "conversation",
                entities.conversation(view),
            )


async def notify_sign_up(ctx: dict[str, Any], account_id: int) -> None:
    """account.created: `admin.sign_up` for moderators and admins."""
    await _deliver(await notifications.on_account_created(account_id))


async def notify_report(ctx: dict[str, Any], report_id: int) -> None:
    """report.created: `admin.report` for moderators and admins."""
    await _deliver(await notifications.on_report_created(report_id))


async def refresh_stream_filters(ctx: dict[str, Any], blocker_id: int, target_id: int) -> None:
    """block.created/removed: both accounts' open streams reread whom to filter out."""
    await streaming.filters_changed(blocker_id, target_id)


async def send_web_push(ctx: dict[str, Any], subscription_id: int, notification_id: int) -> None:
    """One notification to one push subscription, retried with growing delays; a subscription
    the push service no longer knows (404/410) is removed."""
    row = await db.fetchrow("SELECT * FROM notifications WHERE id = $1", notification_id)
    if row is None:
        return
    shown = await notifications.views([row], row["account_id"])
    if not shown:
        return
    locale = await db.fetchval("SELECT locale FROM users WHERE account_id = $1", row["account_id"])
    result = await push.send(subscription_id, push.payload_for(shown[0], locale or "en"))
    if result.outcome is push.Outcome.RETRY:
        attempt = ctx.get("job_try", 1)
        if attempt <= len(PUSH_RETRY_SECONDS):
            delay = max(PUSH_RETRY_SECONDS[attempt - 1], result.retry_after or 0)
            raise Retry(defer=delay)
        log.info("push %s to subscription %s given up", notification_id, subscription_id)


FUNCTIONS = [
    notify_follow,
    notify_follow_request,
    settle_follow_request,
    notify_favourite,
    announce_post,
    notify_post_update,
    retract_post,
    notify_sign_up,
    notify_report,
    refresh_stream_filters,
    send_web_push,
]
