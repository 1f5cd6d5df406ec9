"""OAuth 2 edges: app registration, the consent page, tokens and revocation."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from asyncpg import Record
from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response, get, post
from litestar.response import Redirect

from node import accounts, auth, moderation
from node.api import entities
from node.api.authn import require_app
from node.api.params import read_params, text
from node.errors import BadRequest, Forbidden, PinholeError, Unauthorized

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


@post("/api/v1/apps", status_code=200)
async def create_app(request: Request) -> dict[str, Any]:
    params = await read_params(request)
    app = await auth.create_app(
        name=text(params, "client_name", max_length=1000) or "",
        redirect_uris=_redirect_uris(params),
        scopes=text(params, "scopes", max_length=1000),
        website=text(params, "website", default="", max_length=2000) or "",
    )
    return entities.application(app, with_secret=True)


def _redirect_uris(params: dict[str, Any]) -> str:
    value = params.get("redirect_uris", params.get("redirect_uri", ""))
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


@get("/api/v1/apps/verify_credentials")
async def verify_app(request: Request) -> dict[str, Any]:
    identity = await require_app(request, "profile")
    app = await auth.app_by_id(identity.app_id)
    if app is None:
        raise Unauthorized("The access token is invalid")
    return entities.application(app, with_secret=False)


async def _consent_request(params: dict[str, Any]) -> tuple[auth.App, str, set[str]]:
    app = await auth.find_app(text(params, "client_id", max_length=200))
    if app is None:
        raise BadRequest("Client authentication failed: unknown client_id")
    redirect_uri = text(params, "redirect_uri", max_length=2000) or ""
    if redirect_uri not in app.redirect_uris:
        raise BadRequest("The redirect uri included is not valid.")
    if (text(params, "response_type", default="code") or "code") != "code":
        raise BadRequest("The authorization server does not support this response type.")
    scopes = auth.parse_scopes(text(params, "scope", max_length=1000))
    if not auth.scopes_within(scopes, app.scopes):
        raise BadRequest("The requested scope is invalid, unknown, or malformed.")
    return app, redirect_uri, scopes


def _render_consent(
    app: auth.App, params: dict[str, Any], scopes: set[str], error: str = ""
) -> Response:
    page = _templates.get_template("authorize.html").render(
        app=app, params=params, scopes=sorted(scopes), error=error
    )
    return Response(page, media_type="text/html", status_code=200 if not error else 401)


@get("/oauth/authorize")
async def authorize_page(request: Request) -> Response:
    params = await read_params(request)
    app, _, scopes = await _consent_request(params)
    return _render_consent(app, params, scopes)


@post("/oauth/authorize", status_code=200)
async def authorize(request: Request) -> Response:
    """The consent form: sign in and approve, then go back to the app with a code."""
    params = await read_params(request)
    app, redirect_uri, scopes = await _consent_request(params)
    state = text(params, "state", default="", max_length=2000) or ""
    if params.get("decision") == "deny":
        query = {"error": "access_denied", **({"state": state} if state else {})}
        return Redirect(f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{urlencode(query)}")
    user = await _password_user(
        text(params, "username", max_length=320) or "",
        text(params, "password", max_length=1000) or "",
    )
    if user is None:
        return _render_consent(app, params, scopes, error="Wrong username or password.")
    if (
        user["disabled"]
        or not user["approved"]
        or await moderation.is_suspended(user["account_id"])
    ):
        return _render_consent(app, params, scopes, error="This account cannot sign in.")
    code = await auth.create_authorization_code(
        app,
        user["id"],
        redirect_uri,
        scopes,
        text(params, "code_challenge", default="", max_length=200) or "",
        text(params, "code_challenge_method", default="", max_length=10) or "",
    )
    if redirect_uri == auth.OOB_REDIRECT:
        page = _templates.get_template("authorized_code.html").render(code=code)
        return Response(page, media_type="text/html")
    query = {"code": code, **({"state": state} if state else {})}
    return Redirect(f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{urlencode(query)}")


async def _password_user(login: str, password: str) -> Record | None:
    user = await accounts.find_user_by_login(login)
    if user is None or not password:
        return None
    if not await asyncio.to_thread(auth.check_password, user["password_hash"], password):
        return None
    return user


def _oauth_error(error: str, description: str, status: int) -> Response:
    return Response({"error": error, "error_description": description}, status_code=status)


@post("/oauth/token", status_code=200)
async def token(request: Request) -> Response:
    params = await read_params(request)
    grant = text(params, "grant_type", max_length=100) or ""
    client_id = text(params, "client_id", max_length=200)
    client_secret = text(params, "client_secret", max_length=200)
    try:
        if grant == "authorization_code":
            verifier = text(params, "code_verifier", max_length=200)
            if verifier and not client_secret:
                app = await auth.find_app(client_id)
                if app is None:
                    raise Unauthorized("unknown client")
            else:
                app = await auth.authenticate_client(client_id, client_secret)
            issued = await auth.redeem_authorization_code(
                app,
                text(params, "code", max_length=200) or "",
                text(params, "redirect_uri", max_length=2000) or "",
                verifier,
            )
        elif grant == "password":
            app = await auth.authenticate_client(client_id, client_secret)
            scopes = auth.parse_scopes(text(params, "scope", max_length=1000))
            if not auth.scopes_within(scopes, app.scopes):
                return _oauth_error("invalid_scope", "The requested scope is invalid.", 400)
            user = await _password_user(
                text(params, "username", max_length=320) or "",
                text(params, "password", max_length=1000) or "",
            )
            if user is None:
                return _oauth_error("invalid_grant", "Wrong username or password.", 400)
            if (
                user["disabled"]
                or not user["approved"]
                or await moderation.is_suspended(user["account_id"])
            ):
                return _oauth_error("invalid_grant", "This account cannot sign in.", 403)
            if user["confirmed_at"] is None:
                return _oauth_error(
                    "invalid_grant", "Your login is missing a confirmed e-mail address.", 403
                )
            issued = await auth.issue_token(app.id, user["id"], scopes)
        elif grant == "client_credentials":
            app = await auth.authenticate_client(client_id, client_secret)
            scopes = auth.parse_scopes(text(params, "scope", max_length=1000))
            if not auth.scopes_within(scopes, app.scopes):
                return _oauth_error("invalid_scope", "The requested scope is invalid.", 400)
            issued = await auth.issue_token(app.id, None, scopes)
        else:
            return _oauth_error(
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
                400,
            )
    except Unauthorized as exc:
        return _oauth_error("invalid_client", exc.message, 401)
    except BadRequest as exc:
        return _oauth_error("invalid_grant", exc.message, 400)
    except PinholeError as exc:
        return _oauth_error("invalid_request", exc.message, exc.status)
    return Response(
        {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "scope": " ".join(sorted(issued.scopes)),
            "created_at": int(issued.created_at.timestamp()),
        }
    )


@post("/oauth/revoke", status_code=200)
async def revoke(request: Request) -> dict[str, Any]:
    params = await read_params(request)
    try:
        app = await auth.authenticate_client(
            text(params, "client_id", max_length=200), text(params, "client_secret", max_length=200)
        )
    except Unauthorized:
        raise Forbidden("You are not authorized to revoke this token") from None
    await auth.revoke_token(app, text(params, "token", max_length=200) or "")
    return {}


ROUTES = [create_app, verify_app, authorize_page, authorize, token, revoke]
