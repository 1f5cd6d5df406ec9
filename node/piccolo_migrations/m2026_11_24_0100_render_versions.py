"""Feed reads: a covering index, and signals for in-process caches. A post row is written
whenever anything shown with it changes (its media, hashtags, mentions), so its row version
(xmin) can key a rendered Status; and the `pinhole_auth` channel is notified whenever a token,
user or account changes in a way that can end access, so every web process drops the token
identities it keeps."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from node.piccolo_migrations import sql_migration

ID = "2026-11-24T01:40:00:000000"  # 0100: the 100th minute
VERSION = "1.38.0"
DESCRIPTION = "render versions and auth change notifications"

# Statement-level triggers with transition tables: an album of 20 photos attached in one
# statement touches its post once, not 20 times. One function per event, by the transition
# tables it has.
_CHANGED_POSTS = {
    "inserted": "SELECT post_id FROM new_rows",
    "deleted": "SELECT post_id FROM old_rows",
    "updated": "SELECT post_id FROM new_rows UNION SELECT post_id FROM old_rows",
}
_TOUCH_POSTS = "\n".join(
    f"""CREATE FUNCTION posts_parts_{op}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts SET parts_changed_at = now()
    WHERE id IN (SELECT post_id FROM ({changed}) c WHERE post_id IS NOT NULL);
    RETURN NULL;
END $$;"""
    for op, changed in _CHANGED_POSTS.items()
)


def _touch_triggers(table: str) -> str:
    return "\n".join(
        f"""CREATE TRIGGER {table}_touch_posts_{op} AFTER {event} ON {table}
    REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION posts_parts_{op}();"""
        for op, event, tables in (
            ("inserted", "INSERT", "NEW TABLE AS new_rows"),
            ("deleted", "DELETE", "OLD TABLE AS old_rows"),
            ("updated", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        )
    )


SQL = f"""
ALTER TABLE posts ADD COLUMN parts_changed_at timestamptz;
-- Home pages look up the followed big authors among the viewer's follows: with show_reblogs in
-- the index that is an index-only scan instead of a visit to every follow row of the viewer.
CREATE INDEX follows_account_covering ON follows (account_id, target_account_id)
    INCLUDE (show_reblogs);
{_TOUCH_POSTS}
{_touch_triggers("media_attachments")}
{_touch_triggers("post_tags")}
{_touch_triggers("mentions")}

CREATE FUNCTION notify_auth_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pinhole_auth', '');
    RETURN NULL;
END $$;
CREATE TRIGGER oauth_tokens_auth_change AFTER UPDATE OR DELETE ON oauth_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change();
CREATE TRIGGER users_auth_change
    AFTER UPDATE OF role, disabled, approved, confirmed_at, account_id OR DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change();
CREATE TRIGGER accounts_auth_change AFTER UPDATE OF suspended_at OR DELETE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change();
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
