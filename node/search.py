"""Search on PostgreSQL alone: accounts by name and bio (prefix and typo-tolerant), hashtags by
prefix, posts by caption, alt text and hashtag (full text, ranked by relevance and recency), only
ever what the viewer may see; and `user@host` or URL lookups that bring remote accounts here."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from asyncpg import Record

from node import db
from node.captions import MAX_TAG_LENGTH, normalize_tag
from node.errors import Invalid
from node.ids import SEQUENCE_BITS, parse_id
from node.settings import get_settings
from node.visibility import visible_to

log = logging.getLogger("pinhole.search")

MAX_QUERY_LENGTH = 500
TYPES = ("accounts", "hashtags", "statuses")
# Trigram word similarity from which a name counts as a fuzzy match: "alcie" and "alice" share
# only 2 of 6 trigrams (0.33), so the default 0.6 would miss the commonest typo, a swap.
FUZZY_THRESHOLD = 0.3
ACCOUNT_CANDIDATES = 100  # per kind of match (prefix, fuzzy, bio), ranked afterwards
MAX_ACCOUNT_CANDIDATES = 400
TAG_CANDIDATES = 2000
# Posts: the newest matches are ranked by relevance x recency; older ones only appear when the
# newer ones run out, which bounds the work for common words.
POST_CANDIDATES = 1000
RECENCY_HALF_LIFE_DAYS = 30.0
# U+10FFFF sorts (bytewise, as text_pattern_ops compares) after any other character, so
# `x ~>=~ p AND x ~<~ p || MAX_CHAR` is "x starts with p" in a form that uses the index in
# generic prepared plans too (LIKE with a parameter does not).
MAX_CHAR = "\U0010ffff"

_URL_RE = re.compile(r"^https?://\S+$", re.IGNORECASE)
_ACCT_RE = re.compile(r"^@?([\w.-]+)@([\w-]+(?:\.[\w-]+)*(?::\d{1,5})?)$")
_TAG_RE = re.compile(r"^\w+$")
_WORD_RE = re.compile(r"\w+")


# --- remote lookups (wired by the app factory: node/ does not import federation) -------------


@dataclass(frozen=True)
class RemoteLookups:
    """How `resolve=true` reaches other servers. The account lookups raise when nothing is
    found; the post lookup answers None."""

    account_by_acct: Callable[[str], Awaitable[Mapping[str, Any]]]  # user@host -> accounts row
    account_by_url: Callable[[str], Awaitable[Mapping[str, Any]]]  # actor/profile URL -> row
    post_by_url: Callable[[str], Awaitable[int | None]] | None = None  # post URL -> post id


_remote: RemoteLookups | None = None


def use_remote_lookups(lookups: RemoteLookups | None) -> None:
    global _remote
    _remote = lookups


# --- the request and its results ------------------------------------------------------------


@dataclass(frozen=True)
class SearchRequest:
    q: str
    viewer_id: int | None
    types: tuple[str, ...] = TYPES
    limit: int = 20
    offset: int = 0
    resolve: bool = False
    following: bool = False
    account_id: int | None = None
    exclude_unreviewed: bool = False
    min_id: int | None = None
    max_id: int | None = None


@dataclass(frozen=True)
class SearchResults:
    accounts: list[Record]
    tags: list[Record]
    post_ids: list[int]


def clean_query(raw: str) -> str:
    """Whitespace collapsed (and NUL removed: PostgreSQL text cannot hold it)."""
    q = " ".join(raw.replace("\x00", "").split())
    if len(q) > MAX_QUERY_LENGTH:
        raise Invalid("q", f"is too long (maximum is {MAX_QUERY_LENGTH} characters)")
    return q


async def search(request: SearchRequest) -> SearchResults:
    """Accounts, hashtags and posts for a search box query, as Mastodon's v2 search answers.

    A URL finds what it points at (a remote one is fetched with resolve); `user@host` finds
    only accounts; `#tag` no accounts; posts need a signed-in viewer, as on Mastodon."""
    q = clean_query(request.q)
    if not q:
        return SearchResults([], [], [])
    if _URL_RE.match(q):
        return await _lookup_url(q, request)
    accounts: list[Record] = []
    tags: list[Record] = []
    post_ids: list[int] = []
    is_acct = bool(_ACCT_RE.match(q))
    if "accounts" in request.types and not q.startswith("#"):
        accounts = await search_accounts(
            q,
            request.viewer_id,
            limit=request.limit,
            offset=request.offset,
            following=request.following,
            resolve=request.resolve,
        )
    if "hashtags" in request.types and "@" not in q:
        tags = await search_tags(
            q, limit=request.limit, offset=request.offset, reviewed_only=request.exclude_unreviewed
        )
    if "statuses" in request.types and request.viewer_id is not None and not is_acct:
        post_ids = await search_posts(
            q,
            request.viewer_id,
            limit=request.limit,
            offset=request.offset,
            account_id=request.account_id,
            min_id=request.min_id,
            max_id=request.max_id,
        )
    return SearchResults(accounts, tags, post_ids)


# --- accounts -------------------------------------------------------------------------------

_capabilities: dict[str, bool] = {}


async def _has_trigrams() -> bool:
    """Whether pg_trgm is installed (the embedded server ships without contrib)."""
    if "pg_trgm" not in _capabilities:
        _capabilities["pg_trgm"] = bool(
            await db.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')"
            )
        )
    return _capabilities["pg_trgm"]


def _account_filter(following: bool) -> str:
    """Conditions every candidate meets ($2: the viewer, may be NULL)."""
    condition = "a.suspended_at IS NULL AND a.actor_type <> 'Application'"
    if following:
        condition += """ AND EXISTS (SELECT 1 FROM follows ff
                                     WHERE ff.account_id = $2 AND ff.target_account_id = a.id)"""
    return condition


_NAMES = "pinhole_fold(a.username || ' ' || a.display_name)"
_BIO = "to_tsvector('simple', pinhole_fold(pinhole_html_text(a.note)))"


def _candidate_sql(trigrams: bool, following: bool) -> str:
    """Ids of accounts whose username or display name starts with the folded term ($1), that
    are similar to it (trigrams) or whose bio has its words; $3 caps each kind."""
    f = _account_filter(following)
    prefix = "{col} ~>=~ $1 AND {col} ~<~ ($1 || '" + MAX_CHAR + "')"
    parts = [
        f"""(SELECT a.id FROM accounts a
             WHERE {prefix.format(col="lower(a.username)")} AND {f}
             ORDER BY a.followers_count DESC LIMIT $3)""",
        f"""(SELECT a.id FROM accounts a
             WHERE {prefix.format(col="pinhole_fold(a.display_name)")} AND {f}
             ORDER BY a.followers_count DESC LIMIT $3)""",
        f"""(SELECT a.id FROM accounts a
             WHERE {_BIO} @@ pinhole_search_query($1) AND {f}
             ORDER BY a.followers_count DESC LIMIT $3)""",
    ]
    if trigrams:
        parts.append(
            f"""(SELECT a.id FROM accounts a
                 WHERE $1 <% {_NAMES} AND {f}
                 ORDER BY word_similarity($1, {_NAMES}) DESC LIMIT $3)"""
        )
    else:
        # Without trigrams: names holding the term, or its first two letters (typos later in
        # a word); the ranking below measures the edit distance. Small nodes only, unindexed.
        parts.append(
            f"""(SELECT a.id FROM accounts a
                 WHERE strpos({_NAMES}, left($1, 2)) > 0 AND {f}
                 ORDER BY strpos({_NAMES}, $1) > 0 DESC, a.followers_count DESC LIMIT $3)"""
        )
    return "\nUNION\n".join(parts)


async def search_accounts(
    q: str,
    viewer_id: int | None,
    *,
    limit: int = 20,
    offset: int = 0,
    following: bool = False,
    resolve: bool = False,
) -> list[Record]:
    """Accounts matching `q`, best first: the exact username (or user@host), then username and
    display-name prefixes, then names within a typo or two, then bios with the words."""
    q = clean_query(q).lstrip("@")
    if not q or (following and viewer_id is None):
        return []
    username, _, domain = q.partition("@")
    exact: Record | None = None
    only_domain: str | None = None  # with user@host, only accounts of that host
    if domain:
        only_domain = "" if domain.lower() == get_settings().domain else domain
        exact = await _known_account(username, only_domain)
        if exact is None and only_domain and resolve and viewer_id is not None and _remote:
            exact = await _resolve_acct(f"{username}@{only_domain}")
        q = username
    trigrams = await _has_trigrams()
    term = await db.fetchval("SELECT pinhole_fold($1::text)", q)
    pool = min(max(ACCOUNT_CANDIDATES, offset + limit), MAX_ACCOUNT_CANDIDATES)
    sql = f"""
        WITH candidates AS ({_candidate_sql(trigrams, following)})
        SELECT a.*, pinhole_fold(a.username) AS search_username,
               pinhole_fold(a.display_name) AS search_display_name,
               {"word_similarity($1, " + _NAMES + ")" if trigrams else "0.0"} AS similarity,
               coalesce({_BIO} @@ pinhole_search_query($1), false) AS bio_match,
               EXISTS (SELECT 1 FROM follows f
                       WHERE f.account_id = $2 AND f.target_account_id = a.id) AS followed
        FROM candidates c JOIN accounts a ON a.id = c.id
        WHERE ($2::bigint IS NULL OR a.id = $2 OR NOT EXISTS (
            SELECT 1 FROM blocks b
            WHERE (b.account_id = a.id AND b.target_account_id = $2)
               OR (b.account_id = $2 AND b.target_account_id = a.id)))
          AND ($4::text IS NULL OR lower(a.domain) = lower($4))"""
    if trigrams:
        async with db.transaction():
            # word_similarity_threshold is what `<%` compares with; LOCAL: this query only.
            await db.execute(
                "SELECT set_config('pg_trgm.word_similarity_threshold', $1, true)",
                str(FUZZY_THRESHOLD),
            )
            rows = await db.fetch(sql, term, viewer_id, pool, only_domain)
    else:
        rows = await db.fetch(sql, term, viewer_id, pool, only_domain)
    ranked = rank_accounts(term or "", rows)
    if exact is not None:
        ranked = [exact] + [row for row in ranked if row["id"] != exact["id"]]
    return ranked[offset : offset + limit]


async def _known_account(username: str, domain: str) -> Record | None:
    return await db.fetchrow(
        """SELECT * FROM accounts WHERE lower(username) = lower($1) AND lower(domain) = lower($2)
             AND suspended_at IS NULL""",
        username,
        domain,
    )


async def _resolve_acct(acct: str) -> Record | None:
    assert _remote is not None
    try:
        row = await _remote.account_by_acct(acct)
    except Exception as exc:  # noqa: BLE001 - a remote failure only means "not found"
        log.info("search: could not resolve %s: %s", acct, exc)
        return None
    return await db.fetchrow(
        "SELECT * FROM accounts WHERE id = $1 AND suspended_at IS NULL", row["id"]
    )


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours counts as one edit), or
    limit + 1 as soon as it is known to exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                best = min(best, before[j - 2] + 1)
            current[j] = best
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


def _typo_allowance(term: str) -> int:
    return 0 if len(term) < 4 else 1 if len(term) < 8 else 2


def account_score(term: str, row: Mapping[str, Any]) -> float | None:
    """How well an account matches the folded term; None when it does not match at all.

    Exact username, then prefixes of the username, of the display name or of one of its words,
    then names (or name prefixes) within a typo or two, then trigram similarity, then bio words.
    Followed accounts, popular ones and local ones win ties."""
    username: str = row["search_username"]
    display: str = row["search_display_name"]
    words = _WORD_RE.findall(display)
    allowance = _typo_allowance(term)
    if username == term:
        score = 1000.0
    elif not row["discoverable"] and not row["followed"]:
        return None  # accounts that opted out of discovery are found by their exact name only
    elif username.startswith(term):
        score = 600.0 + 100.0 * len(term) / len(username)
    elif display.startswith(term) or any(word.startswith(term) for word in words):
        score = 500.0 + 100.0 * len(term) / max(len(display), 1)
    else:
        distance = allowance + 1
        if allowance:
            for token in (username, display, *words):
                distance = min(
                    distance,
                    edit_distance(term, token, allowance),
                    edit_distance(term, token[: len(term)], allowance) + 0.5,
                )
        if distance <= allowance:
            score = 400.0 - 100.0 * distance
        elif row["similarity"] >= FUZZY_THRESHOLD and len(term) >= 3:
            score = 100.0 + 100.0 * float(row["similarity"])
        elif row["bio_match"]:
            score = 50.0
        else:
            return None
    score += min(math.log1p(row["followers_count"]), 12.0)
    if row["followed"]:
        score += 30.0
    if not row["domain"]:
        score += 2.0
    return score


def rank_accounts(term: str, rows: list[Record]) -> list[Record]:
    scored = [(account_score(term, row), row) for row in rows]
    kept = [(score, row) for score, row in scored if score is not None]
    kept.sort(key=lambda pair: (-pair[0], pair[1]["id"]))
    return [row for _, row in kept]


# --- hashtags -------------------------------------------------------------------------------


def tag_name(raw: str) -> str | None:
    """The stored form of a hashtag typed as `#Name` or `Name`; None when it is not one."""
    name = normalize_tag(raw.strip().lstrip("#"))
    if not name or len(name) > MAX_TAG_LENGTH or not _TAG_RE.match(name) or name.isdigit():
        return None
    return name


async def search_tags(
    q: str, *, limit: int = 20, offset: int = 0, reviewed_only: bool = False
) -> list[Record]:
    """Usable hashtags starting with `q` (folded: "cafe" finds #café): the exact one first,
    then the most used by distinct accounts this week, then the shortest."""
    term = q.strip().lstrip("#")
    if not term or not _TAG_RE.match(term):
        return []
    week_start = await db.fetchval("SELECT (now() AT TIME ZONE 'UTC')::date - 6")
    return await db.fetch(
        f"""WITH matching AS (
                SELECT t.* FROM tags t
                WHERE pinhole_fold(t.name) ~>=~ pinhole_fold($1)
                  AND pinhole_fold(t.name) ~<~ (pinhole_fold($1) || '{MAX_CHAR}')
                  AND t.usable
                  AND (NOT $2 OR t.reviewed_at IS NOT NULL OR lower(t.name) = lower($1))
                ORDER BY length(t.name), t.name LIMIT {TAG_CANDIDATES}
            )
            SELECT m.* FROM matching m
            LEFT JOIN LATERAL (
                SELECT sum(d.accounts) AS accounts FROM tag_daily_usage d
                WHERE d.tag_id = m.id AND d.day >= $3
            ) week ON true
            ORDER BY pinhole_fold(m.name) = pinhole_fold($1) DESC,
                     coalesce(week.accounts, 0) DESC, length(m.name), m.name
            LIMIT $4 OFFSET $5""",
        term,
        reviewed_only,
        week_start,
        limit,
        offset,
    )


# --- posts ----------------------------------------------------------------------------------


def searchable_by(post: str, viewer: str) -> str:
    """SQL condition, on top of visibility: the author lets their posts be searched (is
    discoverable), or is the viewer or followed by them; nor does the viewer mute the author."""
    return f"""(EXISTS (SELECT 1 FROM accounts sa WHERE sa.id = {post}.account_id
                       AND (sa.discoverable OR sa.id = {viewer}::bigint
                            OR EXISTS (SELECT 1 FROM follows sf
                                       WHERE sf.account_id = {viewer}::bigint
                                         AND sf.target_account_id = sa.id)))
            AND NOT EXISTS (SELECT 1 FROM mutes sm
                            WHERE sm.account_id = {viewer}::bigint
                              AND sm.target_account_id = {post}.account_id
                              AND (sm.expires_at IS NULL OR sm.expires_at > now())))"""


async def search_posts(
    q: str,
    viewer_id: int,
    *,
    limit: int = 20,
    offset: int = 0,
    account_id: int | None = None,
    min_id: int | None = None,
    max_id: int | None = None,
) -> list[int]:
    """Ids of posts the viewer may see whose caption, content warning or alt text has every
    word of `q` (`#tag` alone: posts with that hashtag), best first."""
    args: list[object] = [viewer_id]
    conditions = [visible_to("p", "$1"), searchable_by("p", "$1")]
    for value, condition in (
        (account_id, "p.account_id = ${}"),
        (min_id, "p.id > ${}"),
        (max_id, "p.id < ${}"),
    ):
        if value is not None:
            args.append(value)
            conditions.append(condition.format(len(args)))
    if q.startswith("#") and " " not in q.strip():
        name = tag_name(q)
        if name is None:
            return []
        args += [name, limit, offset]
        n = len(args)
        rows = await db.fetch(
            f"""SELECT p.id FROM tags t
                JOIN post_tags pt ON pt.tag_id = t.id
                JOIN posts p ON p.id = pt.post_id
                WHERE lower(t.name) = ${n - 2} AND {" AND ".join(conditions)}
                ORDER BY pt.post_id DESC LIMIT ${n - 1} OFFSET ${n}""",
            *args,
        )
        return [row["id"] for row in rows]
    args += [q, limit, offset]
    n = len(args)
    now_ms = "(extract(epoch FROM now()) * 1000)"
    rows = await db.fetch(
        f"""WITH matches AS (
                SELECT s.post_id, s.document FROM post_search s
                JOIN posts p ON p.id = s.post_id
                WHERE s.document @@ pinhole_search_query(${n - 2}) AND {" AND ".join(conditions)}
                ORDER BY s.post_id DESC LIMIT {POST_CANDIDATES}
            )
            SELECT post_id FROM matches
            ORDER BY ts_rank(document, pinhole_search_query(${n - 2}))
                     * power(0.5, greatest({now_ms} - (post_id >> {SEQUENCE_BITS}), 0)
                                  / (86400000.0 * {RECENCY_HALF_LIFE_DAYS})) DESC,
                     post_id DESC
            LIMIT ${n - 1} OFFSET ${n}""",
        *args,
    )
    return [row["post_id"] for row in rows]


# --- URLs -----------------------------------------------------------------------------------

_LOCAL_PATHS = (
    (re.compile(r"^/(?:@|users/)([\w.-]+)/?$"), "account"),
    (re.compile(r"^/(?:@([\w.-]+)|users/([\w.-]+)/statuses)/(\d+)/?$"), "post"),
)


async def _lookup_url(url: str, request: SearchRequest) -> SearchResults:
    """What a URL points at: a local profile or post, one already known here, or (resolve=true,
    signed in) one fetched from its server. Nothing else is searched for a URL."""
    empty = SearchResults([], [], [])
    if request.offset:
        return empty
    parts = urlsplit(url)
    if parts.netloc.lower() == get_settings().domain:
        account, post_id = await _local_url(parts.path)
    else:
        account, post_id = await _known_url(url)
        if account is None and post_id is None and request.resolve and request.viewer_id:
            account, post_id = await _resolve_url(url)
    if account is not None and "accounts" in request.types:
        return SearchResults([account], [], [])
    if post_id is not None and "statuses" in request.types:
        return SearchResults([], [], [post_id])
    return empty


async def _local_url(path: str) -> tuple[Record | None, int | None]:
    for pattern, kind in _LOCAL_PATHS:
        match = pattern.match(path)
        if match is None:
            continue
        if kind == "account":
            return await _known_account(match.group(1), ""), None
        post_id = parse_id(match.group(3))
        username = match.group(1) or match.group(2)
        found = await db.fetchval(
            """SELECT p.id FROM posts p JOIN accounts a ON a.id = p.account_id
               WHERE p.id = $1 AND a.domain = '' AND lower(a.username) = lower($2)""",
            post_id,
            username,
        )
        return None, found
    return None, None


async def _known_url(url: str) -> tuple[Record | None, int | None]:
    account = await db.fetchrow(
        "SELECT * FROM accounts WHERE uri = $1 AND suspended_at IS NULL", url
    )
    if account is not None:
        return account, None
    return None, await db.fetchval("SELECT id FROM posts WHERE uri = $1", url)


async def _resolve_url(url: str) -> tuple[Record | None, int | None]:
    if _remote is None:
        return None, None
    try:
        row = await _remote.account_by_url(url)
        return await _known_account_by_id(row["id"]), None
    except Exception as exc:  # noqa: BLE001 - not an actor, or unreachable: try as a post
        log.info("search: %s is not a remote account: %s", url, exc)
    if _remote.post_by_url is None:
        return None, None
    try:
        return None, await _remote.post_by_url(url)
    except Exception as exc:  # noqa: BLE001
        log.info("search: could not resolve %s: %s", url, exc)
        return None, None


async def _known_account_by_id(account_id: int) -> Record | None:
    return await db.fetchrow(
        "SELECT * FROM accounts WHERE id = $1 AND suspended_at IS NULL", account_id
    )
