"""Page controllers of the web UI, one module per area; ROUTES lists them all."""

from web.pages import auth

ROUTES = [*auth.ROUTES]
