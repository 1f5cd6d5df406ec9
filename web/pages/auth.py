"""Sign up, sign in, sign out, email confirmation and password change pages."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect

from node import credentials, registration
from node.errors import Forbidden, Invalid
from node.jobs import enqueue
from node.settings import get_settings
from web.forms import field, read_form, throttle
from web.render import page, redirect, safe_next
from web.sessions import (
    SESSION_MAX_AGE,
    current_session,
    end_other_sessions,
    end_session,
    require_session,
    session_cookie_settings,
    start_session,
)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


async def _signed_in_response(request: Request, user_id: int, target: str) -> Response:
    token = await start_session(
        user_id, user_agent=request.headers.get("user-agent", ""), ip=_client_ip(request)
    )
    response = redirect(target)
    response.cookies.append(
        Cookie(value=token, max_age=SESSION_MAX_AGE, **session_cookie_settings())  # type: ignore[arg-type]
    )
    return response


async def _registration_mode() -> str:
    """open, approval, invite or closed (the environment can close sign-ups outright)."""
    if not get_settings().registrations_open:
        return "closed"
    return await registration.registration_mode()


async def _sign_up_form(
    request: Request, mode: str, values: dict[str, str], errors: dict[str, str]
) -> Response:
    return await page(
        request,
        "auth/sign_up.html",
        status=422 if errors else 200,
        title="Sign up",
        mode=mode,
        rules=await registration.rules(),
        form=values,
        errors=errors,
    )


@get("/auth/sign_up")
async def sign_up_page(request: Request) -> Response:
    if await current_session(request):
        return redirect("/")
    invite = request.query_params.get("invite", "")[:100]
    return await _sign_up_form(request, await _registration_mode(), {"invite_code": invite}, {})


@post("/auth/sign_up")
async def sign_up(request: Request) -> Response:
    form = await read_form(request)
    await throttle(request, "sign_up")
    settings = get_settings()
    mode = await _registration_mode()
    values = {k: field(form, k) for k in ("username", "email", "invite_code", "reason")}
    try:
        if mode == "closed" and not values["invite_code"]:
            raise Forbidden("Registrations are closed on this node")
        if field(form, "password") != field(form, "password_confirmation"):
            raise Invalid("password_confirmation", "does not match the password")
        if not field(form, "agreement"):
            raise Invalid("agreement", "must be accepted")
        created = await registration.sign_up(
            values["username"],
            values["email"],
            field(form, "password", max_length=1000),
            ip=_client_ip(request),
            confirmed=not settings.email_confirmation_required,
            invite_code=values["invite_code"],
            reason=values["reason"],
        )
    except Invalid as exc:
        return await _sign_up_form(request, mode, values, {exc.field: exc.details[exc.field]})
    except Forbidden as exc:
        return await _sign_up_form(request, mode, values, {"form": exc.message})
    if created.confirmation_token:
        await enqueue("send_confirmation_email", created.user_id)
        return await page(request, "auth/confirm_sent.html", title="Check your email")
    user = await credentials.user_by_id(created.user_id)
    if user is None or not user["approved"]:
        return await page(
            request,
            "auth/confirm_sent.html",
            title="Waiting for approval",
            message="Thanks! A moderator will review your sign-up; you can sign in once it "
            "is approved.",
        )
    return await _signed_in_response(request, created.user_id, "/?welcome=1")


@get("/auth/sign_in")
async def sign_in_page(request: Request) -> Response:
    target = safe_next(request.query_params.get("next"))
    if await current_session(request):
        return redirect(target)
    return await page(
        request, "auth/sign_in.html", title="Sign in", next=target, login="", error=""
    )


@post("/auth/sign_in")
async def sign_in(request: Request) -> Response:
    form = await read_form(request)
    await throttle(request, "sign_in")
    target = safe_next(field(form, "next"))
    login = field(form, "login", max_length=320)
    try:
        user = await credentials.verify_login(login, field(form, "password", max_length=1000))
    except (Invalid, Forbidden) as exc:
        message = "Wrong username, email or password." if isinstance(exc, Invalid) else exc.message
        return await page(
            request,
            "auth/sign_in.html",
            status=401 if isinstance(exc, Invalid) else 403,
            title="Sign in",
            next=target,
            login=login,
            error=message,
        )
    return await _signed_in_response(request, user["id"], target)


@post("/auth/sign_out")
async def sign_out(request: Request) -> Response:
    await read_form(request)
    session = await current_session(request)
    if session is not None:
        await end_session(session.token)
    response = redirect("/auth/sign_in", flash="You have signed out.")
    response.cookies.append(Cookie(value="", max_age=0, **session_cookie_settings()))  # type: ignore[arg-type]
    return response


@get("/settings/password")
async def password_page(request: Request) -> Response:
    await require_session(request)
    return await page(request, "settings/password.html", title="Change password", errors={})


@post("/settings/password")
async def change_password(request: Request) -> Response | Redirect:
    session = await require_session(request)
    form = await read_form(request)
    try:
        await credentials.change_password(
            session.user_id,
            field(form, "current_password", max_length=1000),
            field(form, "password", max_length=1000),
            field(form, "password_confirmation", max_length=1000),
        )
    except Invalid as exc:
        return await page(
            request,
            "settings/password.html",
            status=422,
            title="Change password",
            errors={exc.field: exc.details[exc.field]},
        )
    # A changed password is often a reaction to a leak: sign out every other browser.
    await end_other_sessions(session.user_id, session.id)
    return redirect("/settings/password", flash="Password changed. Other sessions were signed out.")


ROUTES = [
    sign_up_page,
    sign_up,
    sign_in_page,
    sign_in,
    sign_out,
    password_page,
    change_password,
]
