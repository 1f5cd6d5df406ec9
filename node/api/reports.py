"""Reports users file about accounts and posts: POST /api/v1/reports."""

from __future__ import annotations

from typing import Any

from litestar import Request, post

from node import accounts, moderation
from node.api import entities
from node.api.authn import require_user
from node.api.params import flag, id_list, read_params, text
from node.errors import Invalid, NotFound
from node.ids import parse_id


@post("/api/v1/reports", status_code=200)
async def create_report(request: Request) -> dict[str, Any]:
    identity = await require_user(request, "write:reports")
    params = await read_params(request)
    raw_target = params.get("account_id")
    if raw_target is None or raw_target == "":
        raise Invalid("account_id", "can't be blank")
    target_id = parse_id(raw_target)
    target = await accounts.get_account(target_id)
    report = await moderation.create_report(
        identity.account_id,
        target["id"],
        id_list(params, "status_ids", max_count=100),
        text(params, "comment", default="", max_length=moderation.MAX_COMMENT) or "",
        text(params, "category", default="other", max_length=20) or "other",
        rule_ids=id_list(params, "rule_ids", max_count=50),
        forward=bool(flag(params, "forward", default=False)),
    )
    if report is None:  # only reports arriving from federation are ever dropped
        raise NotFound()
    return entities.report(report, target)


ROUTES = [create_report]
