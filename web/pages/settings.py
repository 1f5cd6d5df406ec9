"""Settings: profile, privacy, muted and blocked accounts, sessions and apps, data export."""

from __future__ import annotations

import json

from asyncpg import Record
from litestar import Request, Response, get, post

from media import service as media
from node import accounts, archives, conversations, credentials, social
from node.errors import Invalid, NotFound
from node.export import export_account
from node.ids import parse_id
from web.forms import checkbox, field, files, read_form
from web.render import page, redirect
from web.sessions import list_sessions, require_session, revoke_session

LIST_PAGE = 40
PROFILE_FIELDS = 4


def _fields_of(account) -> list[dict[str, str]]:
    fields = account["fields"]
    if isinstance(fields, str):
        fields = json.loads(fields)
    padded = list(fields) + [{"name": "", "value": ""}] * PROFILE_FIELDS
    return padded[:PROFILE_FIELDS]


@get("/settings")
async def settings_index(request: Request) -> Response:
    await require_session(request)
    return redirect("/settings/profile")


@get("/settings/profile")
async def profile_page(request: Request) -> Response:
    session = await require_session(request)
    account = await accounts.get_account(session.account_id)
    return await page(
        request,
        "settings/profile.html",
        title="Edit profile",
        account=account,
        fields=_fields_of(account),
        errors={},
        uploads=True,
    )


@post("/settings/profile")
async def save_profile(request: Request) -> Response:
    session = await require_session(request)
    form = await read_form(request)
    changes = accounts.ProfileChanges(
        display_name=field(form, "display_name", max_length=1000),
        note=field(form, "note", max_length=5000),
        fields=[
            {
                "name": field(form, f"field_name_{i}", max_length=1000),
                "value": field(form, f"field_value_{i}", max_length=1000),
            }
            for i in range(PROFILE_FIELDS)
        ],
    )
    avatar, header = files(form, "avatar"), files(form, "header")
    try:
        await media.update_profile(
            session.account_id,
            changes,
            avatar=await avatar[0].read() if avatar else None,
            header=await header[0].read() if header else None,
        )
    except (Invalid, media.UploadRefused) as exc:
        account = await accounts.get_account(session.account_id)
        return await page(
            request,
            "settings/profile.html",
            status=422,
            title="Edit profile",
            account=account,
            fields=_fields_of(account),
            errors=dict(exc.details) or {"form": exc.message},
            uploads=True,
        )
    return redirect("/settings/profile", flash="Profile saved.")


@get("/settings/privacy")
async def privacy_page(request: Request) -> Response:
    session = await require_session(request)
    account = await accounts.get_account(session.account_id)
    requests = await social.account_list(
        "follow_requests", session.account_id, max_id=None, since_id=None, min_id=None, limit=80
    )
    return await page(
        request,
        "settings/privacy.html",
        title="Privacy",
        account=account,
        requests=requests.accounts,
        message_requests=await conversations.message_requests_enabled(session.account_id),
    )


@post("/settings/privacy")
async def save_privacy(request: Request) -> Response:
    session = await require_session(request)
    form = await read_form(request)
    await accounts.update_profile(
        session.account_id,
        accounts.ProfileChanges(
            locked=checkbox(form, "locked"), discoverable=checkbox(form, "discoverable")
        ),
    )
    await conversations.set_message_requests(session.account_id, checkbox(form, "message_requests"))
    return redirect("/settings/privacy", flash="Privacy settings saved.")


@post("/settings/follow_requests/{account_id:str}/{decision:str}")
async def answer_follow_request(request: Request, account_id: str, decision: str) -> Response:
    session = await require_session(request)
    form = await read_form(request)
    requester = parse_id(account_id)
    if requester is None or decision not in ("authorize", "reject"):
        raise NotFound()
    if decision == "authorize":
        await social.authorize_follow_request(session.account_id, requester)
    else:
        await social.reject_follow_request(session.account_id, requester)
    target = "/notifications" if field(form, "from") == "notifications" else "/settings/privacy"
    return redirect(target)


