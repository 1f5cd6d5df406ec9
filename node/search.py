"""Search on PostgreSQL alone: accounts by name and bio (prefix and typo-tolerant), hashtags by
prefix, posts by caption, alt text and hashtag (full text, ranked by relevance and recency), only
ever what the viewer may see; and `user@host` or URL lookups that bring remote accounts here."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
# newer ones run out, which bounds the work for common words. They are gathered window by
# window, newest first.
POST_CANDIDATES = 100
MAX_POST_CANDIDATES = 2000
FIRST_WINDOW_DAYS = 2.0
LAST_WINDOW_DAYS = 400.0  # a window reaching further back takes in everything older too
RECENCY_HALF_LIFE_DAYS = 30.0
# U+10FFFF sorts (bytewise, as text_pattern_ops compares) after any other character, so
# `x ~>=~ p AND x ~<~ p || MAX_CHAR` is "x starts with p" in a form that uses the index in
# generic prepared plans too (LIKE with a parameter does not).
MAX_CHAR = "\U0010ffff"
MAX_ID = (1 << 63) - 1

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


def _fuzzy_threshold(words: list[str]) -> float:
    """Trigram word similarity a name must reach for each typed word: "alcie" shares only 2 of
    6 trigrams with "alice" (0.33), longer words keep more of theirs through a typo, and a
    lower bar for them would only add noise."""
    shortest = min(len(word) for word in words)
    return FUZZY_THRESHOLD if shortest <= 5 else 0.4 if shortest <= 8 else 0.5


# Parameters of the account queries: $1 the folded term, $2 the viewer (or NULL), $3 the
# number of candidates per kind of match, $4 the domain to keep to (or NULL), $5… the words.
def _account_filter(following: bool) -> str:
    condition = "a.suspended_at IS NULL AND a.actor_type <> 'Application'"
    if following:
        condition += """ AND EXISTS (SELECT 1 FROM follows ff
                                     WHERE ff.account_id = $2 AND ff.target_account_id = a.id)"""
    return condition + " AND ($4::text IS NULL OR lower(a.domain) = lower($4))"


_BIO = "to_tsvector('simple', pinhole_fold(pinhole_html_text(a.note)))"
_NAME_WORDS = "to_tsvector('simple', a.search_name)"
_PREFIX = "{col} ~>=~ $1 AND {col} ~<~ ($1 || '" + MAX_CHAR + "')"


def _prefix_candidates(following: bool) -> str:
    """For one or two letters: accounts whose username or display name starts with them, the
    most followed first (as a word or a typo such a term would match everyone)."""
    f = _account_filter(following)
    return f"""(SELECT a.id, 0.0 AS similarity, false AS bio FROM accounts a
                WHERE {_PREFIX.format(col="lower(a.username)")}
                  AND {f} ORDER BY a.followers_count DESC LIMIT $3)
               UNION ALL
               (SELECT a.id, 0.0, false FROM accounts a
                WHERE {_PREFIX.format(col="a.search_display_name")}
                  AND {f} ORDER BY a.followers_count DESC LIMIT $3)"""


def _word_candidates(following: bool) -> str:
    """Accounts with every typed word among the words of their username and display name (the
    last as a prefix), the most followed first; and any whose bio has the words (bios rank
    last, so any will do)."""
    f = _account_filter(following)
    return f"""(SELECT a.id, 0.0 AS similarity, false AS bio FROM accounts a
                WHERE {_NAME_WORDS} @@ pinhole_search_query($1) AND {f}
                ORDER BY a.followers_count DESC LIMIT $3)
               UNION ALL
               (SELECT a.id, 0.0, true FROM accounts a
                WHERE {_BIO} @@ pinhole_search_query($1) AND {f} LIMIT $3)"""


def _typo_candidates(following: bool, word_count: int) -> str:
    """Accounts with a near spelling of every typed word (their typo neighbourhoods meet)."""
    f = _account_filter(following)
    words = " AND ".join(
        f"pinhole_name_variants(a.search_name) && pinhole_name_variants(${5 + n})"
        for n in range(word_count)
    )
    return f"""SELECT a.id, 0.0 AS similarity, false AS bio FROM accounts a
               WHERE {words} AND {f} ORDER BY a.followers_count DESC LIMIT $3"""


def _similar_candidates(following: bool, word_count: int) -> str:
    """Accounts whose names hold every typed word loosely (trigram word similarity): the last
    resort, for more than a typo or a word cut short."""
    f = _account_filter(following)
    words = " AND ".join(f"${5 + n} <% a.search_name" for n in range(word_count))
    # `<<->` is 1 - word_similarity: one computation per row where ordering by the similarity
    # itself would redo the work `<%` just did.
    return f"""SELECT a.id, 1 - ($1 <<-> a.search_name) AS similarity, false AS bio
               FROM accounts a WHERE {words} AND {f}
               ORDER BY $1 <<-> a.search_name, a.followers_count DESC LIMIT $3"""


def _account_rows(candidates: str) -> str:
    """The candidates' rows with what the ranking needs (each candidate query says how it
    matched: similarity, bio); none across a block."""
    return f"""
        WITH candidates AS (
            SELECT id, max(similarity) AS similarity, bool_or(bio) AS bio_match
            FROM ({candidates}) found GROUP BY id
        )
        SELECT a.*, $1::text AS search_term, pinhole_fold(a.username) AS search_username,
               c.similarity, c.bio_match,
               EXISTS (SELECT 1 FROM follows f
                       WHERE f.account_id = $2 AND f.target_account_id = a.id) AS followed
        FROM candidates c JOIN accounts a ON a.id = c.id
        WHERE ($2::bigint IS NULL OR a.id = $2 OR NOT EXISTS (
            SELECT 1 FROM blocks b
            WHERE (b.account_id = a.id AND b.target_account_id = $2)
               OR (b.account_id = $2 AND b.target_account_id = a.id)))"""


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
    display-name prefixes, then names with the typed words, then within a typo of them, then
    bios, then (with pg_trgm) loosely similar names.

    Each looser kind of match is looked for only while the stricter ones found too few: the
    loose ones cost more, and a stricter match outranks them anyway."""
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
    term: str = await db.fetchval("SELECT pinhole_fold($1::text)", q) or ""
    pool = min(max(ACCOUNT_CANDIDATES, offset + limit), MAX_ACCOUNT_CANDIDATES)
    needed = offset + limit
    words = [word for word in _WORD_RE.findall(term) if len(word) >= 3][:4]
    args = [term, viewer_id, pool, only_domain]
    found = _FoundAccounts(term)
    if len(term) < 3 or not words:
        found.add(await db.fetch(_account_rows(_prefix_candidates(following)), *args))
    else:
        found.add(await db.fetch(_account_rows(_word_candidates(following)), *args))
        if found.by_name < needed and len(term) >= 4:
            sql = _account_rows(_typo_candidates(following, len(words)))
            found.add(await db.fetch(sql, *args, *words))
        # Bio matches outrank loose name similarity: with enough of them, stop here.
        if trigrams and found.by_name + found.by_bio < needed:
            async with db.transaction():
                # What `<%` compares with; LOCAL: for this transaction only.
                await db.execute(
                    "SELECT set_config('pg_trgm.word_similarity_threshold', $1, true)",
                    str(_fuzzy_threshold(words)),
                )
                sql = _account_rows(_similar_candidates(following, len(words)))
                found.add(await db.fetch(sql, *args, *words))
    ranked = found.ranked()
    if exact is not None:
        ranked = [exact] + [row for row in ranked if row["id"] != exact["id"]]
    return ranked[offset : offset + limit]


