"""Account search: typo neighbourhoods and name words, both in indexes PostgreSQL has built in
(so the embedded server, without pg_trgm, gets them too).

A word and its one-letter deletions are its neighbourhood: two words whose neighbourhoods meet
are within two edits ("alcie" and "alice" share "alce" and "alie"; a swap, a missing, extra or
wrong letter all meet). Exact lookups in a GIN index over the names' neighbourhoods find typos
of common names without comparing the query with thousands of names, as trigram similarity had
to (measured by bench/search.py)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from node.piccolo_migrations import sql_migration

ID = "2026-11-24T01:04:00:000000"  # 0064
VERSION = "1.38.0"
DESCRIPTION = "search: typo neighbourhoods and words of account names"

SQL = """
-- Words of three letters or more, and for words of four or more every one-letter deletion.
CREATE FUNCTION pinhole_name_variants(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT variant), '{}') FROM (
        SELECT word AS variant
        FROM regexp_split_to_table(name, '[^[:alnum:]]+') AS word WHERE length(word) >= 3
        UNION ALL
        SELECT left(word, i - 1) || substr(word, i + 1)
        FROM regexp_split_to_table(name, '[^[:alnum:]]+') AS word,
             generate_series(1, length(word)) AS i
        WHERE length(word) >= 4
    ) AS variants
$$;

CREATE INDEX accounts_search_variants ON accounts USING gin (pinhole_name_variants(search_name));
-- Any word of the username or display name, by prefix ("wonder" finds Alice Wonderland).
CREATE INDEX accounts_search_words ON accounts USING gin (to_tsvector('simple', search_name));
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
