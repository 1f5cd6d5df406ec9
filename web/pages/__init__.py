"""Page controllers of the web UI, one module per area; ROUTES lists them all."""

from web.pages import auth, feed, posts, profiles, settings

ROUTES = [*auth.ROUTES, *feed.ROUTES, *settings.ROUTES, *profiles.ROUTES, *posts.ROUTES]
