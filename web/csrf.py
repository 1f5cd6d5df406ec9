"""CSRF tokens: an HMAC of the session token (signed in) or of a random browser cookie (signed out).

Every form carries the token in a hidden `csrf_token` field; scripts send it in the
`X-CSRF-Token` header. Neither cookie is readable by scripts, so another site can neither
read nor forge the token; SameSite=Lax cookies are a second wall.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from litestar import Request

from node.errors import Forbidden
from node.settings import get_settings
from web.sessions import current_session

BROWSER_COOKIE = "pinhole_browser"
FIELD = "csrf_token"
HEADER = "x-csrf-token"


def _sign(purpose: str, value: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"csrf|{purpose}|{value}".encode(), hashlib.sha256).hexdigest()


def new_browser_id() -> str:
    return secrets.token_urlsafe(24)


async def expected_token(request: Request) -> str | None:
    """The token this request's forms must carry; None when the browser has no cookie yet."""
    session = await current_session(request)
    if session is not None:
        return _sign("session", session.token)
    browser = getattr(request.state, "new_browser_id", None) or request.cookies.get(BROWSER_COOKIE)
    return _sign("browser", browser) if browser else None


async def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a state-changing request whose token is missing or wrong."""
    expected = await expected_token(request)
    offered = submitted or request.headers.get(HEADER, "")
    if not expected or not offered or not hmac.compare_digest(expected, offered):
        raise Forbidden(
            "This form has expired or did not come from this site. Reload the page and try again."
        )
