"""A replay shared by many workers: its units of work in Redis, changed only by atomic scripts (as state.py).

Keys, all under ``newsarchive:replay:<crawl-id>:`` (the frontier's prefix, with the replay spider's name):

``plan``      ``planning <worker>`` while one worker lists the archive and pushes its units, then ``done``
``units``     unit id -> the unit (JSON: file, byte spans, records): pipelines.archive.select.Unit
``todo``      unit ids not taken yet (a list: taken from the front, handed-back units go to the front)
``leases``    unit id -> when its lease runs out (Redis time, seconds): the units being worked on
``holders``   unit id -> the worker that holds its lease
``done``      unit id -> the worker that finished it
``workers``   worker id -> ``<Redis time> busy|idle``, rewritten by each worker every second (its heartbeat)
``progress``  worker id -> the worker's last progress line (for ``scrapy replay --status``)
``reclaimed`` how many leases ran out and their units went back to ``todo``
``lapsed``    unit id -> the worker that held it before it went back to ``todo`` (its lease ran out, or it
              stopped): the next taker reads what that worker stored first
``diff``      ``--diff`` counts summed over finished units (``totals/new``, ``sites/<site>/changed``, ...)
``changes``   the first ``--diff`` changes listed (JSON lines)
``finished``  when the replay ended (``summary``: its unit count and reclaimed leases); the keys above are
              then deleted, but ``diff`` and ``changes``, which the last worker deletes once it wrote the report

A unit is leased for ``lease`` seconds and the lease is renewed by the holder's heartbeat; a worker that is
killed stops renewing, and the next worker to ask for work after the lease ran out takes the unit. A unit
is marked done only by its holder (or by a worker that finished it after its lease ran out but before
another took it), and its ``--diff`` counts are added in the same step, so they are counted once.
Everything expires ``expire`` seconds after the last heartbeat (FRONTIER_EXPIRE). Times are Redis'.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

from crawler.frontier.state import KEY_PREFIX, LIVE_SECONDS

SPIDER = "replay"

# Join: plan the replay (the first worker), wait for the planner, or join a planned replay. A planner that
# stopped beating before it finished is replaced, and what it pushed is dropped (the new planner pushes it all).
JOIN = """
local finished = redis.call('GET', KEYS[3])
if finished then return {'finished', finished} end
local now = tonumber(redis.call('TIME')[1])
redis.call('HSET', KEYS[2], ARGV[1], now .. ' busy')
redis.call('EXPIRE', KEYS[2], ARGV[3])
local plan = redis.call('GET', KEYS[1])
if plan == 'done' then return {'join', plan} end
if plan then
  local holder = string.sub(plan, 10)
  if holder ~= ARGV[1] then
    local beat = redis.call('HGET', KEYS[2], holder)
    local at = beat and tonumber(string.match(beat, '^%d+'))
    if at and now - at <= tonumber(ARGV[2]) then return {'wait', plan} end
  end
  for i = 4, #KEYS do redis.call('DEL', KEYS[i]) end
end
redis.call('SET', KEYS[1], 'planning ' .. ARGV[1], 'EX', ARGV[3])
return {'plan', plan or ''}
"""

# Push planned units (in batches: a script takes a few thousand arguments), while this worker holds the plan.
ADD = """
if redis.call('GET', KEYS[1]) ~= 'planning ' .. ARGV[1] then return 0 end
for i = 3, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) == 1 then redis.call('RPUSH', KEYS[3], ARGV[i]) end
end
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[2]) end
return 1
"""

PLANNED = """
if redis.call('GET', KEYS[1]) ~= 'planning ' .. ARGV[1] then return 0 end
redis.call('SET', KEYS[1], 'done', 'EX', ARGV[2])
return 1
"""

# Take a unit: first hand the units whose lease ran out back to the front of the queue, then lease the first.
# Answers {id, unit, the worker that held it before or ''} or {'', units still leased}.
TAKE = """
local now = tonumber(redis.call('TIME')[1])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  redis.call('HSET', KEYS[6], id, redis.call('HGET', KEYS[3], id) or '?')
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('LPUSH', KEYS[1], id)
  redis.call('INCR', KEYS[5])
