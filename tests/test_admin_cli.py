"""`pinhole admin …` as an operator types it, against the running node's database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from node import db


def pinhole(node, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "node.cli", "admin", *args],
        env=node.env,
        cwd=node.data_dir,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )


async def test_roles_and_suspension_from_the_command_line(node, http, make_user):
    alice = await make_user("alice")
    promoted = pinhole(node, "set-role", "alice", "moderator")
    assert promoted.returncode == 0, promoted.stderr
    me = (await alice.get("/api/v1/accounts/verify_credentials")).json()
    assert me["role"]["name"] == "Moderator"

    assert pinhole(node, "suspend", "alice", "--reason", "spam").returncode == 0
    assert (await http.get(f"/api/v1/accounts/{alice.account_id}")).status_code == 404
    assert (await alice.get("/api/v1/accounts/verify_credentials")).status_code == 401
    assert pinhole(node, "unsuspend", "alice").returncode == 0
    assert (await http.get(f"/api/v1/accounts/{alice.account_id}")).status_code == 200

    missing = pinhole(node, "suspend", "nobody")
    assert missing.returncode == 1
    assert "nobody" in missing.stderr
    wrong_role = pinhole(node, "set-role", "alice", "emperor")
    assert wrong_role.returncode == 2  # argparse names the choices

    log = pinhole(node, "audit-log")
    actions = [line.split("\t")[2] for line in log.stdout.strip().splitlines()]
    assert actions == ["set_role", "suspend", "unsuspend"]
    assert "(command line)" in log.stdout


async def test_domain_blocks_from_the_command_line(node, http, tmp_path: Path):
    added = pinhole(
        node,
        "domain-block",
        "add",
        "spam.example",
        "--severity",
        "silence",
        "--reject-media",
        "--public-comment",
        "spam farm",
    )
    assert added.returncode == 0, added.stderr
    csv_file = tmp_path / "blocks.csv"
    csv_file.write_text(
        "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
        "evil.example,suspend,false,true,,false\n"
    )
    imported = pinhole(node, "domain-block", "import", str(csv_file))
    assert imported.returncode == 0, imported.stderr
    assert "imported 1" in imported.stdout

    exported = pinhole(node, "domain-block", "export", str(tmp_path / "out.csv"))
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "out.csv").read_text() == (
        "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
        "evil.example,suspend,false,true,,false\n"
        "spam.example,silence,true,false,spam farm,false\n"
    )
    listed = pinhole(node, "domain-block", "list").stdout
    assert "evil.example\tsuspend" in listed and "spam.example\tsilence" in listed
    assert pinhole(node, "domain-block", "remove", "evil.example").returncode == 0
    assert "evil.example" not in pinhole(node, "domain-block", "list").stdout
    bad = pinhole(node, "domain-block", "add", "not a domain")
    assert bad.returncode == 1
    assert "domain" in bad.stderr


async def test_registration_settings_rules_and_invites_from_the_command_line(node, http):
    assert pinhole(node, "setting", "registration_mode", "invite").returncode == 0
    assert (await http.get("/api/v1/instance")).json()["invites_enabled"] is True
    shown = pinhole(node, "setting", "registration_mode")
    assert shown.stdout.strip() == "registration_mode = invite"
    refused = pinhole(node, "setting", "registration_mode", "anarchy")
    assert refused.returncode == 1

    assert pinhole(node, "rule", "add", "Be kind", "--hint", "Really.").returncode == 0
    rules = (await http.get("/api/v1/instance/rules")).json()
    assert [(r["text"], r["hint"]) for r in rules] == [("Be kind", "Really.")]

    created = pinhole(node, "invite", "create", "--max-uses", "2", "--expires-in", "3600")
    assert created.returncode == 0, created.stderr
    code = created.stdout.split("\t")[0].strip()
    row = await db.fetchrow("SELECT * FROM invites WHERE code = $1", code)
    assert row["max_uses"] == 2 and row["expires_at"] is not None
    assert code in pinhole(node, "invite", "list").stdout


def test_export_writes_a_database_dump_and_the_media(node, tmp_path: Path):
    media = node.data_dir / "media" / "ab"
    media.mkdir(parents=True, exist_ok=True)
    (media / "photo.webp").write_bytes(b"bytes")
    result = pinhole(node, "export", str(tmp_path))
    assert result.returncode == 0, result.stderr
    (backup,) = tmp_path.iterdir()
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["database"] == "database.dump"
    assert (backup / "database.dump").read_bytes()[:5] == b"PGDMP"
    assert (backup / "media" / "ab" / "photo.webp").read_bytes() == b"bytes"
