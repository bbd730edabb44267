"""``scrapy browse [--port N]``: search and read the archive in a browser, on 127.0.0.1.

Search by words (title and text), title, site and publication dates; read a
document with its front matter and revisions; open the page it came from as
archived in the WARC files, shown without scripts and without loading
anything from the network. Read-only. It listens on loopback only unless
``--bind`` names another address.
"""

from __future__ import annotations

import errno
import ipaddress
import signal
import sys
import threading
import time
from typing import Any, ClassVar

from scrapy.exceptions import UsageError

from crawler.cli import ProjectCommand, whole_number
from crawler.config import check_existing_store
from crawler.errors import ConfigError
from pipelines.browse.app import Browser, make_server
from pipelines.browse.search import SearchIndex
from pipelines.storage import storage_from_settings

DEFAULT_PORT = 8642


class Command(ProjectCommand):
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "[-s STORE_URI=...] [--port N] [--bind ADDRESS]"

    def short_desc(self) -> str:
        return "Search and read the archive in a browser (a local page on 127.0.0.1), read-only"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--port", default=str(DEFAULT_PORT), metavar="N",
                            help=f"port to listen on (default {DEFAULT_PORT}; 0: any free port)")
        parser.add_argument("--bind", default="127.0.0.1", metavar="ADDRESS",
                            help="address to listen on (default 127.0.0.1: this machine only)")

    def run_checked(self, args: list[str], opts: Any) -> None:
        if args:
            raise UsageError("browse takes no arguments; name the store with -s STORE_URI=…")
        # checked here, not by argparse: one line naming the problem (and before the store is indexed)
        port = whole_number("--port", opts.port, 0, 65535, "give a port from 1 to 65535 (0: any free port)")
        check_existing_store(self.settings)
        try:
            loopback = ipaddress.ip_address(opts.bind).is_loopback
        except ValueError:
            raise ConfigError(f"--bind {opts.bind!r}: give an IP address (127.0.0.1, ::1, 0.0.0.0)") from None
        storage = storage_from_settings(self.settings)
        index = SearchIndex.for_store(storage, self.settings.get("STATE_DIR"))
        started = time.monotonic()
        read = index.sync(storage, progress=lambda n: sys.stderr.write(f"browse: indexing… {n:,} documents\n"))
        sys.stderr.write(f"browse: {len(index):,} documents of {storage.uri} "
                         f"({read:,} newly indexed in {time.monotonic() - started:.1f} s)\n")
        try:
            server = make_server(Browser(index, storage), opts.bind, port)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(f"--port {port}: taken by another program; give another (0: any free port)") \
                    from None
            raise ConfigError(f"--bind {opts.bind} --port {port}: {exc.strerror}") from None
        host, port = server.socket.getsockname()[:2]  # as bound (server_address's type allows bytes)
        shown = f"[{host}]" if ":" in host else host
        sys.stdout.write(f"browse: http://{shown}:{port}/  (read-only; Ctrl-C stops)\n")
        sys.stdout.flush()
        if not loopback:
            sys.stderr.write(f"warning: listening on {opts.bind}: anyone who can reach this machine can read "
                             "the archive\n")
        # SIGTERM stops as Ctrl-C does; shutdown() must come from another thread than serve_forever's
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            index.close()
