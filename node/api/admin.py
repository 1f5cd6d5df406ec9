"""The admin API in Mastodon's shape: accounts, reports, domain blocks (and a few pinhole
extensions for post actions and report notes). Every route needs an admin:* scope AND a
moderator or admin role; domain blocks need the admin role."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post, put

from node import admin, moderation, registration
from node.api import entities
from node.api.authn import require_user
from node.api.pagination import link_header, page_params
from node.api.params import flag, read_params, text
from node.auth import Identity
from node.errors import Invalid, NotFound
from node.ids import parse_id
from node.post_views import hydrate


async def _staff(request: Request, scope: str, role: str = "moderator") -> Identity:
    """The caller, holding `scope` (403 otherwise) and at least `role` (403 otherwise)."""
    identity = await require_user(request, scope)
    admin.require_role(identity.role, role)
    return identity


def _path_id(raw: str) -> int:
    value = parse_id(raw)
    if value is None:
        raise NotFound()
    return value


def _optional_id(params: dict[str, Any], name: str) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    value = parse_id(raw)
    if value is None:
        raise Invalid(name, "must be an id")
    return value


# ---------------------------------------------------------------- accounts


async def _account_entity(account_id: int) -> dict[str, Any]:
    return entities.admin_account(await admin.admin_account(account_id))


@get("/api/v1/admin/accounts")
async def list_accounts(request: Request) -> Response:
    await _staff(request, "admin:read:accounts")
    params = await read_params(request)
    page = page_params(params, default=100, maximum=200)
    flags = {name for name in admin.ACCOUNT_FILTERS if flag(params, name, default=False)}
    if {"local", "remote"} <= flags:
        raise Invalid("local", "and remote can't both be set")
    texts = {
        name: value
        for name in admin.ACCOUNT_TEXT_FILTERS
        if (value := text(params, name, default="", max_length=320))
    }
    rows = await admin.list_accounts(
        flags,
        texts,
        max_id=page.max_id,
        since_id=page.since_id,
        min_id=page.min_id,
        limit=page.limit,
    )
    return Response(
        [entities.admin_account(row) for row in rows],
        headers=link_header(request, [row["id"] for row in rows], page.limit),
    )


@get("/api/v1/admin/accounts/{account_id:str}")
async def show_account(request: Request, account_id: str) -> dict[str, Any]:
    await _staff(request, "admin:read:accounts")
    return await _account_entity(_path_id(account_id))


@post("/api/v1/admin/accounts/{account_id:str}/approve", status_code=200)
async def approve_account(request: Request, account_id: str) -> dict[str, Any]:
    identity = await _staff(request, "admin:write:accounts")
    target = await admin.admin_account(_path_id(account_id))
    if target["user_id"] is None:
        raise NotFound()
    if target["approved"]:
        raise Invalid("account", "is not waiting for approval")
    await registration.approve(target["id"], identity.account_id)
    return await _account_entity(target["id"])


@post("/api/v1/admin/accounts/{account_id:str}/reject", status_code=200)
async def reject_account(request: Request, account_id: str) -> dict[str, Any]:
    identity = await _staff(request, "admin:write:accounts")
    target = await admin.admin_account(_path_id(account_id))
    if target["user_id"] is None:
        raise NotFound()
    entity = entities.admin_account(target)
    await registration.reject(target["id"], identity.account_id)
    return entity


@post("/api/v1/admin/accounts/{account_id:str}/action", status_code=200)
async def account_action(request: Request, account_id: str) -> dict[str, Any]:
    """type: none (a warning), sensitive, disable, silence, suspend; report_id; text."""
    identity = await _staff(request, "admin:write:accounts")
    params = await read_params(request)
    action = text(params, "type", default="", max_length=20) or ""
    if not action:
        raise Invalid("type", "can't be blank")
    await moderation.take_account_action(
        _path_id(account_id),
        action,
        actor_account_id=identity.account_id,
        actor_role=identity.role,
        report_id=_optional_id(params, "report_id"),
        text=text(params, "text", default="", max_length=moderation.MAX_COMMENT) or "",
    )
    return {}


async def _undo(request: Request, account_id: str, undo) -> dict[str, Any]:
    identity = await _staff(request, "admin:write:accounts")
    target_id = _path_id(account_id)
    await undo(target_id, identity.account_id, identity.role)
    return await _account_entity(target_id)


@post("/api/v1/admin/accounts/{account_id:str}/enable", status_code=200)
async def enable_account(request: Request, account_id: str) -> dict[str, Any]:
    return await _undo(request, account_id, moderation.enable)


@post("/api/v1/admin/accounts/{account_id:str}/unsilence", status_code=200)
async def unsilence_account(request: Request, account_id: str) -> dict[str, Any]:
    return await _undo(request, account_id, moderation.unsilence)


@post("/api/v1/admin/accounts/{account_id:str}/unsuspend", status_code=200)
async def unsuspend_account(request: Request, account_id: str) -> dict[str, Any]:
    return await _undo(request, account_id, moderation.unsuspend)


@post("/api/v1/admin/accounts/{account_id:str}/unsensitive", status_code=200)
async def unsensitive_account(request: Request, account_id: str) -> dict[str, Any]:
    return await _undo(request, account_id, moderation.unsensitize)


# ---------------------------------------------------------------- reports


async def _report_entities(rows: list) -> list[dict[str, Any]]:
    """Admin::Report entities for rows, loading every named account in one query."""
    account_ids = {
        row[column]
        for row in rows
        for column in (
            "account_id",
            "target_account_id",
            "assigned_account_id",
            "action_taken_by_account_id",
        )
        if row[column] is not None
    }
    accounts = await admin.admin_accounts(list(account_ids))
    rule_rows = {r["id"]: r for r in await registration.rules()}
    result = []
    for row in rows:
        # Reported posts as their author sees them, so staff also see non-public posts.
        views = await hydrate(list(row["status_ids"]), row["target_account_id"])
        result.append(
            entities.admin_report(
                row,
                accounts,
                [entities.status(view) for view in views],
                [rule_rows[i] for i in row["rule_ids"] if i in rule_rows],
            )
        )
    return result


@get("/api/v1/admin/reports")
async def list_reports(request: Request) -> Response:
    await _staff(request, "admin:read:reports")
    params = await read_params(request)
    page = page_params(params, default=100, maximum=200)
    rows = await moderation.list_reports(
        resolved=bool(flag(params, "resolved", default=False)),
        account_id=_optional_id(params, "account_id"),
        target_account_id=_optional_id(params, "target_account_id"),
        max_id=page.max_id,
        since_id=page.since_id,
        min_id=page.min_id,
        limit=page.limit,
    )
    return Response(
        await _report_entities(rows),
        headers=link_header(request, [row["id"] for row in rows], page.limit),
    )


async def _report_entity(report_id: int) -> dict[str, Any]:
    return (await _report_entities([await moderation.get_report(report_id)]))[0]


@get("/api/v1/admin/reports/{report_id:str}")
async def show_report(request: Request, report_id: str) -> dict[str, Any]:
    await _staff(request, "admin:read:reports")
    return await _report_entity(_path_id(report_id))


@post("/api/v1/admin/reports/{report_id:str}/assign_to_self", status_code=200)
async def assign_report(request: Request, report_id: str) -> dict[str, Any]:
    identity = await _staff(request, "admin:write:reports")
    row = await moderation.assign_report(_path_id(report_id), identity.account_id)
    return await _report_entity(row["id"])


@post("/api/v1/admin/reports/{report_id:str}/unassign", status_code=200)
async def unassign_report(request: Request, report_id: str) -> dict[str, Any]:
    identity = await _staff(request, "admin:write:reports")
    row = await moderation.unassign_report(_path_id(report_id), identity.account_id)
    return await _report_entity(row["id"])


@post("/api/v1/admin/reports/{report_id:str}/resolve", status_code=200)
async def resolve_report(request: Request, report_id: str) -> dict[str, Any]:
    identity = await _staff(request, "admin:write:reports")
    row = await moderation.resolve_report(_path_id(report_id), identity.account_id)
    return await _report_entity(row["id"])


@post("/api/v1/admin/reports/{report_id:str}/reopen", status_code=200)
async def reopen_report(request: Request, report_id: str) -> dict[str, Any]:
    identity = await _staff(request, "admin:write:reports")
    row = await moderation.reopen_report(_path_id(report_id), identity.account_id)
    return await _report_entity(row["id"])


def _note(row) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "content": row["content"],
        "account_id": str(row["account_id"]) if row["account_id"] else None,
        "created_at": entities.iso(row["created_at"]),
    }


@get("/api/v1/admin/reports/{report_id:str}/notes")
async def list_report_notes(request: Request, report_id: str) -> list[dict[str, Any]]:
    """pinhole extension: the moderators' notes on a report."""
    await _staff(request, "admin:read:reports")
    report = await moderation.get_report(_path_id(report_id))
    return [_note(row) for row in await moderation.report_notes(report["id"])]


