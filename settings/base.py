"""Project settings. Every setting a user may change, grouped by prefix, enabling flag first.

Override on the command line (``-s NAME=value``), in a site file's
``[settings]`` table, or in an environment module (``settings.dev``,
``settings.prod``) selected with ``SCRAPY_SETTINGS_MODULE``.
"""

import os

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
SPIDER_LOADER_CLASS = "crawler.spiderloader.SiteSpiderLoader"
COMMANDS_MODULE = "crawler.commands"
LOG_FORMATTER = "crawler.logformatter.ArchiveLogFormatter"
STATS_CLASS = "crawler.stats.StatsCollector"  # Scrapy's, without a deprecation shim on every counter
LOG_LEVEL = "INFO"
LOGSTATS_INTERVAL = 0  # replaced by the progress line (PROGRESS_INTERVAL)
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

# --- where documents, WARC, manifests and run records go (see README: store layout) -----------
STORE_URI = os.environ.get("STORE_URI", "archive")  # a directory, or s3://bucket/prefix
STORE_BACKENDS = {}  # more URI schemes: {"gs": "mypackage.GcsStorage"} (see pipelines.storage)
STORE_BACKENDS_BASE = {  # scheme -> storage class; "" is a plain directory path
    "": "pipelines.storage.local.LocalStorage",
    "file": "pipelines.storage.local.LocalStorage",
    "s3": "pipelines.storage.s3.S3Storage",
}
STORE_MANIFEST_SYNC_EVERY = 200  # articles; on S3 the manifest object is re-uploaded this often
STORE_SPOOL_DIR = os.environ.get("STORE_SPOOL_DIR", os.path.join(os.path.expanduser("~"), ".cache", "newsarchive", "spool"))
STORE_THREADS = 8  # writes in flight (S3 uploads overlap; local writes are quick)
STATE_DIR = os.environ.get("NEWSARCHIVE_STATE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "newsarchive"))
OUTPUT_FORMAT = "frontmatter"  # or plain

# --- S3 (boto3's credential chain: env, profile, instance role; AWS_ENDPOINT_URL is honoured) --
S3_ENDPOINT_URL = ""  # e.g. http://127.0.0.1:9000 for MinIO / SeaweedFS; empty: AWS_ENDPOINT_URL or AWS
S3_MAX_ATTEMPTS = 5  # per request, first try included (boto3 adaptive retry mode)
S3_MULTIPART_THRESHOLD = 16 * 1024 * 1024  # bytes; WARC files above this go up in parts
S3_OUTAGE_PAUSE = 30  # seconds; after an upload fails past its retries, new objects go to the spool this long
S3_PROFILE = ""
S3_REGION = ""

# --- web archive -------------------------------------------------------------------------------
ARCHIVE_ENABLED = True
ARCHIVE_CDXJ = False  # also write warc/<site>/<file>.cdxj, each WARC file's CDXJ index, when the crawl closes
ARCHIVE_GZIP_LEVEL = 2  # ISA-L level 0-3 of each record: 3 gives 3% smaller files for half again the CPU (README: performance)
ARCHIVE_MAX_SIZE = 100 * 1024 * 1024  # bytes; a WARC file rotates past this
ARCHIVE_QUEUE_SIZE = 256  # responses waiting for the WARC writer thread
ARCHIVE_QUEUE_BYTES = 32 * 1024 * 1024  # and their bodies' bytes; past either, downloads wait for the writer

# --- replay ------------------------------------------------------------------------------------
REPLAY_WARC = ""  # a WARC file, directory or s3:// prefix: responses come from there, never the network
REPLAY_STREAM = False  # internal: set by `scrapy replay`, not a user setting

# --- extraction and cleaning ---------------------------------------------------------------------
EXTRACT_FAVOR_PRECISION = True  # measured on the dev corpus: 4-gram F1 0.972 vs 0.955 (README)
EXTRACT_INCLUDE_COMMENTS = False
EXTRACT_INCLUDE_TABLES = True
EXTRACT_MAX_BYTES = 10 * 1024 * 1024  # a larger HTML page is refused as too_large
EXTRACT_MIN_WORDS = 30  # fewer words of text: no_article
EXTRACT_TIMEOUT = 60  # seconds per page; the worker running it is replaced
EXTRACT_WORKERS = -1  # worker processes; -1: one per core, 0: extract in the crawl process
# Linux: the crawl process runs as SCHED_BATCH, so that its many wake-ups per page wait for a worker's
# time slice instead of cutting into it (pipelines/cpupolicy.py; not when started under chrt already)
EXTRACT_WORKERS_FIRST = True
CLEAN_ENABLED = True

# --- sites, incremental crawls ------------------------------------------------------------------
SITES_DIRS = []  # extra directories of site files (TOML), after crawler/sites
REVISIT_AFTER = 24 * 3600  # seconds; an archived article is not fetched again sooner (0: always refetch)
JOB_NAME = ""  # set by the scheduler: the run record's "job"
CRAWL_ID = ""  # empty: <spider>-<UTC time>-<random>; workers of one crawl share one (needed with FRONTIER_URL)
WORKER_ID = ""  # names this worker's files when several share CRAWL_ID; with FRONTIER_URL, default <host>-<pid>
JOBDIR = ""  # a directory: pause (one SIGTERM/Ctrl-C) and resume a crawl, with the same CRAWL_ID (README: JOBDIR)
DUPEFILTER_CLASS = "crawler.dupefilter.ResumableDupeFilter"  # with JOBDIR, a crawl killed mid-way loses no request

# --- shared frontier: many workers, one crawl (scrapy-redis; README: many workers) --------------
FRONTIER_URL = os.environ.get("FRONTIER_URL", "")  # redis://[:password@]host:port/db; empty: a frontier per process
FRONTIER_EXPIRE = 7 * 24 * 3600  # seconds; an unfinished crawl's keys (queue, dupefilter) outlive its last worker this long
FRONTIER_IDLE_TIMEOUT = 30  # seconds with nothing queued and no worker busy, then a worker stops

# --- progress ------------------------------------------------------------------------------------
PROGRESS_INTERVAL = 30  # seconds between progress lines; 0: none
PROGRESS_SUMMARY = True  # summary table on stderr at the end

# --- network safety and politeness ---------------------------------------------------------------
ALLOW_PRIVATE_NETWORKS = False  # loopback, private and reserved addresses (metadata/link-local: never)
BOT_CONTACT = os.environ.get("BOT_CONTACT", "")  # a URL or e-mail that site owners can reach you at
USER_AGENT = "newsarchive/0.1 (+{contact})"  # {contact}: BOT_CONTACT, else the project's page (crawler.useragent)
# Scrapy's own list asks for zstd too; pywb 2.10 and warcio 1.8 cannot decode zstd, so an archive of such pages
# would not replay in standard tools (docs/archive.md). A server that sends zstd anyway is decoded and archived.
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
    "Accept-Encoding": "gzip, deflate, br",
}
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_ITEMS = 1  # items of one response in the pipelines at once: a page yields one, and Scrapy starts a task per slot per response
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25  # seconds between requests to one site (AutoThrottle adapts it)
DOWNLOAD_TIMEOUT = 30  # seconds
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024  # bytes; larger responses are cancelled (decompressed size too)
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024  # bytes; larger responses are logged
RETRY_ENABLED = True
RETRY_AFTER_MAX = 120  # seconds; a longer Retry-After is shortened to this
RETRY_BACKOFF_BASE = 1.0  # seconds; doubles with each retry of a request
RETRY_BACKOFF_MAX = 30.0  # seconds
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_TIMES = 3
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19's code-execution server on localhost: a crawler of strangers' pages needs none
DNS_TIMEOUT = 15  # seconds
TWISTED_DNS_RESOLVER = "crawler.netguard.GuardedResolver"