class _FoundAccounts:
    """Candidate rows, each scored once, as the search phases add them."""

    def __init__(self, term: str) -> None:
        self.term = term
        self.rows: dict[int, tuple[float, Record]] = {}
        self.by_name = 0
        self.by_bio = 0

    def add(self, rows: list[Record]) -> None:
        for row in rows:
            if row["id"] in self.rows:
                continue
            score = account_score(self.term, row)
            if score is None:
                continue
            self.rows[row["id"]] = (score[0], row)
            if score[1]:
                self.by_name += 1
            elif row["bio_match"]:
                self.by_bio += 1

    def ranked(self) -> list[Record]:
        ordered = sorted(self.rows.values(), key=lambda item: (-item[0], item[1]["id"]))
        return [row for _, row in ordered]


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


def _typo_allowance(word: str) -> int:
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


def words_distance(query_words: list[str], name_words: list[str]) -> float | None:
    """Edits needed for every typed word to be one of the name's words (the last typed word
    may be the start of one, as it is typed); None when a word matches none within its
    allowance. A typo in the start of a longer word costs half an edit more."""
    total = 0.0
    for index, typed in enumerate(query_words):
        last = index == len(query_words) - 1
        allowance = _typo_allowance(typed)
        best: float | None = None
        for word in name_words:
            if word == typed or (last and word.startswith(typed)):
                best = 0.0
                break
            if allowance:
                distance: float = edit_distance(typed, word, allowance)
                if last:
                    distance = min(
                        distance, edit_distance(typed, word[: len(typed)], allowance) + 0.5
                    )
                if distance <= allowance and (best is None or distance < best):
                    best = distance
        if best is None:
            return None
        total += best
    return total


