"""A shared Redis frontier (crawler.frontier): many ``scrapy crawl`` workers, one crawl, on a real redis-server."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from scrapy import Request, Spider
from scrapy.settings import Settings
from scrapy_redis.connection import get_redis_from_settings

from crawler.errors import ConfigError
from crawler.frontier import REDIS_PARAMS, check_frontier, check_frontier_settings, redact
from crawler.frontier.scheduler import TAKE, FrontierQueue, TakenUnanswered
from crawler.frontier.state import LIVE_SECONDS, CrawlKeys, SharedCrawl
from pipelines.archive.reader import iter_exchanges
from tests.helpers import ROOT, scrapy, scrapy_command
from tests.servers.base import ServerProcess
from tests.servers.redis import RedisServer, UnansweredProxy, free_port

ARTICLES = 90  # article pages of the sample site
DELAY = "0.3"  # seconds per article page: a site with latency, so that work spreads the way it does on the web
WORKER = {
    "FRONTIER_IDLE_TIMEOUT": "2",
    "CONCURRENT_REQUESTS": "4",  # a worker holds no more requests than it fetches at once
    "CONCURRENT_REQUESTS_PER_DOMAIN": "4",
    "EXTRACT_WORKERS": "1",
}


@pytest.fixture(scope="module")
def slow_site():
    with ServerProcess("tests.servers.http_archive", "--delay", DELAY) as server:
        yield server


@pytest.fixture(scope="module")
def redis_server():
    with RedisServer() as server:
        yield server


def start_worker(site, frontier: str, crawl: str, store: Path, state: Path, **settings: str) -> subprocess.Popen:
    command = scrapy_command(
        "crawl", "sitemap", "-a", f"url={site.url('/sitemap.xml')}", store=store, state=state,
        settings={**WORKER, "FRONTIER_URL": frontier, "CRAWL_ID": crawl, **settings},
    )
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=timeout)
    return process.returncode, stderr


def run_records(store: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted((store / "runs").glob("*.json"))]


def fetched_urls(store: Path) -> Counter[str]:
    urls: Counter[str] = Counter()
    for path in (store / "warc").rglob("*.warc.gz"):
        with open(path, "rb") as stream:
            urls.update(response.url for response in iter_exchanges(stream))
    return urls


def manifest_lines(store: Path) -> list[dict]:
    return [json.loads(line) for path in (store / "manifest").glob("*.jsonl") for line in path.read_text().splitlines()]


def stored_articles(store: Path) -> list[Path]:
    return sorted((store / "articles").rglob("*.txt"))


# --- the "done when": two workers, one frontier ---------------------------------------------------


def test_two_workers_share_one_crawl(slow_site, redis_server, tmp_path):
    store = tmp_path / "store"
    workers = [start_worker(slow_site, redis_server.url, "two", store, tmp_path / f"state{n}") for n in (1, 2)]
    results = [finish(worker) for worker in workers]
    for returncode, stderr in results:
        assert returncode == 0, stderr[-3000:]  # both stopped on their own once the crawl was drained

    records = run_records(store)
    assert len(records) == 2
    assert {r["crawl_id"] for r in records} == {"two"}
    assert {r["finish_reason"] for r in records} == {"finished"}
    workers_ids = {r["worker"] for r in records}
    assert len(workers_ids) == 2 and all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*-\d+", w) for w in workers_ids)
    assert {r["run_id"] for r in records} == {f"two.{w}" for w in workers_ids}

    fetched = fetched_urls(store)
    robots = [url for url in fetched if url.endswith("/robots.txt")]
    assert len(robots) == 1 and fetched[robots[0]] == 2  # each worker obeys robots.txt on its own
    repeated = {url: n for url, n in fetched.items() if n > 1 and not url.endswith("/robots.txt")}
    assert not repeated, repeated  # every other URL fetched exactly once between the two
    assert sum(r["pages_fetched"] for r in records) == sum(fetched.values())

    shares = [r["articles_stored"] for r in records]
    assert sum(shares) == ARTICLES
    assert min(shares) >= ARTICLES // 4, f"unfair shares: {shares}"

    assert len(stored_articles(store)) == ARTICLES
    lines = manifest_lines(store)
    assert len(lines) == len({line["url"] for line in lines}) == ARTICLES  # every article stored once
    assert {path.name for path in (store / "manifest").glob("*.jsonl")} == {f"two.{w}.jsonl" for w in workers_ids}

    # the finished crawl freed its queue and dupefilter; only the marker that refuses a late worker is left
    client = redis_server.client()
    assert [key.decode() for key in client.keys("newsarchive:sitemap:two:*")] == ["newsarchive:sitemap:two:finished"]
    assert 0 < client.ttl("newsarchive:sitemap:two:finished") <= 7 * 24 * 3600
    late = scrapy("crawl", "sitemap", "-a", f"url={slow_site.url('/sitemap.xml')}", store=store,
                  settings={"FRONTIER_URL": redis_server.url, "CRAWL_ID": "two"})
    assert late.returncode == 2
    assert len(late.stderr.strip().splitlines()) == 1
    assert "finished at" in late.stderr and "new CRAWL_ID" in late.stderr


# --- Redis going away mid-crawl --------------------------------------------------------------------


def test_redis_lost_mid_crawl_stops_cleanly_and_a_restart_continues(slow_site, tmp_path):
    store = tmp_path / "store"
    with RedisServer(directory=tmp_path / "redis", appendonly=True) as redis_server:
        worker = start_worker(slow_site, redis_server.url, "lost", store, tmp_path / "state")
        deadline = time.monotonic() + 60
        while len(stored_articles(store)) < 15 and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)
        assert 15 <= len(stored_articles(store)) < ARTICLES, "the crawl should be under way when Redis goes"
        redis_server.stop()
        returncode, stderr = finish(worker, timeout=60)

        assert returncode == 1
        errors = [line for line in stderr.splitlines() if " ERROR: " in line]
        assert len(errors) == 1 and f"Redis at {redis_server.url} failed" in errors[0], errors
        assert "CRAWL_ID=lost" in errors[0] and "Traceback" not in stderr
        (record,) = run_records(store)
        assert record["finish_reason"] == "frontier_lost" and record["errors"] == {"frontier_lost": 1}
        # nothing stored is lost: every manifest line names a complete document, no half-written file
        lines = manifest_lines(store)
        assert len(lines) == record["articles_stored"] == len(stored_articles(store))
        assert all((store / line["key"]).is_file() for line in lines)
        assert not any((store / ".tmp").rglob("*"))

        redis_server.start()  # back with its data (append-only file)
        returncode, stderr = finish(start_worker(slow_site, redis_server.url, "lost", store, tmp_path / "state"))
        assert returncode == 0, stderr[-3000:]

    assert len(stored_articles(store)) == ARTICLES
    lines = manifest_lines(store)
    assert len(lines) == len({line["url"] for line in lines}) == ARTICLES
    fetched = fetched_urls(store)
    # the restart took up where the first worker stopped: no article fetched twice, but for the one the worker
    # had read when Redis went away (fetched then, and again if Redis died before it was taken off the queue:
    # at least once, never lost)
    counts = [fetched[line.get("fetched_url", line["url"])] for line in lines]
    assert all(1 <= n <= 2 for n in counts) and counts.count(2) <= 1, Counter(counts)


# --- the crawl's shared state, one atomic step at a time -----------------------------------------


def shared(redis_server, crawl: str, worker: str, expire: int = 3600) -> SharedCrawl:
    return SharedCrawl(redis_server.client(), CrawlKeys.of("sitemap", crawl), worker, expire)


def test_first_worker_seeds_and_the_others_join(redis_server):
    first, second = shared(redis_server, "seed", "a"), shared(redis_server, "seed", "b")
    assert first.join() == ("seed", "")
    assert second.join() == ("join", "seeding a")  # a seeder still at work keeps its job
    assert first.seeded()
    assert shared(redis_server, "seed", "c").join() == ("join", "done")


def test_a_dead_seeder_is_replaced_and_a_crawl_all_workers_left_is_seeded_again(redis_server):
    client = redis_server.client()
    keys = CrawlKeys.of("sitemap", "reseed")
    assert shared(redis_server, "reseed", "a").join()[0] == "seed"
    long_ago = int(client.time()[0]) - LIVE_SECONDS - 5
    client.hset(keys.workers, "a", f"{long_ago} busy")  # worker a stopped beating mid-seed (killed)
    taker = shared(redis_server, "reseed", "b")
    assert taker.join() == ("reseed", "seeding a")
    assert taker.seeded()
    client.hset(keys.workers, "b", f"{long_ago} idle")  # every worker gone (Redis went away, or Ctrl-C)
    assert shared(redis_server, "reseed", "c").join() == ("reseed", "done")  # sources walked again
    assert client.hkeys(keys.workers) == [b"c"]  # the dead are forgotten


def test_the_last_worker_of_a_drained_crawl_finishes_it_and_frees_the_dupefilter(redis_server):
    client = redis_server.client()
    keys = CrawlKeys.of("sitemap", "leave")
    a, b = shared(redis_server, "leave", "a"), shared(redis_server, "leave", "b")
    a.join(), b.join()
    client.sadd(keys.dupefilter, "f" * 40)
    client.zadd(keys.requests, {b"request": 0})
    assert a.beat(busy=False) == (1, 1)  # one queued; b is busy
    assert not a.leave(drained=True, when="t0")  # b is still there
    assert not b.leave(drained=True, when="t1")  # a request is still queued
    client.delete(keys.requests)
    b.join()
    assert b.leave(drained=True, when="2026-11-22T00:00:00Z")
    assert client.get(keys.finished) == b"2026-11-22T00:00:00Z"
    assert not client.exists(keys.dupefilter, keys.requests, keys.seed, keys.workers)
    assert shared(redis_server, "leave", "c").join() == ("finished", "2026-11-22T00:00:00Z")


def test_an_unfinished_crawl_expires(redis_server):
    client = redis_server.client()
    keys = CrawlKeys.of("sitemap", "expire")
    worker = shared(redis_server, "expire", "a", expire=60)
    worker.join()
    client.sadd(keys.dupefilter, "f" * 40)
    client.zadd(keys.requests, {b"request": 0})
    worker.beat(busy=True)
    for key in (keys.dupefilter, keys.requests, keys.seed, keys.workers):
        assert 0 < client.ttl(key) <= 60, key


def test_a_request_is_marked_seen_and_queued_in_one_step(redis_server):
    client = redis_server.client()
    keys = CrawlKeys.of("sitemap", "push")
    queue = FrontierQueue(client, Spider(name="sitemap"), keys.requests)
    request = Request("https://example.com/a", priority=3)
    assert queue.push_new(request, "fp-a", keys.dupefilter)
    assert not queue.push_new(request.replace(), "fp-a", keys.dupefilter)
    assert client.smembers(keys.dupefilter) == {b"fp-a"}
    assert len(queue) == 1 and queue.pop().url == "https://example.com/a"


def test_requests_come_off_the_queue_in_priority_order_and_each_to_one_worker(redis_server):
    keys = CrawlKeys.of("sitemap", "order")
    one, two = (FrontierQueue(redis_server.client(), Spider(name="sitemap"), keys.requests) for _ in range(2))
    for n, priority in enumerate((0, 5, 1, 5)):
        one.push_new(Request(f"https://example.com/{n}", priority=priority), f"fp-{n}", keys.dupefilter)
    taken = [one.pop().url, two.pop().url, two.pop().url, one.pop().url]
    assert taken[:2] in (["https://example.com/1", "https://example.com/3"],
                         ["https://example.com/3", "https://example.com/1"])
    assert taken[2:] == ["https://example.com/2", "https://example.com/0"] and one.pop() is None


def test_a_request_redis_takes_away_without_answering_is_still_in_hand(redis_server):
    keys = CrawlKeys.of("sitemap", "unanswered")
    FrontierQueue(redis_server.client(), Spider(name="sitemap"), keys.requests).push_new(
        Request("https://example.com/a"), "fp-a", keys.dupefilter)
    redis_server.client().script_load(TAKE)  # so that the first EVALSHA through the proxy is the removal
    with UnansweredProxy(redis_server.port, b"EVALSHA") as proxy:  # Redis removes it, then the line goes dead
        queue = FrontierQueue(redis.Redis.from_url(proxy.url, socket_timeout=5), Spider(name="sitemap"),
                              keys.requests)
        with pytest.raises(TakenUnanswered) as taken:
            queue.pop()
    assert proxy.dropped == 1 and redis_server.client().zcard(keys.requests) == 0  # gone from Redis …
    assert taken.value.request.url == "https://example.com/a"  # … and in the worker's hand: fetched, not lost


def test_a_removal_the_client_sends_again_after_a_lost_answer_takes_no_second_request(redis_server):
    keys = CrawlKeys.of("sitemap", "retried")
    queue = FrontierQueue(redis_server.client(), Spider(name="sitemap"), keys.requests)
    for name, priority in (("a", 10), ("b", 0)):
        queue.push_new(Request(f"https://example.com/{name}", priority=priority), f"fp-{name}", keys.dupefilter)
    redis_server.client().script_load(TAKE)
    with UnansweredProxy(redis_server.port, b"EVALSHA", times=1) as proxy:  # the line fails once
        # the scheduler's client (scrapy-redis', retry_on_timeout) sends a command again on a new connection
        # when its answer was lost: the removal of "a" runs twice, and the second must not read as "another
        # worker took it", which went on to take "b" and lost "a"
        client = get_redis_from_settings(Settings({"REDIS_URL": proxy.url, "REDIS_PARAMS": REDIS_PARAMS}))
        request = FrontierQueue(client, Spider(name="sitemap"), keys.requests).pop()
    assert proxy.dropped == 1
    assert request is not None and request.url == "https://example.com/a"
    assert redis_server.client().zcard(keys.requests) == 1  # "b" still queued, for whichever worker asks


# --- settings ------------------------------------------------------------------------------------


def test_frontier_needs_a_crawl_id_and_a_redis_url():
    with pytest.raises(ConfigError, match="CRAWL_ID"):
        check_frontier_settings(Settings({"FRONTIER_URL": "redis://127.0.0.1:6379/0"}))
    with pytest.raises(ConfigError, match="expected redis://") as error:
        check_frontier_settings(Settings({"FRONTIER_URL": "http://user:secret@example.com/0", "CRAWL_ID": "x"}))
    assert "secret" not in str(error.value)
    check_frontier_settings(Settings({"FRONTIER_URL": "", "CRAWL_ID": ""}))  # off: nothing to check


def test_unreachable_redis_is_one_line_without_the_password(slow_site, tmp_path):
    url = f"redis://:secret@127.0.0.1:{free_port()}/0"
    assert redact(url) == url.replace("secret", "***")
    with pytest.raises(ConfigError, match="cannot use Redis there"):
        check_frontier(Settings({"FRONTIER_URL": url, "CRAWL_ID": "x"}), "sitemap")
    crawl = scrapy("crawl", "sitemap", "-a", f"url={slow_site.url('/sitemap.xml')}", store=tmp_path / "store",
                   settings={"FRONTIER_URL": url, "CRAWL_ID": "x"})
    assert crawl.returncode == 2
    assert crawl.stderr.startswith("error: setting FRONTIER_URL=redis://:***@127.0.0.1")
    assert len(crawl.stderr.strip().splitlines()) == 1 and "secret" not in crawl.stderr + crawl.stdout