@post("/api/v1/admin/reports/{report_id:str}/notes", status_code=200)
async def add_report_note(request: Request, report_id: str) -> dict[str, Any]:
    """pinhole extension: add a note (`content`) to a report."""
    identity = await _staff(request, "admin:write:reports")
    params = await read_params(request)
    row = await moderation.add_report_note(
        _path_id(report_id),
        identity.account_id,
        text(params, "content", default="", max_length=moderation.MAX_NOTE) or "",
    )
    return _note(row)


# ---------------------------------------------------------------- posts (pinhole extensions)


@post("/api/v1/admin/statuses/{status_id:str}/delete", status_code=200)
async def delete_status(request: Request, status_id: str) -> dict[str, Any]:
    """Remove a post (optionally for `report_id`)."""
    identity = await _staff(request, "admin:write:reports")
    params = await read_params(request)
    await moderation.delete_post(
        _path_id(status_id),
        actor_account_id=identity.account_id,
        actor_role=identity.role,
        report_id=_optional_id(params, "report_id"),
    )
    return {}


@post("/api/v1/admin/statuses/{status_id:str}/sensitive", status_code=200)
async def mark_status_sensitive(request: Request, status_id: str) -> dict[str, Any]:
    """Mark a post's media sensitive (optionally for `report_id`)."""
    identity = await _staff(request, "admin:write:reports")
    params = await read_params(request)
    await moderation.mark_post_sensitive(
        _path_id(status_id),
        actor_account_id=identity.account_id,
        actor_role=identity.role,
        report_id=_optional_id(params, "report_id"),
    )
    return {}


