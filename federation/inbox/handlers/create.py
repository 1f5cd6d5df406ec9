"""Create: a remote post (Note, Image, Video, Page, Article, Question) with its text and media;
a reply to one of our posts becomes a comment on it."""

from __future__ import annotations

from federation.client import FetchError, fetch_json
from federation.inbox.activity import InboxActivity, Outcome, done, ignored, unhandled
from federation.remote_posts import PostRejected, store_post
from federation.vocabulary import POST_TYPES, id_of, same_host, type_of


async def handle(activity: InboxActivity) -> Outcome:
    obj = activity.object
    if not isinstance(obj, dict):
        # Only the id: fetch the object from its origin (the inbox checked it is the actor's).
        try:
            final_url, obj = await fetch_json(activity.object_id)
        except FetchError as exc:
            return ignored(f"the object could not be fetched: {exc.message}")
        if not same_host(id_of(obj), final_url):
            return ignored("the fetched object's id is on another host")
    if type_of(obj) not in POST_TYPES:
        return unhandled(f"Create of {type_of(obj) or 'an untyped object'}")
    try:
        post_id = await store_post(obj, activity.actor)
    except PostRejected as exc:
        return ignored(str(exc))
    if post_id is None:
        return ignored("nobody here follows, is addressed by, or was replied to by this post")
    return done(f"post {post_id}")
