"""Update: a remote post was edited (Note and other post types), or a profile changed (Person)."""

from __future__ import annotations

from federation.actors import store_actor
from federation.convert import ActorRejected, actor_from_document
from federation.inbox.activity import InboxActivity, Outcome, done, ignored, unhandled
from federation.remote_posts import update_post
from federation.vocabulary import ACTOR_TYPES, POST_TYPES, type_of


async def handle(activity: InboxActivity) -> Outcome:
    obj = activity.object
    kind = type_of(obj)
    if kind in ACTOR_TYPES:
        if activity.object_id != activity.actor["uri"]:
            return ignored("an actor may only update itself")
        try:
            actor = actor_from_document(obj)
        except ActorRejected as exc:
            return ignored(str(exc))
        await store_actor(actor)
        return done("profile updated")
    if kind in POST_TYPES:
        post_id = await update_post(obj, activity.actor)
        if post_id is None:
            return ignored("the post is not known here")
        return done(f"post {post_id} edited")
    return unhandled(f"Update of {kind or 'an object given by id'}")
