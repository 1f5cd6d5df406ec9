"""Search on the embedded PostgreSQL, which ships without contrib (no pg_trgm, no unaccent): the
migrations still succeed, and search still folds accents and forgives typos."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

from tests.rig import ROOT

# Runs in its own process: the database engine is process-wide and the test session's node
# fixture uses it.
SCRIPT = r"""
import asyncio, json, os, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
os.environ["PINHOLE_DATA_DIR"] = sys.argv[1] + "/data"
os.environ["PINHOLE_DOMAIN"] = "embedded.example"
from node.embedded import EmbeddedServers, start_postgres
from node import db, search

servers = EmbeddedServers()
dsn = start_postgres(Path(sys.argv[1]), servers, database="pinhole")

async def main():
    db.configure_database(dsn)
    await db.migrate()
    await db.open_pool(min_size=1, max_size=2)
    out = {}
    try:
        out["extensions"] = [r["extname"] for r in await db.fetch("SELECT extname FROM pg_extension")]
        people = [("alice", "Alice Wonderland", "<p>Film photographer in Lisbon</p>"),
                  ("alfred", "Alfred", ""), ("bob", "Bob Álvarez", "")]
        for n, (username, name, note) in enumerate(people, 1):
            await db.execute(
                "INSERT INTO accounts (id, username, display_name, note) VALUES ($1, $2, $3, $4)",
                n, username, name, note)
        await db.execute("INSERT INTO posts (id, account_id, text) VALUES (10, 1, 'Café au lait')")
        for q in ("alcie", "wondrland", "lisbon", "alvarez"):
            out[q] = [r["username"] for r in await search.search_accounts(q, 2)]
        out["cafe"] = await search.search_posts("cafe", 2)
    finally:
        await db.close_pool()
    print(json.dumps(out))

asyncio.run(main())
servers.stop()
"""


def test_search_works_on_the_embedded_postgres_without_contrib():
    with tempfile.TemporaryDirectory(prefix="pinhole-embedded-search-") as folder:
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT, folder, str(ROOT)],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 0, result.stderr[-4000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert "pg_trgm" not in found["extensions"] and "unaccent" not in found["extensions"]
    assert found["alcie"][0] == "alice"
    assert found["wondrland"] == ["alice"]
    assert found["lisbon"] == ["alice"]
    assert found["alvarez"] == ["bob"]
    assert found["cafe"] == [10]