async def _account_list_page(request: Request, kind: str, title: str, undo: str) -> Response:
    session = await require_session(request)
    max_id = parse_id(request.query_params.get("max_id"))
    result = await social.account_list(
        kind, session.account_id, max_id=max_id, since_id=None, min_id=None, limit=LIST_PAGE
    )
    return await page(
        request,
        "settings/account_list.html",
        title=title,
        heading=title,
        accounts=result.accounts,
        undo=undo,
        next_max_id=result.cursor_ids[-1] if len(result.cursor_ids) == LIST_PAGE else None,
    )


@get("/settings/mutes")
async def mutes_page(request: Request) -> Response:
    return await _account_list_page(request, "mutes", "Muted accounts", "unmute")


@get("/settings/blocks")
async def blocks_page(request: Request) -> Response:
    return await _account_list_page(request, "blocks", "Blocked accounts", "unblock")


@post("/settings/{kind:str}/{account_id:str}/remove")
async def remove_from_list(request: Request, kind: str, account_id: str) -> Response:
    session = await require_session(request)
    await read_form(request)
    target = parse_id(account_id)
    if target is None or kind not in ("mutes", "blocks"):
        raise NotFound()
    if kind == "mutes":
        await social.unmute(session.account_id, target)
    else:
        await social.unblock(session.account_id, target)
    return redirect(f"/settings/{kind}")


@get("/settings/sessions")
async def sessions_page(request: Request) -> Response:
    session = await require_session(request)
    return await page(
        request,
        "settings/sessions.html",
        title="Sessions and apps",
        sessions=await list_sessions(session.user_id, session.id),
        apps=await credentials.authorized_apps(session.user_id),
    )


@post("/settings/sessions/{session_id:str}/revoke")
async def end_session(request: Request, session_id: str) -> Response:
    session = await require_session(request)
    await read_form(request)
    target = parse_id(session_id)
    if target is None or not await revoke_session(session.user_id, target):
        raise NotFound()
    if target == session.id:
        return redirect("/auth/sign_in", flash="You have signed out.")
    return redirect("/settings/sessions", flash="Session ended.")


@post("/settings/apps/{app_id:str}/revoke")
async def revoke_app(request: Request, app_id: str) -> Response:
    session = await require_session(request)
    await read_form(request)
    target = parse_id(app_id)
    if target is None:
        raise NotFound()
    await credentials.revoke_app(session.user_id, target)
    return redirect("/settings/sessions", flash="App access revoked.")


@get("/settings/export")
async def export_page(request: Request) -> Response:
    session = await require_session(request)
    return await page(
        request,
        "settings/export.html",
        title="Your data",
        account=await accounts.get_account(session.account_id),
        archive=await _latest_archive(session.account_id),
    )


async def _latest_archive(account_id: int) -> Record | None:
    try:
        return await archives.latest_archive(account_id)
    except NotFound:
        return None


@post("/settings/export/archive")
async def request_archive(request: Request) -> Response:
    session = await require_session(request)
    await read_form(request)
    await archives.request_archive(session.account_id)
    return redirect("/settings/export", flash="Your archive is being prepared.")


@get("/settings/export/archive/{archive_id:str}")
async def archive_download(request: Request, archive_id: str) -> Response:
    """Only to the archive's owner (the session's account); anyone else gets a 404."""
    session = await require_session(request)
    data = await archives.ready_archive_zip(parse_id(archive_id), session.account_id)
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="pinhole-{session.username}.zip"',
            "Cache-Control": "private, no-store",
        },
    )


@get("/settings/export.json")
async def export_download(request: Request) -> Response:
    session = await require_session(request)
    data = await export_account(session.account_id)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="pinhole-{session.username}.json"',
            "Cache-Control": "no-store",
        },
    )


ROUTES = [
    settings_index,
    profile_page,
    save_profile,
    privacy_page,
    save_privacy,
    answer_follow_request,
    mutes_page,
    blocks_page,
    remove_from_list,
    sessions_page,
    end_session,
    revoke_app,
    export_page,
    export_download,
    request_archive,
    archive_download,
]