def account_score(term: str, row: Mapping[str, Any]) -> tuple[float, bool] | None:
    """How well an account matches the folded term, and whether it matched by name (not only
    by bio or loose similarity); None when it does not match at all.

    Exact username, then prefixes of the username or display name, then every typed word
    among the name's words, then within a typo or two, then bio words, then loose (trigram)
    similarity of names.
    Followed accounts, popular ones and local ones win ties."""
    username: str = row["search_username"]
    display: str = row["search_display_name"]
    if username == term:
        base, by_name = 1000.0, True
    elif not (row["discoverable"] and row["silenced_at"] is None) and not row["followed"]:
        # Accounts that opted out of discovery, or that moderators limited, are found by their
        # exact name only (or by those who follow them).
        return None
    elif username.startswith(term):
        base, by_name = 600.0 + 100.0 * len(term) / len(username), True
    elif display.startswith(term):
        base, by_name = 500.0 + 100.0 * len(term) / len(display), True
    else:
        typed = _WORD_RE.findall(term)
        distance = words_distance(typed, _WORD_RE.findall(f"{username} {display}"))
        whole = edit_distance(term, display, _typo_allowance(term)) if display else 99
        if whole <= _typo_allowance(term) and (distance is None or whole < distance):
            distance = whole
        if distance == 0:
            base, by_name = 450.0, True
        elif distance is not None:
            base, by_name = 400.0 - 50.0 * distance, True
        elif row["bio_match"]:
            base, by_name = 200.0, False
        elif row["similarity"] >= FUZZY_THRESHOLD and len(term) >= 3:
            base, by_name = 50.0 + 100.0 * float(row["similarity"]), False
        else:
            return None
    base += min(math.log1p(row["followers_count"]), 12.0)
    if row["followed"]:
        base += 30.0
    if not row["domain"]:
        base += 2.0
    return base, by_name


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
    then the most used by distinct accounts this week, then the shortest.

    `reviewed_only` (Mastodon's exclude_unreviewed, which clients such as Mastodon.py send by
    default) leaves out, but for an exact match, tags staff rejected from trends and, when
    trends need review, those nobody reviewed yet."""
    term = q.strip().lstrip("#")
    if not term or not _TAG_RE.match(term):
        return []
    reviewed = "t.trendable"
    if get_settings().trends_require_review:
        reviewed += " AND t.reviewed_at IS NOT NULL"
    week_start = datetime.now(UTC).date() - timedelta(days=6)
    return await db.fetch(
        f"""WITH matching AS (
                SELECT t.* FROM tags t
                WHERE pinhole_fold(t.name) ~>=~ pinhole_fold($1)
                  AND pinhole_fold(t.name) ~<~ (pinhole_fold($1) || '{MAX_CHAR}')
                  AND t.usable
                  AND (NOT $2 OR ({reviewed}) OR lower(t.name) = lower($1))
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
    word of `q` (`#tag` alone: posts with that hashtag, newest first), best first."""
    args: list[object] = [viewer_id]
    conditions = [visible_to("p", "$1"), searchable_by("p", "$1")]
    if account_id is not None:
        args.append(account_id)
        conditions.append(f"p.account_id = ${len(args)}")
    async with db.transaction():
        # Plans made for the actual words and bounds: how common a word is decides between
        # walking the newest posts and intersecting indexes, and a generic plan cannot know.
        await db.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        if q.startswith("#") and " " not in q.strip():
            return await _posts_with_tag(q, args, conditions, limit, offset, min_id, max_id)
        return await _posts_with_words(q, args, conditions, limit, offset, min_id, max_id)


async def _posts_with_words(
    q: str,
    args: list[object],
    conditions: list[str],
    limit: int,
    offset: int,
    min_id: int | None,
    max_id: int | None,
) -> list[int]:
    """Matches ranked by relevance (caption above alt text) times recency."""
    wanted = min(max(POST_CANDIDATES, offset + limit), MAX_POST_CANDIDATES)
    args.append(q)
    query = f"pinhole_search_query(${len(args)})"
    # The newest matches first, one time window after another: each window's query reads only
    # its part of the table (the GIN index ANDed with the id range), so a common word stops in
    # the first window and a rare one costs a few small index probes. Each next window is as
    # long as the matches seen so far say is needed.
    now = datetime.now(UTC)
    upper = max_id if max_id is not None else MAX_ID
    found: list[Record] = []
    covered_days = 0.0
    span_days = FIRST_WINDOW_DAYS
    while True:
        last = covered_days + span_days > LAST_WINDOW_DAYS
        lower = 0 if last else _first_id_at(now - timedelta(days=covered_days + span_days))
        if min_id is not None and lower <= min_id:
            lower, last = min_id + 1, True
        if lower < upper:
            missing = wanted - len(found)
            # The first (short) window walks the newest posts until enough match, which suits
            # common words. Later windows were sized to hold about what is missing, so they
            # take all their matches: asking for the newest few would tempt the planner into
            # that walk over a long range for a word rarer than it thinks.
            first = covered_days == 0
            window_args = [*args, lower, upper, missing if first else missing * 4]
            n = len(window_args)
            rows = await db.fetch(
                f"""SELECT s.post_id, ts_rank(s.document, {query}) AS relevance
                    FROM post_search s JOIN posts p ON p.id = s.post_id
                    WHERE s.document @@ {query}
                      AND s.post_id >= ${n - 2} AND s.post_id < ${n - 1}
                      AND {" AND ".join(conditions)}
                    {"ORDER BY s.post_id DESC" if first else ""} LIMIT ${n}""",
                *window_args,
            )
            found += sorted(rows, key=lambda row: -row["post_id"])[:missing]
            upper = lower
        covered_days += span_days
        if len(found) >= wanted or last:
            break
        per_day = len(found) / covered_days
        span_days = (wanted - len(found)) / per_day * 1.5 if per_day else span_days * 8
    now_ms = now.timestamp() * 1000

    def score(row: Record) -> float:
        age_days = max(now_ms - (row["post_id"] >> SEQUENCE_BITS), 0) / 86_400_000
        return row["relevance"] * 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)

    ranked = sorted(found, key=lambda row: (-score(row), -row["post_id"]))
    return [row["post_id"] for row in ranked[offset : offset + limit]]


def _first_id_at(moment: datetime) -> int:
    """The smallest id made at `moment` or later (ids are time-sortable)."""
    return int(moment.timestamp() * 1000) << SEQUENCE_BITS


async def _posts_with_tag(
    q: str,
    args: list[object],
    conditions: list[str],
    limit: int,
    offset: int,
    min_id: int | None,
    max_id: int | None,
) -> list[int]:
    """Posts with the hashtag, newest first: a walk down the (tag, post) index that stops as
    soon as the page is full, however popular the tag."""
    name = tag_name(q)
    tag_id = await db.fetchval("SELECT id FROM tags WHERE lower(name) = $1", name) if name else None
    if tag_id is None:
        return []
    args = [*args, tag_id, min_id, max_id, limit, offset]
    n = len(args)
    rows = await db.fetch(
        f"""SELECT pt.post_id FROM post_tags pt JOIN posts p ON p.id = pt.post_id
            WHERE pt.tag_id = ${n - 4}
              AND (${n - 3}::bigint IS NULL OR pt.post_id > ${n - 3})
              AND (${n - 2}::bigint IS NULL OR pt.post_id < ${n - 2})
              AND {" AND ".join(conditions)}
            ORDER BY pt.tag_id DESC, pt.post_id DESC LIMIT ${n - 1} OFFSET ${n}""",
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
