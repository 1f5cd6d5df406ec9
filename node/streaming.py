"""Real-time events through Redis pub/sub: any process publishes; each web process holds one Hub
(one Redis connection) that hands every event to the streaming clients connected to it.

Channels carry Mastodon's names under this node's Redis prefix: `timeline:<account>` (the
`user` stream, notifications included), `timeline:direct:<account>`, `timeline:public`,
`timeline:public:local`, `timeline:hashtag:<tag>`, `timeline:list:<id>`… A message is JSON:
{"event", "payload" (already a string, as clients receive it), "involved" (account ids the
event is about, so each viewer's blocks and mutes can drop it at delivery)}. Pub/sub keeps no
history, so a client that reconnects starts from fresh state and never sees an event twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from node import db
from node.auth import Identity
from node.captions import normalize_tag
from node.errors import Invalid, NotFound
from node.ids import parse_id
from node.redis import key, redis
from node.settings import get_settings

log = logging.getLogger("pinhole.streaming")

PUBLIC = "timeline:public"
PUBLIC_MEDIA = "timeline:public:media"
PUBLIC_LOCAL = "timeline:public:local"
PUBLIC_LOCAL_MEDIA = "timeline:public:local:media"
PUBLIC_REMOTE = "timeline:public:remote"
PUBLIC_REMOTE_MEDIA = "timeline:public:remote:media"
QUEUE_SIZE = 1000  # events waiting for one slow client before it is disconnected
FILTER_SECONDS = 60.0  # mutes emit no event: a viewer's filter is reread at least this often
FILTERS_CHANGED = "pinhole.filters_changed"  # control event on a system channel, not shown


def user_stream(account_id: int) -> str:
    return f"timeline:{account_id}"


def direct_stream(account_id: int) -> str:
    return f"timeline:direct:{account_id}"


def system_stream(account_id: int) -> str:
    """Control events for one account's sessions (blocks changed), never sent to clients."""
    return f"timeline:system:{account_id}"


def hashtag_stream(tag: str, *, local: bool = False) -> str:
    return f"timeline:hashtag:{normalize_tag(tag)}" + (":local" if local else "")


def list_stream(list_id: int) -> str:
    return f"timeline:list:{list_id}"


def public_streams(*, local: bool, media: bool) -> list[str]:
    """The public channels a public post goes to (with `:media` variants for posts with media)."""
    streams = [PUBLIC, PUBLIC_LOCAL if local else PUBLIC_REMOTE]
    if media:
        streams += [PUBLIC_MEDIA, PUBLIC_LOCAL_MEDIA if local else PUBLIC_REMOTE_MEDIA]
    return streams


# --- publishing ------------------------------------------------------------------------------


def _status_accounts(status: dict[str, Any]) -> set[int]:
    ids = {int(status["account"]["id"])}
    ids |= {int(m["id"]) for m in status.get("mentions") or []}
    if status.get("reblog"):
        ids |= _status_accounts(status["reblog"])
    return ids


async def publish(
    stream_keys: Iterable[str],
    event: str,
    payload: dict[str, Any] | list[Any] | str,
    *,
    involved: Iterable[int] | None = None,
) -> None:
    """Send one event to every client subscribed to any of `stream_keys` (channel names from
    user_stream(), PUBLIC, hashtag_stream()…), on every web process.

    `payload` is the rendered entity (a Status for `update`/`status.update`, a Notification…)
    or a string as is (a post id for `delete`). `involved`: accounts the event is about, whose
    blockers and muters do not get it; for a Status it defaults to its author, the boosted
    post's author and the mentioned accounts."""
    channels = list(dict.fromkeys(stream_keys))
    if not channels:
        return
    if involved is None:
        involved = (
            _status_accounts(payload)
            if event in ("update", "status.update") and isinstance(payload, dict)
            else ()
        )
    message = json.dumps(
        {
            "event": event,
            "payload": payload if isinstance(payload, str) else json.dumps(payload),
            "involved": sorted(set(involved)),
        }
    )
    client = redis()
    if len(channels) == 1:
        await client.publish(key(channels[0]), message)
        return
    async with client.pipeline(transaction=False) as pipe:
        for channel in channels:
            pipe.publish(key(channel), message)
        await pipe.execute()


async def filters_changed(*account_ids: int) -> None:
    """Tell these accounts' open sessions to reread whom they block and mute."""
    for account_id in account_ids:
        await publish([system_stream(account_id)], FILTERS_CHANGED, "")


# --- delivering (one Hub per web process) ----------------------------------------------------


@dataclass(frozen=True)
class StreamEvent:
    event: str
    payload: str
    involved: frozenset[int]
    _frames: dict[tuple[str, ...], str] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def frame(self, stream: tuple[str, ...]) -> str:
        """The WebSocket message for this event under a stream name, encoded once however
        many clients get it."""
        text = self._frames.get(stream)
        if text is None:
            text = self._frames[stream] = json.dumps(
                {"stream": list(stream), "event": self.event, "payload": self.payload}
            )
        return text


