"""Page controllers of the web UI, one module per area; ROUTES lists them all."""

from web.pages import (
    admin,
    auth,
    compose,
    explore,
    feed,
    messages,
    notifications,
    posts,
    profiles,
    search,
    settings,
)

ROUTES = [
    *auth.ROUTES,
    *feed.ROUTES,
    *compose.ROUTES,
    *explore.ROUTES,
    *notifications.ROUTES,
    *messages.ROUTES,
    *search.ROUTES,
    *settings.ROUTES,
    *admin.ROUTES,
    *profiles.ROUTES,
    *posts.ROUTES,
]
