"""The staff dashboard: sign-ups waiting for approval and the open reports, from the admin
services (the full toolset is the admin API and `pinhole admin`)."""

from __future__ import annotations

from litestar import Request, Response, get, post

from node import accounts, admin, moderation, registration
from node.errors import NotFound
from node.ids import parse_id
from web.forms import read_form
from web.render import page, redirect
from web.sessions import require_session

SHOWN = 20


@get("/admin")
async def dashboard(request: Request) -> Response:
    session = await require_session(request)
    admin.require_role(session.role)
    pending = await admin.list_accounts({"local", "pending"}, {}, limit=SHOWN)
    reports = await moderation.list_reports(limit=SHOWN)
    people = await accounts.get_accounts(
        list({r["account_id"] for r in reports} | {r["target_account_id"] for r in reports})
    )
    return await page(
        request,
        "admin.html",
        title="Admin",
        pending=pending,
        reports=[
            {
                "row": r,
                "reporter": people.get(r["account_id"]),
                "target": people.get(r["target_account_id"]),
            }
            for r in reports
        ],
        mode=await registration.registration_mode(),
    )


@post("/admin/sign_ups/{account_id:str}/{decision:str}")
async def decide_sign_up(request: Request, account_id: str, decision: str) -> Response:
    session = await require_session(request)
    admin.require_role(session.role)
    await read_form(request)
    target = parse_id(account_id)
    if target is None or decision not in ("approve", "reject"):
        raise NotFound()
    if decision == "approve":
        await registration.approve(target, session.account_id)
    else:
        await registration.reject(target, session.account_id)
    return redirect(
        "/admin", flash="Sign-up approved." if decision == "approve" else "Sign-up rejected."
    )


ROUTES = [dashboard, decide_sign_up]