# ---------------------------------------------------------------- domain blocks


def _block_input(params: dict[str, Any], existing=None) -> moderation.DomainBlockInput:
    def pick_flag(name: str) -> bool:
        default = existing[name] if existing is not None else False
        return bool(flag(params, name, default=default))

    def pick_text(name: str, default: str) -> str:
        value = text(params, name, max_length=moderation.MAX_COMMENT)
        return value if value is not None else default

    domain = existing["domain"] if existing is not None else pick_text("domain", "")
    if not domain.strip():
        raise Invalid("domain", "can't be blank")
    return moderation.DomainBlockInput(
        domain=domain,
        severity=pick_text("severity", existing["severity"] if existing else "silence"),
        reject_media=pick_flag("reject_media"),
        reject_reports=pick_flag("reject_reports"),
        private_comment=pick_text(
            "private_comment", existing["private_comment"] if existing else ""
        ),
        public_comment=pick_text("public_comment", existing["public_comment"] if existing else ""),
        obfuscate=pick_flag("obfuscate"),
    )


@get("/api/v1/admin/domain_blocks")
async def list_domain_blocks(request: Request) -> Response:
    await _staff(request, "admin:read:domain_blocks", role="admin")
    params = await read_params(request)
    page = page_params(params, default=100, maximum=500)
    rows = await moderation.list_domain_blocks(
        max_id=page.max_id, since_id=page.since_id, limit=page.limit
    )
    return Response(
        [entities.admin_domain_block(row) for row in rows],
        headers=link_header(request, [row["id"] for row in rows], page.limit),
    )


@get("/api/v1/admin/domain_blocks/{block_id:str}")
async def show_domain_block(request: Request, block_id: str) -> dict[str, Any]:
    await _staff(request, "admin:read:domain_blocks", role="admin")
    return entities.admin_domain_block(await moderation.get_domain_block(_path_id(block_id)))


@post("/api/v1/admin/domain_blocks", status_code=200)
async def create_domain_block(request: Request) -> dict[str, Any]:
    identity = await _staff(request, "admin:write:domain_blocks", role="admin")
    params = await read_params(request)
    row = await moderation.block_domain(_block_input(params), identity.account_id)
    return entities.admin_domain_block(row)


@put("/api/v1/admin/domain_blocks/{block_id:str}", status_code=200)
async def update_domain_block(request: Request, block_id: str) -> dict[str, Any]:
    identity = await _staff(request, "admin:write:domain_blocks", role="admin")
    existing = await moderation.get_domain_block(_path_id(block_id))
    params = await read_params(request)
    row = await moderation.block_domain(
        _block_input(params, existing), identity.account_id, replace=True
    )
    return entities.admin_domain_block(row)


@delete("/api/v1/admin/domain_blocks/{block_id:str}", status_code=200)
async def delete_domain_block(request: Request, block_id: str) -> dict[str, Any]:
    identity = await _staff(request, "admin:write:domain_blocks", role="admin")
    block = await moderation.get_domain_block(_path_id(block_id))
    await moderation.unblock_domain(block, identity.account_id)
    return {}


ROUTES = [
    list_accounts,
    show_account,
    approve_account,
    reject_account,
    account_action,
    enable_account,
    unsilence_account,
    unsuspend_account,
    unsensitive_account,
    list_reports,
    show_report,
    assign_report,
    unassign_report,
    resolve_report,
    reopen_report,
    list_report_notes,
    add_report_note,
    delete_status,
    mark_status_sensitive,
    list_domain_blocks,
    show_domain_block,
    create_domain_block,
    update_domain_block,
    delete_domain_block,
]
