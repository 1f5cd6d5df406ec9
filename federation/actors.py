"""Remote actors: fetched over signed GETs, stored as accounts with their domain, refreshed, and
their keys cached for signature checks (refetched once on failure, with a cool-off)."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urldefrag

from asyncpg import Record, UniqueViolationError

from federation.client import FetchError, fetch_json, signed_get
from federation.convert import ActorRejected, RemoteActor, actor_from_document
from federation.instance_actor import instance_actor_uri, instance_keys
from federation.signatures import PublicKey, SignatureError, load_public_key
from federation.vocabulary import host_of, id_of, same_host
from node import db
from node.ids import new_id
from node.redis import key, redis
from node.settings import get_settings

log = logging.getLogger("pinhole.federation")

REFRESH_AFTER = timedelta(days=1)  # a stored actor older than this is refetched when used
KEY_CACHE_SECONDS = 300.0  # how long a verified key stays in this process's memory
KEY_REFETCH_COOL_OFF = 300  # seconds between forced refetches of one key id


class ActorUnavailable(Exception):
    """An actor that could not be fetched or is not a valid actor."""


def is_local_uri(uri: str) -> bool:
    return host_of(uri) == get_settings().domain


async def account_by_uri(uri: str) -> Record | None:
    return await db.fetchrow("SELECT * FROM accounts WHERE uri = $1", uri)


async def store_actor(actor: RemoteActor) -> Record:
    """Insert or update the account of a remote actor (keyed by its uri)."""
    values = (
        actor.username,
        actor.domain,
        actor.display_name,
        actor.note,
        actor.url,
        actor.avatar_url,
        actor.header_url,
        actor.locked,
        actor.discoverable,
        actor.bot,
        json.dumps(actor.fields),
        actor.inbox_url,
        actor.shared_inbox_url,
        actor.outbox_url,
        actor.followers_url,
        actor.following_url,
        actor.public_key_pem,
        actor.key_id,
        actor.actor_type,
        actor.also_known_as,
    )
    columns = """username = $2, domain = $3, display_name = $4, note = $5, url = $6,
        avatar_url = $7, header_url = $8, locked = $9, discoverable = $10, bot = $11,
        fields = $12::jsonb, inbox_url = $13, shared_inbox_url = $14, outbox_url = $15,
        followers_url = $16, following_url = $17, public_key_pem = $18, key_id = $19,
        actor_type = $20, also_known_as = $21, fetched_at = now(), updated_at = now()"""
    row = await db.fetchrow(
        f"UPDATE accounts SET {columns} WHERE uri = $1 RETURNING *", actor.uri, *values
    )
    if row is not None:
        return row
    try:
        return await db.fetchrow(
            """INSERT INTO accounts (id, uri, username, domain, display_name, note, url, avatar_url,
                   header_url, locked, discoverable, bot, fields, inbox_url, shared_inbox_url,
                   outbox_url, followers_url, following_url, public_key_pem, key_id, actor_type,
                   also_known_as, fetched_at, created_at)
               VALUES ($22, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14,
                       $15, $16, $17, $18, $19, $20, $21, now(), coalesce($23, now()))
               ON CONFLICT (uri) WHERE uri <> '' DO UPDATE SET fetched_at = now()
               RETURNING *""",
            actor.uri,
            *values,
            new_id(),
            actor.published,
        )
    except UniqueViolationError:
        # Same username@domain under a new id (the server changed its actor URLs): the newer
        # document wins, so follows and posts stay with the one account.
        return await db.fetchrow(
            f"""UPDATE accounts SET uri = $1, {columns}
                WHERE lower(username) = lower($2) AND lower(domain) = lower($3) RETURNING *""",
            actor.uri,
            *values,
        )


async def fetch_actor(uri: str) -> Record:
    """Fetch an actor document from its origin and store it; ActorUnavailable on failure."""
    uri, _ = urldefrag(uri)
    if is_local_uri(uri):
        row = await account_by_uri(uri)
        if row is None:
            raise ActorUnavailable(f"no local actor {uri}")
        return row
    try:
        final_url, document = await fetch_json(uri)
        actor = actor_from_document(document)
    except (FetchError, ActorRejected) as exc:
        raise ActorUnavailable(f"{uri}: {exc}") from None
    # The document must live where it says it lives: no host may speak for another.
    if not same_host(actor.uri, final_url) or not same_host(actor.uri, uri):
        raise ActorUnavailable(f"{uri}: the actor's id is on another host")
    if actor.uri != uri:
        known = await account_by_uri(actor.uri)
        if known is not None and known["fetched_at"] and _fresh(known):
            return known
    return await store_actor(actor)


def _fresh(row: Record) -> bool:
    fetched = row["fetched_at"]
    return fetched is not None and datetime.now(UTC) - fetched < REFRESH_AFTER


async def get_actor(uri: str, *, refresh: bool = False) -> Record:
    """A remote actor's account, from the database when fresh, else fetched from its origin.

    A stored actor that cannot be refetched is still returned (its server may be down).
    """
    uri, _ = urldefrag(uri)
    row = await account_by_uri(uri)
    if row is not None and (row["domain"] == "" or (not refresh and _fresh(row))):
        return row
    try:
        return await fetch_actor(uri)
    except ActorUnavailable:
        if row is not None:
            return row
        raise


# --- keys -------------------------------------------------------------------------------------

_key_cache: dict[str, tuple[float, PublicKey]] = {}


def _cache_key(public_key: PublicKey) -> PublicKey:
    if len(_key_cache) > 50_000:
        _key_cache.clear()
    _key_cache[public_key.key_id] = (time.monotonic() + KEY_CACHE_SECONDS, public_key)
    return public_key


def is_key_cached(key_id: str) -> bool:
    """Whether checking a signature by this key needs no database or network."""
    cached = _key_cache.get(key_id)
    return cached is not None and cached[0] > time.monotonic()


async def _may_refetch(key_id: str) -> bool:
    """One forced refetch per key id per cool-off, across processes (a bad sender cannot make
    us fetch in a loop)."""
    return bool(await redis().set(key("keyfetch", key_id), b"1", nx=True, ex=KEY_REFETCH_COOL_OFF))


def _public_key_of(row: Record, key_id: str) -> PublicKey | None:
    if not row["public_key_pem"]:
        return None
    try:
        return PublicKey(key_id, row["uri"], load_public_key(row["public_key_pem"]))
    except SignatureError:
        return None


async def _stored_key(key_id: str) -> PublicKey | None:
    if key_id == instance_actor_uri() + "#main-key":
        _, public_pem = await instance_keys()
        return PublicKey(key_id, instance_actor_uri(), load_public_key(public_pem))
    row = await db.fetchrow("SELECT * FROM accounts WHERE key_id = $1 LIMIT 1", key_id)
    if row is None:
        without_fragment, _ = urldefrag(key_id)
        row = await account_by_uri(without_fragment)
        if row is not None and row["key_id"] and row["key_id"] != key_id:
            row = None
    return None if row is None else _public_key_of(row, key_id)


async def _fetch_key(key_id: str) -> PublicKey | None:
    """Resolve a key id by fetching it: the document is the actor itself (`#main-key`) or a
    Key object naming its owner, whose actor document must list the same key."""
    url, _ = urldefrag(key_id)
    try:
        _, document = await fetch_json(url)
    except FetchError as exc:
        log.info("key %s could not be fetched: %s", key_id, exc.message)
        return None
    owner = id_of(document.get("owner"))
    if owner and "publicKeyPem" in document and not document.get("inbox"):
        if not same_host(owner, key_id):
            return None
        try:
            row = await fetch_actor(owner)
        except ActorUnavailable as exc:
            log.info("owner of key %s unavailable: %s", key_id, exc)
            return None
    else:
        try:
            actor = actor_from_document(document)
        except ActorRejected:
            return None
        if not same_host(actor.uri, key_id):
            return None
        row = await store_actor(actor)
    if row["key_id"] != key_id and urldefrag(row["key_id"])[0] != url:
        return None
    return _public_key_of(row, key_id)


async def lookup_key(key_id: str, refresh: bool) -> PublicKey | None:
    """The key lookup handed to SignatureChecker: memory, then database, then the network;
    `refresh` refetches (at most once per cool-off per key id)."""
    if not key_id or not host_of(key_id):
        return None
    if not refresh:
        cached = _key_cache.get(key_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        stored = await _stored_key(key_id)
        if stored is not None:
            return _cache_key(stored)
    elif is_local_uri(key_id) or not await _may_refetch(key_id):
        return None
    fetched = await _fetch_key(key_id)
    return _cache_key(fetched) if fetched is not None else None


# --- WebFinger --------------------------------------------------------------------------------


async def webfinger(acct: str) -> str:
    """The actor id of `user@host` by WebFinger; ActorUnavailable when it cannot be found."""
    acct = acct.strip().removeprefix("acct:").lstrip("@")
    username, _, domain = acct.partition("@")
    if not username or not domain or "/" in domain:
        raise ActorUnavailable(f"{acct} is not user@host")
    settings = get_settings()
    # Plain http only where private addresses are allowed (tests, development on loopback).
    scheme = "http" if settings.allow_private_addresses and not settings.https else "https"
    url = f"{scheme}://{domain}/.well-known/webfinger?resource={quote('acct:' + acct)}"
    try:
        _, body = await signed_get(url, accept="application/jrd+json, application/json")
        document = json.loads(body)
    except (FetchError, ValueError) as exc:
        raise ActorUnavailable(f"WebFinger for {acct} failed: {exc}") from None
    for link in document.get("links", []) if isinstance(document, dict) else []:
        if (
            isinstance(link, dict)
            and link.get("rel") == "self"
            and isinstance(link.get("href"), str)
            and ("activity+json" in str(link.get("type")) or "ld+json" in str(link.get("type")))
        ):
            return link["href"]
    raise ActorUnavailable(f"WebFinger for {acct} names no ActivityPub actor")


async def resolve_account(acct: str) -> Record:
    """A remote account by `user@host`: known and fresh, or found by WebFinger and fetched."""
    acct = acct.strip().removeprefix("acct:").lstrip("@")
    username, _, domain = acct.partition("@")
    row = await db.fetchrow(
        "SELECT * FROM accounts WHERE lower(username) = lower($1) AND lower(domain) = lower($2)",
        username,
        domain,
    )
    if row is not None and (row["domain"] == "" or _fresh(row)):
        return row
    try:
        return await get_actor(await webfinger(acct), refresh=row is not None)
    except ActorUnavailable:
        if row is not None:
            return row
        raise
