"""Reading posted forms: the CSRF check first, then fields as bounded strings."""

from __future__ import annotations

from litestar import Request
from litestar.datastructures import FormMultiDict, UploadFile

from node import ratelimit
from node.errors import Invalid, TooMany
from node.settings import get_settings
from web.csrf import FIELD, check_csrf


async def read_form(request: Request) -> FormMultiDict:
    """The posted form, after checking its CSRF token (field or header)."""
    form = await request.form()
    token = form.get(FIELD)
    await check_csrf(request, token if isinstance(token, str) else None)
    return form


def field(form: FormMultiDict, name: str, *, max_length: int = 5000) -> str:
    """A text field ('' when absent); too long is a 422 naming the field."""
    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return ""
    if len(value) > max_length:
        raise Invalid(name, f"is too long (maximum is {max_length} characters)")
    return value


def checkbox(form: FormMultiDict, name: str) -> bool:
    return form.get(name) in ("1", "on", "true", "yes")


def files(form: FormMultiDict, name: str) -> list[UploadFile]:
    return [v for v in form.getall(name, []) if isinstance(v, UploadFile) and v.filename]


async def throttle(request: Request, family: str) -> None:
    """Spend from the same per-IP bucket the API uses for this family (sign_in, sign_up…)."""
    if not get_settings().rate_limit_enabled:
        return
    client_ip = request.client.host if request.client else "unknown"
    verdict = await ratelimit.take(f"ip:{client_ip}", [ratelimit.limit_for(family)])
    if verdict is not None and not verdict.allowed:
        raise TooMany("Too many attempts. Wait a moment and try again.", verdict.retry_after)