@dataclass(frozen=True)
class Subscription:
    """One stream a client subscribed to: Mastodon's `stream` array (["hashtag", "cats"]), the
    channel it reads, and the events it passes (None: all)."""

    stream: tuple[str, ...]
    channel: str
    events: frozenset[str] | None = None


class Hub:
    """One Redis pub/sub connection per process, multiplexed over every session here: a channel
    is subscribed while at least one session listens to it."""

    def __init__(self) -> None:
        self._sessions: dict[str, set[Session]] = {}
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._prefix = get_settings().redis_prefix

    async def attach(self, channel: str, session: Session) -> None:
        async with self._lock:
            await self._start()
            listeners = self._sessions.setdefault(channel, set())
            if not listeners:
                await self._pubsub.subscribe(key(channel))
            listeners.add(session)

    async def detach(self, channel: str, session: Session) -> None:
        async with self._lock:
            listeners = self._sessions.get(channel)
            if listeners is None:
                return
            listeners.discard(session)
            if not listeners:
                del self._sessions[channel]
                if self._pubsub is not None:
                    with contextlib.suppress(Exception):
                        await self._pubsub.unsubscribe(key(channel))

    async def _start(self) -> None:
        if self._reader is not None and not self._reader.done():
            return
        self._pubsub = redis().pubsub(ignore_subscribe_messages=True)
        # A subscription of its own, so the reader has something to listen to from the start.
        await self._pubsub.subscribe(key("timeline:hub"))
        for channel in self._sessions:
            await self._pubsub.subscribe(key(channel))
        self._reader = asyncio.create_task(self._read(), name="streaming-hub")

    async def _read(self) -> None:
        prefix = len(self._prefix)
        while True:
            try:
                async for message in self._pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    channel = message["channel"].decode()[prefix:]
                    listeners = self._sessions.get(channel)
                    if not listeners:
                        continue
                    event = _parse(message["data"])
                    if event is None:
                        continue
                    for session in list(listeners):
                        session.deliver(channel, event)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Redis went away: reconnect (redis-py resubscribes every channel); events
                # published meanwhile are lost, as for a client that reconnects.
                log.exception("streaming hub lost its Redis connection; reconnecting")
                await asyncio.sleep(1)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        self._reader = self._pubsub = None


def _parse(raw: bytes) -> StreamEvent | None:
    try:
        data = json.loads(raw)
        return StreamEvent(
            event=str(data["event"]),
            payload=str(data["payload"]),
            involved=frozenset(int(i) for i in data.get("involved") or ()),
        )
    except (ValueError, KeyError, TypeError):
        log.warning("dropped a malformed streaming message")
        return None


_hub: Hub | None = None


def hub() -> Hub:
    global _hub
    if _hub is None:
        _hub = Hub()
    return _hub


async def close_hub() -> None:
    global _hub
    if _hub is not None:
        await _hub.close()
        _hub = None


async def excluded_accounts(viewer_id: int) -> frozenset[int]:
    """Accounts whose events a viewer does not get: blocked either way, or muted."""
    rows = await db.fetch(
        """SELECT target_account_id AS id FROM blocks WHERE account_id = $1
           UNION SELECT account_id FROM blocks WHERE target_account_id = $1
           UNION SELECT target_account_id FROM mutes
                 WHERE account_id = $1 AND (expires_at IS NULL OR expires_at > now())""",
        viewer_id,
    )
    return frozenset(r["id"] for r in rows)


