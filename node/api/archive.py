"""A person's ActivityPub archive: request it, see how it is coming along, download it (only
its owner may)."""

from __future__ import annotations

from typing import Any

from asyncpg import Record
from litestar import Request, Response, get, post

from node import archives
from node.api.authn import require_user
from node.ids import parse_id
from node.settings import get_settings


def _archive(row: Record) -> dict[str, Any]:
    ready = row["state"] == "ready"
    return {
        "id": str(row["id"]),
        "state": row["state"],
        "created_at": row["created_at"].isoformat(),
        "finished_at": row["finished_at"].isoformat() if row["finished_at"] else None,
        "size": row["byte_size"] if ready else None,
        "url": (
            f"{get_settings().base_url}/api/v1/pinhole/archive/{row['id']}/download"
            if ready
            else None
        ),
    }


@post("/api/v1/pinhole/archive", status_code=202)
async def request_archive(request: Request) -> dict[str, Any]:
    identity = await require_user(request, "write:accounts")
    return _archive(await archives.request_archive(identity.account_id))


@get("/api/v1/pinhole/archive")
async def show_archive(request: Request) -> dict[str, Any]:
    identity = await require_user(request, "read:accounts")
    return _archive(await archives.latest_archive(identity.account_id))


@get("/api/v1/pinhole/archive/{archive_id:str}/download")
async def download_archive(request: Request, archive_id: str) -> Response:
    identity = await require_user(request, "read:accounts")
    wanted = parse_id(archive_id)
    data = await archives.ready_archive_zip(wanted, identity.account_id)
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="archive-{wanted}.zip"',
            "Cache-Control": "private, no-store",
        },
    )


ROUTES = [request_archive, show_archive, download_archive]