end
local id = redis.call('LPOP', KEYS[1])
if not id then return {'', redis.call('ZCARD', KEYS[2])} end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), id)
redis.call('HSET', KEYS[3], id, ARGV[1])
local before = redis.call('HGET', KEYS[6], id) or ''
redis.call('HDEL', KEYS[6], id)
return {id, redis.call('HGET', KEYS[4], id), before}
"""

# Heartbeat: say whether this worker is busy, renew the leases it holds, keep every key alive; answer the
# whole replay's view: units left, leased, done, in all, leases reclaimed, live workers. A beat after the
# replay finished (a worker on its way out) changes nothing.
BEAT = """
local summary = redis.call('GET', KEYS[13])
if redis.call('EXISTS', KEYS[12]) == 1 and summary then  -- finished meanwhile: recreate nothing
  local units, handed = string.match(summary, '^(%d+) (%d+)')
  return {0, 0, tonumber(units), tonumber(units), tonumber(handed), 0}
end
local now = tonumber(redis.call('TIME')[1])
redis.call('HSET', KEYS[1], ARGV[1], now .. ' ' .. ARGV[2])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[6])
for i = 7, #ARGV do
  if redis.call('HGET', KEYS[3], ARGV[i]) == ARGV[1] then
    redis.call('ZADD', KEYS[2], 'XX', now + tonumber(ARGV[5]), ARGV[i])
  end
end
local live = 0
local beats = redis.call('HGETALL', KEYS[1])
for i = 1, #beats, 2 do
  local at = tonumber(string.match(beats[i + 1], '^%d+'))
  if at and now - at <= tonumber(ARGV[3]) then live = live + 1 end
end
for i = 1, 11 do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
redis.call('EXPIRE', KEYS[14], ARGV[4])
return {redis.call('LLEN', KEYS[5]), redis.call('ZCARD', KEYS[2]), redis.call('HLEN', KEYS[6]),
        redis.call('HLEN', KEYS[7]), tonumber(redis.call('GET', KEYS[8]) or '0'), live}
"""

# A unit is done: by its holder, or by a worker whose lease ran out while no other took the unit yet (it is
# back in the queue). Its --diff counts and listed changes are added in the same step. Answers the units
# not done yet, or -1 when another worker holds or finished the unit (this worker's counts are not added).
DONE = """
local holder = redis.call('HGET', KEYS[1], ARGV[2])
if holder == ARGV[1] then
  redis.call('HDEL', KEYS[1], ARGV[2])
  redis.call('ZREM', KEYS[2], ARGV[2])
elseif holder or redis.call('LREM', KEYS[6], 0, ARGV[2]) == 0 then
  return -1
end
redis.call('HSET', KEYS[3], ARGV[2], ARGV[1])
local counts = tonumber(ARGV[4])
for i = 5, 4 + 2 * counts, 2 do redis.call('HINCRBY', KEYS[4], ARGV[i], ARGV[i + 1]) end
for i = 5 + 2 * counts, #ARGV do
  if redis.call('LLEN', KEYS[5]) < tonumber(ARGV[3]) then redis.call('RPUSH', KEYS[5], ARGV[i]) end
end
return redis.call('LLEN', KEYS[6]) + redis.call('ZCARD', KEYS[2])
"""

# Leave: hand back the units this worker still holds (to the front of the queue: no one waits for their
# leases), and when every unit is done mark the replay finished and delete its work keys (the first worker
# to leave a drained replay; the --diff keys stay for it to read). Answers 1 to that worker.
LEAVE = """
redis.call('HDEL', KEYS[1], ARGV[1])
local held = redis.call('HGETALL', KEYS[2])
for i = 1, #held, 2 do
  if held[i + 1] == ARGV[1] then
    redis.call('HDEL', KEYS[2], held[i])
    redis.call('ZREM', KEYS[3], held[i])
    redis.call('LPUSH', KEYS[4], held[i])
    redis.call('HSET', KEYS[12], held[i], ARGV[1])
  end
