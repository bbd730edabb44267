"""pipelines.storage.index, pipelines.dedup and the store's revisions: what the archive holds is known from the store
itself,
on a new machine too, and a changed article keeps its history. Local directory and S3 (moto on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from pipelines.dedup import DedupPipeline
from pipelines.document.render import parse_document, to_document, url_hash
from pipelines.item import Article, Block, SiteProfile
from pipelines.storage.index import ArchiveIndex
from pipelines.storage.local import LocalStorage
from pipelines.storage.s3 import S3Options
from pipelines.store import ArticleStore

NOW = datetime.now(UTC).replace(microsecond=0)
SITE = SiteProfile(key="gazette", front_matter={"extends": "_layouts.post"})
TEXT = ["The council voted on the budget late on Tuesday night after a long debate.",
        "Parks, libraries and roads get more money; the vote was seven to four."]


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path, monkeypatch):
    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    server = request.getfixturevalue("moto_s3")
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    from pipelines.storage.s3 import S3Storage

    return S3Storage(f"s3://{server.create_bucket()}/news", tmp_path / "spool", S3Options(max_attempts=2))


def document(url: str, paragraphs=TEXT, fetched: datetime = NOW, date: datetime | None = None):
    article = Article(url=url, site=SITE, fetched=fetched, blocks=[Block(p) for p in paragraphs],
                      title="Council passes the budget", date=date or datetime(2024, 5, 2, 8, tzinfo=UTC))
    return to_document(article)


def save(store: ArticleStore, doc) -> str:
    """What StorePipeline does with one document."""
    return store.save(doc)


def write_run(storage, run_id: str, docs, finish_reason: str = "finished") -> None:
    store = ArticleStore(storage, ArchiveIndex(":memory:"), f"manifest/{run_id}.jsonl")
    for doc in docs:
        save(store, doc)
    store.close()
    storage.put(f"runs/{run_id}.json", json.dumps({"finish_reason": finish_reason}).encode())


def test_a_new_machine_knows_what_the_store_holds(storage, tmp_path):
    urls = [f"https://news.example.com/2024/05/story-{n}.html" for n in range(3)]
    write_run(storage, "run-1", [document(url) for url in urls])
    index = ArchiveIndex.for_store(storage, tmp_path / "fresh-state")
    assert len(index) == 3
    known = index.lookup(urls[1])
    assert known.revision == 1 and known.key.endswith(f"/{url_hash(urls[1])}.txt")
    assert index.lookup("https://news.example.com/other.html") is None


def test_is_fresh_within_revisit_after_unless_a_source_says_it_changed(tmp_path):
    index = ArchiveIndex(tmp_path / "index.sqlite")
    url = "https://news.example.com/story.html"
    fetched = NOW - timedelta(hours=1)
    index.record({"url": url, "key": "articles/gazette/x.txt", "sha256": "0" * 64, "fetched": fetched.isoformat(),
                  "fetched_url": "https://news.example.com/story.html?utm_source=rss"})
    day = 24 * 3600
    assert index.is_fresh(url, day)
    assert index.is_fresh("https://news.example.com/story.html?utm_source=rss", day)  # the URL it was fetched at
    assert not index.is_fresh(url, 1800)  # fetched an hour ago, revisit after 30 minutes
    assert not index.is_fresh("https://news.example.com/new.html", day)
    earlier, later = (fetched - timedelta(minutes=5)).isoformat(), (fetched + timedelta(minutes=5)).isoformat()
    assert index.is_fresh(url, day, {"lastmod": earlier, "date": earlier})
    assert not index.is_fresh(url, day, {"lastmod": later})  # sitemap lastmod / feed <updated> after our fetch
    assert not index.is_fresh(url, day, {"date": later})  # a feed's publication date after our fetch: republished
    # fetch times are kept to the second: a change in the same second as the fetch counts as after it
    assert not index.is_fresh(url, day, {"lastmod": (fetched + timedelta(milliseconds=400)).isoformat()})
    index.touch(url, NOW.isoformat())  # fetched again, unchanged: counts from now
    assert index.is_fresh(url, day, {"lastmod": later})


def test_finished_manifests_are_read_once_and_an_emptied_store_starts_over(tmp_path):
    storage = LocalStorage(tmp_path / "store")
    reads = []
    get = storage.get
    storage.get = lambda key: reads.append(key) or get(key)  # the real store, watched
    write_run(storage, "run-1", [document("https://news.example.com/a.html")])
    write_run(storage, "run-2", [document("https://news.example.com/b.html")], finish_reason="running")
    index = ArchiveIndex.for_store(storage, tmp_path / "state")
    assert len(index) == 2
    reads.clear()
    index.sync(storage)
    # the finished run's manifest is final: listed, not read; the running one has not grown: not read either
    assert reads == ["runs/run-2.json"]
    for path in (tmp_path / "store").rglob("*"):
        if path.is_file():
            path.unlink()
    write_run(storage, "run-3", [document("https://news.example.com/c.html")])
    index.sync(storage)
    assert len(index) == 1 and index.lookup("https://news.example.com/a.html") is None


def test_a_changed_article_keeps_its_history(storage, tmp_path):
    store = ArticleStore(storage, ArchiveIndex(tmp_path / "index.sqlite"), "manifest/run.jsonl")
    url = "https://news.example.com/2024/05/budget.html"
    first = document(url)
    assert save(store, first) == "stored"
    assert save(store, document(url, fetched=NOW + timedelta(hours=1))) == "unchanged"
    assert list(storage.list("revisions")) == []

    second = document(url, [*TEXT, "Update: the mayor signed the budget."], fetched=NOW + timedelta(hours=2))
    assert save(store, second) == "revised"
    history = f"revisions/gazette/{url_hash(url)}"
    assert storage.get(f"{history}/1.txt") == first.text.encode()  # the earlier file, byte for byte
    meta, body = parse_document(storage.get(first.key).decode())
    assert meta["revision"] == 2 and body.endswith("Update: the mayor signed the budget.")
    assert "revision" not in parse_document(first.text)[0]

    # the publication date changed too: the current file moves to its new day, the history stays together
    third = document(url, [*TEXT, "Update: signed."], fetched=NOW + timedelta(hours=3),
                      date=datetime(2024, 5, 3, 9, tzinfo=UTC))
    assert save(store, third) == "revised"
    assert storage.get(first.key) is None
    assert parse_document(storage.get(third.key).decode())[0]["revision"] == 3
    assert parse_document(storage.get(f"{history}/2.txt").decode())[0]["revision"] == 2
    assert sorted(storage.list(history)) == [f"{history}/1.txt", f"{history}/2.txt"]
    store.close()
    lines = [json.loads(line) for line in storage.get("manifest/run.jsonl").splitlines()]
    assert [line["revision"] for line in lines] == [1, 2, 3]
    assert [line["key"] for line in lines] == [first.key, first.key, third.key]


def _parallel(store: ArticleStore, docs) -> list[str]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(docs)) as pool:
        return list(pool.map(store.save, docs))


def test_two_copies_of_one_article_in_flight_are_stored_once(tmp_path):
    storage = LocalStorage(tmp_path / "store")
    store = ArticleStore(storage, ArchiveIndex(":memory:"), "manifest/run.jsonl")
    url = "https://news.example.com/2024/05/story.html"
    outcomes = _parallel(store, [document(url) for _ in range(8)])
    store.close()
    assert sorted(outcomes) == ["stored"] + ["unchanged"] * 7
    assert len((tmp_path / "store" / "manifest" / "run.jsonl").read_text().splitlines()) == 1


def test_two_versions_in_flight_keep_the_history_and_the_newest_text(tmp_path):
    storage = LocalStorage(tmp_path / "store")
    store = ArticleStore(storage, ArchiveIndex(":memory:"), "manifest/run.jsonl")
    url = "https://news.example.com/2024/05/story.html"
    older = document(url, TEXT, fetched=NOW - timedelta(hours=2))
    newer = document(url, [*TEXT, "An update added later."], fetched=NOW)
    assert store.save(newer) == "stored"
    assert store.save(older) == "stale"  # a replay met the older copy last: the newer text stays current
    store.close()
    meta, body = parse_document((tmp_path / "store" / newer.key).read_text())
    assert body.endswith("An update added later.") and "revision" not in meta


def test_dedup_classifies_alike_while_a_store_thread_writes_and_never_stalls_the_crawl(tmp_path):
    """The dedup stage asks the index on the event loop; while a store thread holds the index, it waits for it
    elsewhere: the loop goes on serving other work, and the verdict is the same."""
    storage = LocalStorage(tmp_path / "store")
    url = "https://news.example.com/2024/05/story.html"
    write_run(storage, "run-1", [document(url)])
    stage = DedupPipeline(storage, str(tmp_path / "state"))
    holding, release = threading.Event(), threading.Event()

    def store_thread_commits():
        with stage.index.lock:
            holding.set()
            release.wait(10)

    async def run():
        await stage.open_spider()
        free = await stage.process_item(document(url, TEXT[:1]))
        writer = threading.Thread(target=store_thread_commits)
        writer.start()
        holding.wait(10)
        waiting = asyncio.ensure_future(stage.process_item(document(url, TEXT[:1])))
        await asyncio.sleep(0.05)  # the loop runs on while the lookup waits
        still_waiting = not waiting.done()
        release.set()
        busy = await waiting
        writer.join()
        return free, busy, still_waiting

    free, busy, still_waiting = asyncio.run(run())
    assert still_waiting
    assert free.status == busy.status == "revised"
    assert free.revision == busy.revision == 2 and free.previous_key == busy.previous_key


def test_an_unfinished_runs_manifest_is_read_again_only_once_it_grew(storage, tmp_path):
    """A run killed (or still running on another machine) never says it finished: each start looks at its size."""
    reads = []
    get = storage.get
    storage.get = lambda key: reads.append(key) or get(key)  # the real store, watched
    write_run(storage, "run-1", [document("https://news.example.com/a.html")], finish_reason="running")
    index = ArchiveIndex.for_store(storage, tmp_path / "state")
    assert len(index) == 1 and "manifest/run-1.jsonl" in reads
    reads.clear()
    assert index.sync(storage) == 0 and "manifest/run-1.jsonl" not in reads  # same size: nothing new
    write_run(storage, "run-1", [document("https://news.example.com/b.html")], finish_reason="running")  # resumed
    assert index.sync(storage) == 2 and "manifest/run-1.jsonl" in reads  # grew: read, both lines
    assert index.lookup("https://news.example.com/b.html") is not None
    reads.clear()
    assert index.sync(storage) == 0 and "manifest/run-1.jsonl" not in reads


def test_the_manifest_names_what_it_hashes(storage, tmp_path):
    """``sha256`` is the stored file's hash (as sha256sum and the S3 metadata give it), ``body_sha256`` the body's."""
    import hashlib

    doc = document("https://news.example.com/2024/05/named.html")
    write_run(storage, "run-1", [doc])
    line = json.loads(storage.get("manifest/run-1.jsonl"))
    stored = storage.get(line["key"])
    assert line["sha256"] == hashlib.sha256(stored).hexdigest()
    assert line["body_sha256"] == hashlib.sha256(parse_document(stored.decode())[1].encode()).hexdigest()
    assert line["fields"] == sorted(doc.meta) and "author" not in line["fields"]
    assert line["body_chars"] == len(doc.body)


def test_manifests_written_before_body_sha256_still_dedup(tmp_path):
    """An old manifest line's ``sha256`` is the body hash: the same article fetched again is unchanged, not new."""
    from pipelines.storage.local import LocalStorage

    storage = LocalStorage(tmp_path / "store")
    doc = document("https://news.example.com/2024/05/old.html")
    storage.put(doc.key, doc.text.encode())
    old_line = {"url": doc.url, "key": doc.key, "sha256": doc.body_sha256, "title": "t", "date": "", "fetched":
                doc.fetched, "revision": 1, "site": "gazette"}
    storage.put("manifest/old-run.jsonl", (json.dumps(old_line) + "\n").encode())
    storage.put("runs/old-run.json", b'{"finish_reason": "finished"}')
    index = ArchiveIndex.for_store(storage, tmp_path / "state")
    store = ArticleStore(storage, index, "manifest/new-run.jsonl")
    again = document(doc.url, fetched=NOW + timedelta(days=2))
    assert save(store, again) == "unchanged"
    assert index.lookup(doc.url).body_sha256 == doc.body_sha256


def test_a_store_emptied_after_its_first_run_is_noticed(tmp_path):
    """The cache learnt the run's articles as it stored them; the run's manifest going away must clear them too."""
    from pipelines.storage.local import LocalStorage

    storage = LocalStorage(tmp_path / "store")
    index = ArchiveIndex.for_store(storage, tmp_path / "state")
    store = ArticleStore(storage, index, "manifest/run-1.jsonl")
    save(store, document("https://news.example.com/2024/05/first.html"))
    store.close()
    index.close()
    (tmp_path / "store" / "manifest" / "run-1.jsonl").unlink()
    assert len(ArchiveIndex.for_store(storage, tmp_path / "state")) == 0
