"""Project settings: every setting a user may change, grouped by prefix, enabling flag first.

Each setting's comment is its documentation: docs/settings.md is generated
from this file (``make docs``). Override on the command line
(``-s NAME=value``), in a site file's ``settings`` table (fetch tuning only),
or in an environment module (``settings.dev``, ``settings.prod``) selected
with ``SCRAPY_SETTINGS_MODULE``.
"""

import os

from scrapy.settings import default_settings as _scrapy_defaults

BOT_NAME = "newsarchive"  # Scrapy's project name
SPIDER_MODULES = ["crawler.spiders"]  # the generic spiders (urls, sitemap, feed)
NEWSPIDER_MODULE = "crawler.spiders"  # where `scrapy genspider` would put a spider (site files need none)
SPIDER_LOADER_CLASS = "crawler.spiderloader.SiteSpiderLoader"  # adds one spider per site file
COMMANDS_MODULE = "crawler.commands"  # replay, schedule, extract, flush, evaluate, and the others
LOG_FORMATTER = "crawler.logformatter.ArchiveLogFormatter"  # one short line per item: never a page's text
LOG_LEVEL = "INFO"  # DEBUG adds one line per request and per item
LOGSTATS_INTERVAL = 0  # Scrapy's own periodic line, replaced by the progress line (PROGRESS_INTERVAL)
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"  # the pipelines are coroutines