class Session:
    """One streaming client (a WebSocket or an SSE response): its subscriptions, the viewer's
    filter, and a bounded queue of events waiting to be sent."""

    def __init__(self, identity: Identity, channel_hub: Hub | None = None) -> None:
        if identity.account_id is None:
            raise NotFound()
        self.identity = identity
        self.viewer_id: int = identity.account_id
        self.hub = channel_hub or hub()
        self.queue: asyncio.Queue[tuple[tuple[str, ...], StreamEvent] | None] = asyncio.Queue(
            QUEUE_SIZE
        )
        self.subscriptions: dict[tuple[str, ...], Subscription] = {}
        self.overflowed = False
        self._excluded: frozenset[int] = frozenset()
        self._filter_read_at = 0.0
        self._refreshing: asyncio.Task[None] | None = None

    async def open(self) -> None:
        await self._refresh_filter()
        await self.hub.attach(system_stream(self.viewer_id), self)

    async def close(self) -> None:
        channels = {s.channel for s in self.subscriptions.values()}
        self.subscriptions.clear()
        for channel in channels | {system_stream(self.viewer_id)}:
            await self.hub.detach(channel, self)
        if self._refreshing is not None:
            self._refreshing.cancel()

    async def subscribe(
        self, stream: str, *, tag: str | None = None, list_id: str | None = None
    ) -> Subscription:
        """Subscribe to a stream by its Mastodon name; subscribing twice changes nothing."""
        subscription = await resolve(self.identity, stream, tag=tag, list_id=list_id)
        if subscription.stream not in self.subscriptions:
            self.subscriptions[subscription.stream] = subscription
            await self.hub.attach(subscription.channel, self)
        return subscription

    async def unsubscribe(
        self, stream: str, *, tag: str | None = None, list_id: str | None = None
    ) -> None:
        subscription = await resolve(self.identity, stream, tag=tag, list_id=list_id)
        if self.subscriptions.pop(subscription.stream, None) is None:
            return
        if not any(s.channel == subscription.channel for s in self.subscriptions.values()):
            await self.hub.detach(subscription.channel, self)

    def deliver(self, channel: str, event: StreamEvent) -> None:
        """Called by the hub for each event on a channel this session listens to: queue it once
        (under the first subscription that wants it) unless the viewer filters it out."""
        if event.event == FILTERS_CHANGED:
            self._schedule_refresh()
            return
        if time.monotonic() - self._filter_read_at > FILTER_SECONDS:
            self._schedule_refresh()
        if event.involved & self._excluded:
            return
        for subscription in self.subscriptions.values():
            if subscription.channel != channel:
                continue
            if subscription.events is not None and event.event not in subscription.events:
                continue
            try:
                self.queue.put_nowait((subscription.stream, event))
            except asyncio.QueueFull:
                # Too slow to keep up: end the session; the client reconnects to fresh state.
                self.overflowed = True
                with contextlib.suppress(asyncio.QueueEmpty):
                    self.queue.get_nowait()
                self.queue.put_nowait(None)
            return

    async def next_event(self) -> tuple[tuple[str, ...], str, str] | None:
        """The next event to send as (stream, event, payload), or None when the session must
        end."""
        item = await self.queue.get()
        return None if item is None else (item[0], item[1].event, item[1].payload)

    async def next_frame(self) -> str | None:
        """The next event as the WebSocket message Mastodon clients expect, or None when the
        session must end."""
        item = await self.queue.get()
        return None if item is None else item[1].frame(item[0])

    def _schedule_refresh(self) -> None:
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.create_task(self._refresh_filter())

    async def _refresh_filter(self) -> None:
        self._filter_read_at = time.monotonic()
        try:
            self._excluded = await excluded_accounts(self.viewer_id)
        except Exception:
            log.exception("could not read the streaming filter of %s", self.viewer_id)


_PUBLIC_STREAMS = {
    "public": PUBLIC,
    "public:media": PUBLIC_MEDIA,
    "public:local": PUBLIC_LOCAL,
    "public:local:media": PUBLIC_LOCAL_MEDIA,
    "public:remote": PUBLIC_REMOTE,
    "public:remote:media": PUBLIC_REMOTE_MEDIA,
}
STREAMS = (
    "user",
    "user:notification",
    "direct",
    *_PUBLIC_STREAMS,
    "hashtag",
    "hashtag:local",
    "list",
)


async def resolve(
    identity: Identity, stream: str, *, tag: str | None = None, list_id: str | None = None
) -> Subscription:
    """A stream name (with its tag or list) as the caller may read it; Invalid or NotFound
    (someone else's list) otherwise, Forbidden without the scope."""
    viewer = identity.account_id
    assert viewer is not None
    if stream == "user":
        identity.require("read:statuses")
        return Subscription(("user",), user_stream(viewer))
    if stream == "user:notification":
        identity.require("read:notifications")
        return Subscription(
            ("user:notification",), user_stream(viewer), frozenset({"notification"})
        )
    identity.require("read:statuses")
    if stream == "direct":
        return Subscription(("direct",), direct_stream(viewer))
    if stream in _PUBLIC_STREAMS:
        return Subscription((stream,), _PUBLIC_STREAMS[stream])
    if stream in ("hashtag", "hashtag:local"):
        name = (tag or "").strip().lstrip("#")
        if not name:
            raise Invalid("tag", "is required for a hashtag stream")
        return Subscription((stream, name), hashtag_stream(name, local=stream == "hashtag:local"))
    if stream == "list":
        parsed = parse_id(list_id)
        if parsed is None:
            raise Invalid("list", "is required for a list stream")
        if not await db.fetchval(
            "SELECT 1 FROM lists WHERE id = $1 AND account_id = $2", parsed, viewer
        ):
            raise NotFound()  # someone else's list, as if it did not exist
        return Subscription(("list", str(parsed)), list_stream(parsed))
    raise Invalid("stream", f"must be one of {', '.join(STREAMS)}")