DOWNLOADER_MIDDLEWARES = {
    "crawler.netguard.AddressGuardMiddleware": 50,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.metarefresh.MetaRefreshMiddleware": 580,  # Scrapy's place; rules out a refresh without decoding
    "crawler.middlewares.retry.RetryAfterMiddleware": 550,
    "crawler.middlewares.redirects.RedirectLoopMiddleware": 610,  # sees redirects before RedirectMiddleware (600)
    "crawler.archive.record.ArchiveMiddleware": 950,
    "crawler.archive.replay.ReplayMiddleware": 960,
}
ADDONS = {
    "crawler.redact.RedactSecrets": 0,  # no secret in the log, Scrapy's "Overridden settings" included
    "crawler.useragent.ContactUserAgent": 0,  # BOT_CONTACT into USER_AGENT
    "crawler.frontier.Frontier": 10,  # FRONTIER_URL
    "crawler.components.SkipDisabledComponents": 20,  # after any add-on that may switch one on
}
ITEM_PIPELINES = {
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.clean.CleanPipeline": 200,
    "pipelines.normalize.NormalizePipeline": 300,
    "pipelines.store.StorePipeline": 500,
}
EXTENSIONS = {
    "crawler.extensions.spool.SpoolFlush": 490,  # before the run record: it counts spooled/flushed objects
    "crawler.extensions.runrecord.RunRecord": 500,
    "crawler.extensions.progress.Progress": 510,
    "crawler.extensions.loglevel.SkipUnloggedRecords": 0,
    "crawler.extensions.collector.CollectLess": 0,
}
# new container objects between two passes of the cycle collector, once the crawl has started (-1: Python's 700)
GC_THRESHOLD = 20_000
# a response stays "active" until its items leave the pipeline: this bounds memory when extraction lags
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 8 * 1024 * 1024