# --- where documents, WARC, manifests and run records go (docs/store.md) -----------------------
STORE_URI = os.environ.get("STORE_URI", "archive")  # a directory, or s3://bucket/prefix
STORE_BACKENDS = {}  # more URI schemes, e.g. {"gs": "mypackage.GcsStorage"} (see pipelines.storage)
# URI scheme -> storage class; "" is a plain directory path
STORE_BACKENDS_BASE = {
    "": "pipelines.storage.local.LocalStorage",
    "file": "pipelines.storage.local.LocalStorage",
    "s3": "pipelines.storage.s3.S3Storage",
}
STORE_MANIFEST_SYNC_EVERY = 200  # articles; on S3 the manifest object is uploaded again this often
# where objects wait when S3 does not take them (one subdirectory per STORE_URI; docs/s3.md)
STORE_SPOOL_DIR = os.environ.get(
    "STORE_SPOOL_DIR", os.path.join(os.path.expanduser("~"), ".cache", "newsarchive", "spool")
)
STORE_THREADS = 8  # document and manifest writes in flight (S3 uploads overlap; local writes are quick)
# local state: the archive index cache (rebuilt from the store's manifests when missing), replay downloads
STATE_DIR = os.environ.get("NEWSARCHIVE_STATE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "newsarchive"))
OUTPUT_FORMAT = "frontmatter"  # or plain: the paragraphs, then the source name (docs/store.md)

# --- S3 (boto3's credential chain: env, profile, instance role; docs/s3.md) ---------------------
S3_ENDPOINT_URL = ""  # e.g. http://127.0.0.1:9000 for MinIO or SeaweedFS; empty: AWS_ENDPOINT_URL, else AWS
S3_MAX_ATTEMPTS = 5  # attempts per request, the first included (boto3's adaptive retry mode)
S3_MULTIPART_THRESHOLD = 16 * 1024 * 1024  # bytes; WARC files and manifests above this go up in parts
S3_OUTAGE_PAUSE = 30  # seconds; after an upload fails past its retries, new objects go to the spool this long
S3_PROFILE = ""  # a named AWS profile; empty: AWS_PROFILE, else the default
S3_REGION = ""  # empty: AWS_DEFAULT_REGION, else the profile's

# --- web archive (docs/archive.md) ---------------------------------------------------------------
ARCHIVE_ENABLED = True  # every response, with its request, into WARC files
ARCHIVE_CDXJ = False  # also write warc/<site>/<file>.cdxj, each WARC file's CDXJ index, when the crawl closes
ARCHIVE_GZIP_LEVEL = 2  # ISA-L level 0-3 of each record (see pipelines.archive.writer.GzipMembers)
ARCHIVE_MAX_SIZE = 100 * 1024 * 1024  # bytes; a WARC file rotates past this
ARCHIVE_QUEUE_SIZE = 256  # responses waiting for the WARC writer thread
ARCHIVE_QUEUE_BYTES = 32 * 1024 * 1024  # and their bodies' bytes; past either, downloads wait for the writer

# --- replay (docs/archive.md) --------------------------------------------------------------------
REPLAY_WARC = ""  # a WARC file, directory or s3:// prefix: responses come from there, never the network
# seconds; a worker of a shared replay (FRONTIER_URL) holds a unit this long past its last heartbeat: then the
# unit goes to another worker (heartbeats come every second; docs/workers.md)
REPLAY_LEASE = 60
REPLAY_STREAM = False  # internal: set by `scrapy replay`, not a user setting
REPLAY_DIFF = False  # internal: set by `scrapy replay --diff`, not a user setting
# bytes; a shared replay cuts a WARC file larger than this into units of about this size, at record boundaries,
# when the file's CDXJ index is beside it (ARCHIVE_CDXJ)
REPLAY_UNIT_SIZE = 16 * 1024 * 1024

# --- extraction and cleaning (docs/extraction.md) --------------------------------------------------
EXTRACT_FAVOR_PRECISION = True  # trafilatura's favor_precision: chosen by measurement (docs/extraction.md)
EXTRACT_INCLUDE_COMMENTS = False  # readers' comments are not the article
EXTRACT_INCLUDE_TABLES = True  # tables in the text (results, figures) are kept
EXTRACT_MAX_BYTES = 10 * 1024 * 1024  # a larger HTML page is archived but not extracted (too_large)
EXTRACT_MIN_WORDS = 30  # fewer words of text: no_article
EXTRACT_TIMEOUT = 60  # seconds per page, counted from when a worker starts it; the worker is then replaced
EXTRACT_WORKERS = -1  # worker processes; -1: one per core, 0: extract in the crawl process (for debugging)
# Linux: the crawl process runs as SCHED_BATCH beside its workers, so that its many wake-ups per page wait
# for a worker's time slice instead of cutting into it (pipelines.workers.cpupolicy); opt-in
EXTRACT_WORKERS_FIRST = False
CLEAN_ENABLED = True  # the cleaning rules (inserts, promo blocks, repeats, boilerplate)

# --- sites, incremental crawls (docs/crawling.md, docs/scheduling.md) ------------------------------
SITES_DIRS = []  # extra directories of site files (TOML), after crawler/sites
REVISIT_AFTER = 24 * 3600  # seconds; an archived article is not fetched again sooner (0: always refetch)
JOB_NAME = ""  # set by the scheduler: the run record's "job" (default: the spider's name)
CRAWL_ID = ""  # empty: <spider>-<UTC time>-<random>; workers of one crawl share one (needed with FRONTIER_URL)
RUN_ID = ""  # set by crawler.identity: CRAWL_ID, plus .WORKER_ID when workers share a crawl; names this run's files
WORKER_ID = ""  # names this worker's files when several share CRAWL_ID; with FRONTIER_URL, default <host>-<pid>
JOBDIR = ""  # a directory: pause (one SIGTERM/Ctrl-C) and resume a crawl, with the same CRAWL_ID
DUPEFILTER_CLASS = "crawler.dupefilter.ResumableDupeFilter"  # with JOBDIR, a crawl killed mid-way loses no request

# --- shared frontier: many workers, one crawl (scrapy-redis; docs/workers.md) ----------------------
FRONTIER_URL = os.environ.get("FRONTIER_URL", "")  # redis://[:password@]host:port/db; empty: a frontier per process
# seconds; an unfinished crawl's keys (queue, dupefilter) outlive its last worker this long
FRONTIER_EXPIRE = 7 * 24 * 3600
FRONTIER_IDLE_TIMEOUT = 30  # seconds with nothing queued and no worker busy, then a worker stops

# --- progress, run records and layout-change alarms (docs/report.md) -------------------------------
PROGRESS_INTERVAL = 30  # seconds between progress lines; 0: none
PROGRESS_SUMMARY = True  # summary table on stderr at the end
RUN_RECORD_URLS = 50  # URLs kept in the run record under each error and skip reason (all are in the log)
ALARM_ENABLED = True  # compare each site's run with its recent runs; a fall is a warning and a record entry
ALARM_DROP = 0.5  # share (0-1) a measure falls below its usual value to raise an alarm: 0.5 = below half
ALARM_HISTORY_RUNS = 10  # the site's recent runs that make its usual values
ALARM_MIN_ARTICLES = 10  # fewer articles (or article pages, or usual links) in a run: too few to judge
ALARM_MIN_RUNS = 3  # fewer earlier runs of the site: no alarm yet

# --- network safety and politeness (docs/safety.md) ------------------------------------------------
ALLOW_PRIVATE_NETWORKS = False  # loopback, private and reserved addresses (metadata/link-local: never)
BOT_CONTACT = os.environ.get("BOT_CONTACT", "")  # a URL or e-mail that site owners can reach you at
USER_AGENT = "newsarchive/0.1 (+{contact})"  # {contact}: BOT_CONTACT, else the project's page (crawler.useragent)
# not zstd, which Scrapy asks for too: pywb 2.10 and warcio 1.8 cannot decode it (docs/archive.md)
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
    "Accept-Encoding": "gzip, deflate, br",
}
ROBOTSTXT_OBEY = True  # pages robots.txt disallows are not fetched (skipped/robots_txt)
AUTOTHROTTLE_ENABLED = True  # adapt each site's delay to its response times
AUTOTHROTTLE_START_DELAY = 1.0  # seconds
AUTOTHROTTLE_MAX_DELAY = 30.0  # seconds
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0  # requests in flight per site that AutoThrottle aims at
# items of one response in the pipelines at once: a page yields one, and Scrapy starts a task per slot per response
CONCURRENT_ITEMS = 1
CONCURRENT_REQUESTS = 32  # requests in flight in all
CONCURRENT_REQUESTS_PER_DOMAIN = 4  # and per site
DOWNLOAD_DELAY = 0.25  # seconds between requests to one site (AutoThrottle adapts it)
DOWNLOAD_TIMEOUT = 30  # seconds
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024  # bytes; larger responses are cancelled (decompressed size too)
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024  # bytes; larger responses are logged
COOKIES_ENABLED = False  # news pages are fetched as a new visitor
TELNETCONSOLE_ENABLED = False  # no console port
# Scrapy 2.19's code-execution server on localhost: a crawler of strangers' pages needs none
REMOTE_CONTROL_ENABLED = False
# Scrapy's extensions less the two switched off above: Scrapy imports every extension it lists, even one
# that is off; their aiohttp and twisted.conch cost 0.2 s of CPU at each start: 9% of a 90-page crawl's
# pages/s, 0.6% of a 2,700-page one (bench/RESULTS.md, 2026-12-05 09:50). To use either, set its *_ENABLED
# and name it in EXTENSIONS (crawler.config checks both).
EXTENSIONS_BASE = {
    name: order for name, order in _scrapy_defaults.EXTENSIONS_BASE.items()
    if name.rsplit(".", 1)[-1] not in ("RemoteControl", "TelnetConsole")
}
DNS_TIMEOUT = 15  # seconds
TWISTED_DNS_RESOLVER = "crawler.netguard.GuardedResolver"  # checks every address a name resolves to

