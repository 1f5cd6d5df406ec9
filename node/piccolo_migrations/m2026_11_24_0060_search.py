"""Search on PostgreSQL alone: folded (lower-case, unaccented) text, a full-text document per post
kept current by triggers, and indexes for accounts (prefix, trigram, bio words) and hashtags.

pg_trgm and unaccent are used when the server has them (any packaged PostgreSQL does); the
embedded server ships without contrib, so there the fold falls back to translate() and account
search to prefix and substring matching (see node/search.py). The migration succeeds on both.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from node.piccolo_migrations import sql_migration

ID = "2026-11-24T01:00:00:000000"  # 0060: the 60th minute
VERSION = "1.38.0"
DESCRIPTION = "search: fold functions, post search documents, account and hashtag indexes"

# Latin letters with diacritics -> base letters, for servers without the unaccent extension.
_ACCENTED = "ÀÁÂÃÄÅĀĂĄàáâãäåāăąÇĆĈĊČçćĉċčĎĐďđÈÉÊËĒĔĖĘĚèéêëēĕėęěĜĞĠĢĝğġģĤĦĥħÌÍÎÏĨĪĬĮİìíîïĩīĭįıĴĵĶķĹĻĽĿŁĺļľŀłÑŃŅŇñńņňÒÓÔÕÖØŌŎŐòóôõöøōŏőŔŖŘŕŗřŚŜŞŠśŝşšŢŤŦţťŧÙÚÛÜŨŪŬŮŰŲùúûüũūŭůűųŴŵÝŸŶýÿŷŹŻŽźżž"  # noqa: E501
_PLAIN = "AAAAAAAAAaaaaaaaaaCCCCCcccccDDddEEEEEEEEEeeeeeeeeeGGGGggggHHhhIIIIIIIIIiiiiiiiiiJjKkLLLLLlllllNNNNnnnnOOOOOOOOOoooooooooRRRrrrSSSSssssTTTtttUUUUUUUUUUuuuuuuuuuuWwYYYyyyZZZzzz"  # noqa: E501
assert len(_ACCENTED) == len(_PLAIN)

SQL = f"""
-- Contrib extensions when available (both are "trusted": a database owner may create them).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS unaccent;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'unaccent not installed: %', SQLERRM;
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_trgm not installed: %', SQLERRM;
        END;
    END IF;
END $$;

-- The form text is searched in: NFKC, accents removed, lower case. Indexes are built on it, so
-- it is IMMUTABLE (unaccent() is only STABLE because its dictionary could change; naming the
-- dictionary explicitly is the documented way to index it).
DO $do$
DECLARE
    unaccent_schema text;
