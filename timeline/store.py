"""The Redis home feeds: one sorted set of post ids per account (score = id), capped, and never
the only copy — a missing feed is rebuilt from PostgreSQL.

Each feed holds a marker member (`~`) scored below every post: -1 when the feed is built,
-2 while a rebuild is filling it. A feed without the marker (Redis lost, key deleted, or
expired because its owner was inactive) is rebuilt when it is next read. Pushes only go into
feeds that exist, so an inactive user's expired feed stays gone until they come back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from node.redis import key, redis
from node.settings import get_settings

FEED_SIZE = 800  # posts kept per feed; older pages are read from PostgreSQL
PUSH_CHUNK = 1000  # feeds per Lua call: long enough to amortise, short enough not to stall Redis
MARKER = b"~"
BUILT, BUILDING = -1.0, -2.0
TOUCH_SECONDS = 3600  # last_active_at is written at most once an hour per user

# KEYS: feeds. ARGV[1]: feed size; ARGV[2..]: post ids. Adds the posts to each feed that exists
# and trims it to the newest `size` posts (rank 0 is the marker, kept). Returns feeds touched.
_PUSH = """
local size = tonumber(ARGV[1])
local args = {}
for i = 2, #ARGV do
  args[#args + 1] = ARGV[i]
  args[#args + 1] = ARGV[i]
end
local pushed = 0
for i = 1, #KEYS do
  local held = redis.call('ZCARD', KEYS[i])
  if held > 0 then
    held = held + redis.call('ZADD', KEYS[i], unpack(args))
    if held > size + 1 then
      redis.call('ZREMRANGEBYRANK', KEYS[i], 1, -(size + 1))
    end
    pushed = pushed + 1
  end
end
return pushed
"""

# KEYS[1]: a feed. ARGV[1]: feed size, ARGV[2]: ttl seconds; ARGV[3..]: post ids. Fills a feed
# being rebuilt, marks it built and sets its expiry.
_FILL = """
local size = tonumber(ARGV[1])
for i = 3, #ARGV, 500 do
  local args = {}
  for j = i, math.min(i + 499, #ARGV) do
    args[#args + 1] = ARGV[j]
    args[#args + 1] = ARGV[j]
  end
  redis.call('ZADD', KEYS[1], unpack(args))
end
redis.call('ZADD', KEYS[1], -1, '~')
if redis.call('ZCARD', KEYS[1]) > size + 1 then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 1, -(size + 1))
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""

# KEYS: feeds. ARGV: post ids. Removes them wherever they are.
_REMOVE = """
for i = 1, #KEYS do
  for j = 1, #ARGV, 500 do
    redis.call('ZREM', KEYS[i], unpack(ARGV, j, math.min(j + 499, #ARGV)))
  end
end
return #KEYS
"""

_scripts: dict[str, object] = {}


def _script(source: str):
    script = _scripts.get(source)
    if script is None:
        script = _scripts[source] = redis().register_script(source)
    return script


def home_key(account_id: int | str) -> str:
    return key("feed", "home", account_id)


def _touch_key(account_id: int) -> str:
    return key("feed", "active", account_id)


def feed_ttl() -> int:
    """Seconds a feed lives without its owner reading it: a little under the inactivity limit,
    so a feed is gone (and rebuilt on return) before pushes to its owner stop."""
    return max(get_settings().feed_inactive_days * 86400 - TOUCH_SECONDS, TOUCH_SECONDS)


async def push(post_ids: Sequence[int], account_ids: Iterable[int]) -> int:
    """Add posts to the feeds of these accounts (those whose feed exists); returns how many."""
    if not post_ids:
        return 0
    script = _script(_PUSH)
    prefix = home_key("")  # one settings lookup for ten thousand keys
    keys = [f"{prefix}{a}" for a in account_ids]
    args = [FEED_SIZE, *post_ids]
    pushed = 0
    for start in range(0, len(keys), PUSH_CHUNK):
        pushed += await script(keys=keys[start : start + PUSH_CHUNK], args=args)
    return pushed


async def remove(post_ids: Sequence[int], account_ids: Iterable[int]) -> None:
    if not post_ids:
        return
    script = _script(_REMOVE)
    prefix = home_key("")
    keys = [f"{prefix}{a}" for a in account_ids]
    for start in range(0, len(keys), PUSH_CHUNK):
        await script(keys=keys[start : start + PUSH_CHUNK], args=list(post_ids))


async def begin_rebuild(account_id: int) -> None:
    """Mark the feed as being rebuilt, so pushes from now on land in it while it is filled."""
    client = redis()
    feed = home_key(account_id)
    async with client.pipeline(transaction=False) as pipe:
        pipe.zadd(feed, {MARKER: BUILDING}, nx=True)
        pipe.expire(feed, feed_ttl())
        await pipe.execute()


async def finish_rebuild(account_id: int, post_ids: Sequence[int]) -> None:
    await _script(_FILL)(keys=[home_key(account_id)], args=[FEED_SIZE, feed_ttl(), *post_ids])


async def feed_ids(account_id: int) -> list[int]:
    """Every post id in a feed, newest first (for removals)."""
    raw = await redis().zrevrangebyscore(home_key(account_id), "+inf", "(0")
    return [int(m) for m in raw]


async def lowest_id(account_id: int) -> int | None:
    raw = await redis().zrangebyscore(home_key(account_id), "(0", "+inf", start=0, num=1)
    return int(raw[0]) if raw else None


async def keep_alive(account_id: int) -> None:
    """The owner is active: their feed lives another full period."""
    await redis().expire(home_key(account_id), feed_ttl())


@dataclass(frozen=True)
class Window:
    """What the feed holds in a window of ids, read in one round trip."""

    state: float | None  # the marker's score: BUILT, BUILDING, or None when there is no feed
    ids: list[int]  # post ids in the window, in the order asked, exact bounds applied
    exhausted: bool  # the feed has no more ids in the window than these
    floor: int | None  # the lowest post id in the feed
    touch_due: bool  # the owner's hourly activity stamp is due


# KEYS[1]: a feed, KEYS[2]: its owner's activity stamp. ARGV: low, high (score bounds, as
# ZRANGE BYSCORE takes them), count, "1" for oldest first, "1" to stamp activity (hourly).
# Returns {marker score or false, lowest post id or false, stamp was due (0/1), ids...}: one
# command instead of a pipeline of four, which the client parses much faster.
_READ = """
local state = redis.call('ZSCORE', KEYS[1], '~')
local ids
if ARGV[4] == '1' then
  ids = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYSCORE', 'LIMIT', 0, ARGV[3])
else
  ids = redis.call('ZRANGE', KEYS[1], ARGV[2], ARGV[1], 'BYSCORE', 'REV', 'LIMIT', 0, ARGV[3])
end
local lowest = redis.call('ZRANGE', KEYS[1], '(0', '+inf', 'BYSCORE', 'LIMIT', 0, 1)
local due = 0
if ARGV[5] == '1' and redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[6]) then
  due = 1
end
local result = {state or false, lowest[1] or false, due}
for i = 1, #ids do
  result[#result + 1] = ids[i]
end
return result
"""


async def read(
    account_id: int, *, lo: int | None, hi: int | None, count: int, ascending: bool, touch: bool
) -> Window:
    """Up to `count` ids strictly between lo and hi (newest first, or oldest first)."""
    # Scores are doubles: ids above 2**53 share a score with up to 15 neighbours, so the bounds
    # are inclusive here, a few more ids are asked for, and the exact bounds are applied below.
    slack = 16
    result = await _script(_READ)(
        keys=[home_key(account_id), _touch_key(account_id)],
        args=[
            str(lo) if lo is not None else "(0",
            str(hi) if hi is not None else "+inf",
            count + slack,
            "1" if ascending else "0",
            "1" if touch else "0",
            TOUCH_SECONDS,
        ],
    )
    state, lowest, due, raw = result[0], result[1], result[2], result[3:]
    ids = [int(m) for m in raw]
    if lo is not None:
        ids = [i for i in ids if i > lo]
    if hi is not None:
        ids = [i for i in ids if i < hi]
    return Window(
        state=float(state) if state else None,
        ids=ids[:count],
        exhausted=len(raw) < count + slack,
        floor=int(lowest) if lowest else None,
        touch_due=bool(due),
    )