# --- retries and redirects (docs/safety.md) --------------------------------------------------------
RETRY_ENABLED = True  # retry failed downloads, with backoff (crawler.middlewares.retry)
RETRY_AFTER_MAX = 120  # seconds; a longer Retry-After is shortened to this
RETRY_BACKOFF_BASE = 1.0  # seconds; doubles with each retry of a request
RETRY_BACKOFF_MAX = 30.0  # seconds
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]  # statuses worth a retry
RETRY_TIMES = 3  # retries of a request, after its first attempt
REDIRECT_MAX_TIMES = 10  # a longer chain of redirects is given up (errors/too_many_redirects)

# --- components --------------------------------------------------------------------------------------
# downloader middlewares: the address guard first; the archive recorder next to the downloader, so that it
# sees responses as they came off the wire (compressed, redirects and errors included)
DOWNLOADER_MIDDLEWARES = {
    "crawler.netguard.AddressGuardMiddleware": 50,
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawler.middlewares.offsite.OffsiteMiddleware": 50,  # Scrapy's, counting a redirect off the site's domains
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.retry.RetryAfterMiddleware": 550,
    "crawler.middlewares.redirects.RedirectLoopMiddleware": 610,  # sees redirects before RedirectMiddleware (600)
    "crawler.archive.record.ArchiveMiddleware": 950,
    "crawler.archive.replay.ReplayMiddleware": 960,
}
# add-ons: secrets redacted from the log, BOT_CONTACT into USER_AGENT, the Redis frontier when FRONTIER_URL is set,
# the crawl's and this run's ids (CRAWL_ID, RUN_ID)
ADDONS = {
    "crawler.redact.RedactSecrets": 0,
    "crawler.useragent.ContactUserAgent": 0,
    "crawler.frontier.Frontier": 10,
    "crawler.identity.RunIdentity": 20,  # after the frontier, which names the worker
}
# the stages a page goes through, in order (pipelines/)
ITEM_PIPELINES = {
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.clean.CleanPipeline": 200,
    "pipelines.normalize.NormalizePipeline": 300,
    "pipelines.dedup.DedupPipeline": 400,
    "pipelines.store.StorePipeline": 500,
}
# the spool flush before the run record (it counts spooled and flushed objects), then the progress line
EXTENSIONS = {
    "crawler.extensions.spool.SpoolFlush": 490,
    "crawler.extensions.runrecord.RunRecord": 500,
    "crawler.extensions.progress.Progress": 510,
}
# bytes of downloaded pages waiting for the pipelines; past it Scrapy starts no new download (bounds memory
# when extraction lags)
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 8 * 1024 * 1024
