"""What one crawl keeps in Redis beside scrapy-redis' queue and dupefilter, changed only by atomic scripts.

Keys, all under ``newsarchive:<spider>:<crawl-id>:``:

``requests``    scrapy-redis' priority queue (a sorted set of pickled requests)
``dupefilter``  scrapy-redis' request fingerprints (a set: one 40-character SHA-1 per request)
``seed``        ``seeding <worker>`` while a worker pushes the start requests, then ``done``
``workers``     worker id -> ``<Redis time> busy|idle``, rewritten by each worker every second
``finished``    when the crawl ended; then the keys above are deleted

A crawl that never finishes (its workers killed) leaves its keys behind for
``expire`` seconds after the last heartbeat. Times come from Redis' clock, so
workers on machines whose clocks disagree still agree on who is alive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KEY_PREFIX = "newsarchive"
LIVE_SECONDS = 15  # a worker whose last heartbeat is older than this is gone (heartbeats come every second)

# Seed or join. The first worker of a crawl seeds it; so does the first worker of a crawl that every worker left
# without finishing (stopped, or Redis went away), which walks the sources again: links found while Redis was away
# are then queued, and the dupefilter drops everything queued before. A seeder that died mid-way is replaced.
JOIN = """
local finished = redis.call('GET', KEYS[3])
if finished then return {'finished', finished} end
local now = tonumber(redis.call('TIME')[1])
local live, others = {}, 0
local beats = redis.call('HGETALL', KEYS[2])
for i = 1, #beats, 2 do
  local at = tonumber(string.match(beats[i + 1], '^%d+'))
  if at and now - at <= tonumber(ARGV[2]) then
    live[beats[i]] = true
    if beats[i] ~= ARGV[1] then others = others + 1 end
  else
    redis.call('HDEL', KEYS[2], beats[i])
  end
end
local seed = redis.call('GET', KEYS[1])
local role = 'join'
if not seed then
  role = 'seed'
elseif seed == 'done' then
  if others == 0 then role = 'reseed' end
else
  local holder = string.sub(seed, 9)
  if holder == ARGV[1] or not live[holder] then role = 'reseed' end
end
if role ~= 'join' then redis.call('SET', KEYS[1], 'seeding ' .. ARGV[1], 'EX', ARGV[3]) end
redis.call('HSET', KEYS[2], ARGV[1], now .. ' busy')
redis.call('EXPIRE', KEYS[2], ARGV[3])
return {role, seed or ''}
"""

SEEDED = """
if redis.call('GET', KEYS[1]) == 'seeding ' .. ARGV[1] then
  redis.call('SET', KEYS[1], 'done', 'EX', ARGV[2])
  return 1
end
return 0
"""

# Heartbeat: say whether this worker is busy, keep the crawl's keys alive; answer how many requests are queued
# and how many live workers are busy.
BEAT = """
local now = tonumber(redis.call('TIME')[1])
redis.call('HSET', KEYS[1], ARGV[1], now .. ' ' .. ARGV[2])
local busy = 0
local beats = redis.call('HGETALL', KEYS[1])
for i = 1, #beats, 2 do
  local at, state = string.match(beats[i + 1], '^(%d+) (%a+)')
  if at and now - tonumber(at) <= tonumber(ARGV[3]) and state == 'busy' then busy = busy + 1 end
end
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
return {redis.call('ZCARD', KEYS[2]), busy}
"""

# Leave. The last live worker to leave a drained crawl marks it finished and frees its keys (the dupefilter above all).
LEAVE = """
redis.call('HDEL', KEYS[1], ARGV[1])
if ARGV[2] ~= '1' or redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
local now = tonumber(redis.call('TIME')[1])
local beats = redis.call('HGETALL', KEYS[1])
for i = 1, #beats, 2 do
  local at = tonumber(string.match(beats[i + 1], '^%d+'))
  if at and now - at <= tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', KEYS[5], ARGV[5], 'EX', ARGV[4])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return 1
"""

# Queue a request unless its fingerprint was seen: one step, so a request is never marked seen without being queued.
PUSH_NEW = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""


@dataclass(frozen=True)
class CrawlKeys:
    crawl: str
    requests: str
    dupefilter: str
    seed: str
    workers: str
    finished: str

    @classmethod
    def of(cls, spider: str, crawl: str) -> CrawlKeys:
        prefix = f"{KEY_PREFIX}:{spider}:{crawl}"
        return cls(crawl, *(f"{prefix}:{part}" for part in ("requests", "dupefilter", "seed", "workers", "finished")))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class SharedCrawl:
    """One worker's view of a crawl's shared state; every method is one round trip (redis.RedisError on failure)."""

    def __init__(self, server: Any, keys: CrawlKeys, worker: str, expire: int):
        self.server = server
        self.keys = keys
        self.worker = worker
        self.expire = int(expire)
        self._join = server.register_script(JOIN)
        self._seeded = server.register_script(SEEDED)
        self._beat = server.register_script(BEAT)
        self._leave = server.register_script(LEAVE)

    def join(self) -> tuple[str, str]:
        """('seed' | 'reseed' | 'join' | 'finished', the seed state or finish time found)."""
        keys = self.keys
        role, found = self._join(keys=[keys.seed, keys.workers, keys.finished],
                                 args=[self.worker, LIVE_SECONDS, self.expire])
        return _text(role), _text(found)

    def seeded(self) -> bool:
        return bool(self._seeded(keys=[self.keys.seed], args=[self.worker, self.expire]))

    def beat(self, busy: bool) -> tuple[int, int]:
        """(requests queued, live workers busy), after saying whether this one is busy."""
        keys = self.keys
        queued, working = self._beat(keys=[keys.workers, keys.requests, keys.dupefilter, keys.seed],
                                     args=[self.worker, "busy" if busy else "idle", LIVE_SECONDS, self.expire])
        return int(queued), int(working)

    def leave(self, drained: bool, when: str) -> bool:
        """Unregister; True when this was the last worker of a drained crawl, which is now finished."""
        keys = self.keys
        return bool(self._leave(keys=[keys.workers, keys.requests, keys.dupefilter, keys.seed, keys.finished],
                                args=[self.worker, "1" if drained else "0", LIVE_SECONDS, self.expire, when]))