end
if redis.call('GET', KEYS[6]) or redis.call('GET', KEYS[5]) ~= 'done' then return 0 end
if redis.call('LLEN', KEYS[4]) > 0 or redis.call('ZCARD', KEYS[3]) > 0 then return 0 end
redis.call('SET', KEYS[6], ARGV[3], 'EX', ARGV[2])
local summary = redis.call('HLEN', KEYS[8]) .. ' ' .. (redis.call('GET', KEYS[11]) or '0')
redis.call('SET', KEYS[7], summary, 'EX', ARGV[2])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12])
return 1
"""

ADD_BATCH = 500  # units per ADD call


@dataclass(frozen=True)
class ReplayKeys:
    crawl: str
    plan: str
    units: str
    todo: str
    leases: str
    holders: str
    done: str
    workers: str
    progress: str
    reclaimed: str
    lapsed: str
    diff: str
    changes: str
    finished: str
    summary: str

    @classmethod
    def of(cls, crawl: str) -> ReplayKeys:
        prefix = f"{KEY_PREFIX}:{SPIDER}:{crawl}"
        names = [f.name for f in fields(cls)][1:]
        return cls(crawl, *(f"{prefix}:{name}" for name in names))

    def all(self) -> list[str]:
        return [getattr(self, f.name) for f in fields(self)][1:]


@dataclass(frozen=True)
class View:
    """The whole replay at a glance, as a heartbeat answers it."""

    left: int
    leased: int
    done: int
    units: int
    reclaimed: int
    workers: int

    def line(self, crawl: str) -> str:
        handed = f" ({self.reclaimed} handed on after their lease ran out)" if self.reclaimed else ""
        return (f"replay {crawl}: units {self.done} done, {self.left} left, {self.leased} leased, of {self.units}"
                f"{handed}; {self.workers} worker{'s' if self.workers != 1 else ''}")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class SharedReplay:
    """One worker's view of a shared replay; every method is one round trip (redis.RedisError on failure)."""

    def __init__(self, server: Any, keys: ReplayKeys, worker: str, expire: int, lease: float):
        self.server = server
        self.keys = keys
        self.worker = worker
        self.expire = int(expire)
        self.lease = max(1, round(lease))
        self._join = server.register_script(JOIN)
        self._add = server.register_script(ADD)
        self._planned = server.register_script(PLANNED)
        self._take = server.register_script(TAKE)
        self._beat = server.register_script(BEAT)
        self._done = server.register_script(DONE)
        self._leave = server.register_script(LEAVE)

    def join(self) -> tuple[str, str]:
        """('plan' | 'wait' | 'join' | 'finished', the plan state or finish time found)."""
        k = self.keys
        role, found = self._join(keys=[k.plan, k.workers, k.finished, k.units, k.todo, k.leases, k.holders, k.done,
                                       k.reclaimed, k.lapsed, k.diff, k.changes],
                                 args=[self.worker, LIVE_SECONDS, self.expire])
        return _text(role), _text(found)

    def add(self, units: list[tuple[str, str]]) -> bool:
        """Push (id, unit JSON) pairs while planning; False when this worker no longer holds the plan."""
        k = self.keys
        for first in range(0, len(units), ADD_BATCH):
            args = [value for pair in units[first:first + ADD_BATCH] for value in pair]
            if not self._add(keys=[k.plan, k.units, k.todo], args=[self.worker, self.expire, *args]):
                return False
        return True

    def planned(self) -> bool:
        return bool(self._planned(keys=[self.keys.plan], args=[self.worker, self.expire]))

    def take(self) -> tuple[str, str, str] | int:
        """(unit id, unit JSON, the worker that held it before or ""), or the number of units workers still hold
        when none is left to take."""
        k = self.keys
        answer = self._take(keys=[k.todo, k.leases, k.holders, k.units, k.reclaimed, k.lapsed],
                            args=[self.worker, self.lease])
        return (_text(answer[0]), _text(answer[1]), _text(answer[2])) if _text(answer[0]) else int(answer[1])

    def beat(self, busy: bool, progress: str, held: list[str]) -> View:
        k = self.keys
        answer = self._beat(keys=[k.workers, k.leases, k.holders, k.progress, k.todo, k.done, k.units, k.reclaimed,
                                  k.plan, k.diff, k.changes, k.finished, k.summary, k.lapsed],
                            args=[self.worker, "busy" if busy else "idle", LIVE_SECONDS, self.expire, self.lease,
                                  progress, *held])
        return View(*(int(value) for value in answer))

    def done(self, unit: str, counts: dict[str, int], changes: list[str], max_changes: int) -> int:
        """Mark a unit done with its --diff counts; the units not done yet, or -1 when it was not this worker's."""
        k = self.keys
        pairs = [value for key, count in counts.items() for value in (key, count)]
        return int(self._done(keys=[k.holders, k.leases, k.done, k.diff, k.changes, k.todo],
                              args=[self.worker, unit, max_changes, len(counts), *pairs, *changes]))

    def leave(self, when: str) -> bool:
        """Unregister (handing back held units); True when this worker marked the replay finished."""
        k = self.keys
        return bool(self._leave(keys=[k.workers, k.holders, k.leases, k.todo, k.plan, k.finished, k.summary,
                                      k.units, k.done, k.progress, k.reclaimed, k.lapsed],
                                args=[self.worker, self.expire, when]))

    def diff(self) -> tuple[dict[str, int], list[dict[str, Any]]]:
        """The --diff counts summed over every unit, and the changes listed."""
        counts = {_text(key): int(value) for key, value in self.server.hgetall(self.keys.diff).items()}
        changes = [json.loads(line) for line in self.server.lrange(self.keys.changes, 0, -1)]
        return counts, changes

    def forget_diff(self) -> None:
        self.server.delete(self.keys.diff, self.keys.changes)


