"""Search queries: only the last word is also a prefix (search as you type). A prefix on every
word made the index merge every word's variants, about three times the work for two common
words (measured by bench/search.py)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from node.piccolo_migrations import sql_migration

ID = "2026-11-24T01:03:00:000000"  # 0063
VERSION = "1.38.0"
DESCRIPTION = "search: prefix on the last word only"

SQL = """
-- What someone typed as a tsquery, tokenised exactly as documents are: every word must match,
-- the last one (three letters or more) also as a prefix. NULL when the text has no words.
CREATE OR REPLACE FUNCTION pinhole_search_query(value text) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT string_agg(
        format('''%s''', replace(replace(w.lexeme, chr(92), chr(92) || chr(92)), '''', ''''''))
            || CASE WHEN length(w.lexeme) >= 3 AND w.last THEN ':*' ELSE '' END,
        ' & ' ORDER BY w.position)::tsquery
    FROM (
        SELECT lexeme, positions[1] AS position,
               positions[cardinality(positions)] = max(positions[cardinality(positions)]) OVER ()
                   AS last
        FROM unnest(to_tsvector('simple', pinhole_fold(value)))
    ) AS w
$$;
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