BEGIN
    SELECT n.nspname INTO unaccent_schema FROM pg_extension e
    JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent';
    IF unaccent_schema IS NOT NULL THEN
        EXECUTE format(
            $f$CREATE FUNCTION pinhole_fold(value text) RETURNS text
               LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
               AS $b$SELECT lower(%1$I.unaccent('%1$I.unaccent'::regdictionary,
                                                 normalize(value, NFKC)))$b$ $f$,
            unaccent_schema);
    ELSE
        CREATE FUNCTION pinhole_fold(value text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $b$SELECT lower(replace(replace(replace(replace(translate(normalize(value, NFKC),
                   '{_ACCENTED}', '{_PLAIN}'), 'ß', 'ss'), 'æ', 'ae'), 'Æ', 'AE'), 'œ', 'oe'))$b$;
    END IF;
END $do$;

-- Visible text of sanitised HTML (remote captions, bios): tags become spaces, entities text.
CREATE FUNCTION pinhole_html_text(html text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT replace(replace(replace(replace(replace(replace(
        regexp_replace(html, '<[^>]*>', ' ', 'g'),
        '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&#39;', ''''), '&nbsp;', ' '), '&amp;', '&')
$$;

-- A post's searchable text: its caption (the typed text for local posts, the HTML's text for
-- remote ones) and content warning weighted A, the alt text of its media weighted B. The
-- 'simple' configuration (no stemming, no stop words) on folded text: captions mix languages,
-- hashtags and names, and the language field is often absent or wrong for remote posts, so a
-- per-language stemmer would miss as much as it finds; prefix queries stand in for stemming.
CREATE FUNCTION pinhole_post_document(target bigint, caption text, html text, spoiler text)
RETURNS tsvector LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('simple', pinhole_fold(
               coalesce(nullif(caption, ''), pinhole_html_text(html), ''))), 'A')
        || setweight(to_tsvector('simple', pinhole_fold(coalesce(spoiler, ''))), 'A')
        || setweight(to_tsvector('simple', pinhole_fold(coalesce(
               (SELECT string_agg(m.description, ' ' ORDER BY m.position)
                FROM media_attachments m WHERE m.post_id = target), ''))), 'B')
$$;

-- What someone typed as a tsquery, tokenised exactly as documents are: every word must match,
-- words of three letters or more also as prefixes (search as you type; "sunset" finds
-- "sunsets"). NULL when the text has no words.
CREATE FUNCTION pinhole_search_query(value text) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT string_agg(
        format('''%s''', replace(replace(w.lexeme, chr(92), chr(92) || chr(92)), '''', ''''''))
            || CASE WHEN length(w.lexeme) >= 3 THEN ':*' ELSE '' END,
        ' & ' ORDER BY w.positions[1])::tsquery
    FROM unnest(to_tsvector('simple', pinhole_fold(value))) AS w
$$;

-- One row per searchable post (not deleted, not a boost, with some text). Kept in its own
-- narrow table so that reads of posts rows do not carry the document, and maintained by the
-- triggers below inside the writing transaction: an edit or a delete is (un)findable at commit.
CREATE TABLE post_search (
    post_id bigint PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    document tsvector NOT NULL
);
CREATE INDEX post_search_document ON post_search USING gin (document);

CREATE FUNCTION pinhole_reindex_post(target bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    doc tsvector;
BEGIN
    SELECT pinhole_post_document(p.id, p.text, p.content, p.spoiler_text) INTO doc
    FROM posts p WHERE p.id = target AND p.deleted_at IS NULL AND p.reblog_of_id IS NULL;
    IF doc IS NULL OR doc = ''::tsvector THEN
        DELETE FROM post_search WHERE post_id = target;
    ELSE
        INSERT INTO post_search (post_id, document) VALUES (target, doc)
        ON CONFLICT (post_id) DO UPDATE SET document = EXCLUDED.document;
    END IF;
END
$$;

CREATE FUNCTION pinhole_post_search_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.reblog_of_id IS NOT NULL THEN
        RETURN NULL;  -- a boost has no text of its own
    END IF;
    PERFORM pinhole_reindex_post(NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER posts_search_insert AFTER INSERT ON posts
FOR EACH ROW EXECUTE FUNCTION pinhole_post_search_trigger();
CREATE TRIGGER posts_search_update AFTER UPDATE OF text, content, spoiler_text, deleted_at ON posts
FOR EACH ROW WHEN (OLD.text IS DISTINCT FROM NEW.text
                   OR OLD.content IS DISTINCT FROM NEW.content
                   OR OLD.spoiler_text IS DISTINCT FROM NEW.spoiler_text
                   OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
EXECUTE FUNCTION pinhole_post_search_trigger();

-- Alt text lives on media rows: when a description changes or media move between posts, the
-- posts concerned are reindexed, once per statement (media processing updates rows often and
-- touches no description, so it costs one cheap join).
CREATE FUNCTION pinhole_media_search_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pinhole_reindex_post(t.post_id) FROM (
            SELECT DISTINCT post_id FROM new_media
            WHERE post_id IS NOT NULL AND description <> '') t;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pinhole_reindex_post(t.post_id) FROM (
            SELECT DISTINCT post_id FROM old_media
            WHERE post_id IS NOT NULL AND description <> '') t;
    ELSE
        PERFORM pinhole_reindex_post(t.post_id) FROM (
            SELECT o.post_id FROM old_media o JOIN new_media n ON n.id = o.id
            WHERE o.post_id IS NOT NULL AND (o.description <> '' OR n.description <> '')
              AND (o.post_id IS DISTINCT FROM n.post_id OR o.description <> n.description)
            UNION
            SELECT n.post_id FROM old_media o JOIN new_media n ON n.id = o.id
            WHERE n.post_id IS NOT NULL AND (o.description <> '' OR n.description <> '')
              AND (o.post_id IS DISTINCT FROM n.post_id OR o.description <> n.description)) t;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER media_search_insert AFTER INSERT ON media_attachments
REFERENCING NEW TABLE AS new_media
FOR EACH STATEMENT EXECUTE FUNCTION pinhole_media_search_trigger();
CREATE TRIGGER media_search_update AFTER UPDATE ON media_attachments
REFERENCING OLD TABLE AS old_media NEW TABLE AS new_media
FOR EACH STATEMENT EXECUTE FUNCTION pinhole_media_search_trigger();
CREATE TRIGGER media_search_delete AFTER DELETE ON media_attachments
REFERENCING OLD TABLE AS old_media
FOR EACH STATEMENT EXECUTE FUNCTION pinhole_media_search_trigger();

-- Accounts: username and display-name prefixes, bio words; with pg_trgm also fuzzy matching
-- of username + display name (typos). Expression indexes: nothing to keep in step by hand.
CREATE INDEX accounts_search_username ON accounts (lower(username) text_pattern_ops);
CREATE INDEX accounts_search_display_name ON accounts (pinhole_fold(display_name) text_pattern_ops);
CREATE INDEX accounts_search_bio ON accounts
    USING gin (to_tsvector('simple', pinhole_fold(pinhole_html_text(note))));

-- Hashtags by prefix of their folded name ("cafe" finds #café).
CREATE INDEX tags_search_name ON tags (pinhole_fold(name) text_pattern_ops);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX accounts_search_names ON accounts
            USING gin (pinhole_fold(username || ' ' || display_name) gin_trgm_ops);
    END IF;
END $$;

-- Existing rows (the triggers only see new writes).
INSERT INTO post_search (post_id, document)
SELECT id, pinhole_post_document(id, text, content, spoiler_text) FROM posts
WHERE deleted_at IS NULL AND reblog_of_id IS NULL
  AND pinhole_post_document(id, text, content, spoiler_text) <> ''::tsvector;
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