def replay_status(server: Any, crawl: str) -> dict[str, Any] | None:
    """Everything Redis holds about a replay, read at once (for ``scrapy replay --status``); None if unknown."""
    k = ReplayKeys.of(crawl)
    pipe = server.pipeline(transaction=True)
    pipe.time()
    pipe.get(k.plan)
    pipe.llen(k.todo)
    pipe.zcard(k.leases)
    pipe.hlen(k.done)
    pipe.hlen(k.units)
    pipe.get(k.reclaimed)
    pipe.hgetall(k.workers)
    pipe.hgetall(k.progress)
    pipe.hgetall(k.holders)
    pipe.get(k.finished)
    pipe.get(k.summary)
    now, plan, left, leased, done, units, reclaimed, beats, progress, holders, finished, summary = pipe.execute()
    if not any((plan, units, beats, finished)):
        return None
    workers = {}
    for worker in {_text(w) for w in list(beats) + list(progress)}:
        beat = _text(beats.get(worker.encode(), b"")) if beats else ""
        at, _, state = beat.partition(" ")
        age = int(now[0]) - int(at) if at.isdigit() else None
        workers[worker] = {
            "state": state if age is not None and age <= LIVE_SECONDS else "gone",
            "beat_age": age,
            "progress": _text(progress.get(worker.encode(), b"")) if progress else "",
            "holds": sorted(_text(unit) for unit, holder in holders.items() if _text(holder) == worker),
        }
    status: dict[str, Any] = {"crawl_id": crawl, "workers": workers}
    if finished:
        total, _, handed = _text(summary or b"0 0").partition(" ")
        status.update(state="finished", finished=_text(finished), units=int(total), done=int(total), left=0,
                      leased=0, reclaimed=int(handed or 0))
    else:
        status.update(state="planning" if plan and _text(plan) != "done" else "running", units=units, done=done,
                      left=left, leased=leased, reclaimed=int(reclaimed or 0))
    return status
