"""Page controllers of the web UI, one module per area; ROUTES lists them all."""

from web.pages import auth, feed, posts, profiles

ROUTES = [*auth.ROUTES, *feed.ROUTES, *profiles.ROUTES, *posts.ROUTES]
