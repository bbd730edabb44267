"""The archive readers other people wrote, run by the tests over our WARC and WACZ files.

pywb (``wb-manager``, ``wayback``), py-wacz (``wacz validate``), cdxj-indexer
and ``warcio check`` live in their own virtualenv, ``.venv/tools``, installed
by ``make system-deps`` (tests/servers/install-archive-tools): pywb's pins
(redis 2.10, brotlipy) do not fit the project's.

:class:`Wayback` is pywb serving one collection on a free port of 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.servers.base import ROOT, free_port, stop_process

TOOLS = ROOT / ".venv" / "tools" / "bin"
MISSING = "the archive tools are not installed: run `make system-deps` (tests/servers/install-archive-tools)"


def tool(name: str) -> str:
    path = TOOLS / name
    if not path.exists():
        raise RuntimeError(f"{MISSING}; {path} is missing")
    return str(path)


def run_tool(name: str, *args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([tool(name), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False,
                          env={"PATH": f"{TOOLS}:/usr/bin:/bin", "PYTHONWARNINGS": "ignore"})


class Wayback:
    """pywb's ``wayback`` over a collection of the given WARC or WACZ files, in ``directory``.

    pywb 2.10 takes a WACZ only by unpacking it (its WARCs and index) into the collection."""

    COLLECTION = "archive"

    def __init__(self, directory: Path, files: list[Path]):
        self.directory = directory
        self.files = files
        self.process: subprocess.Popen | None = None
        self.base_url = ""

    def __enter__(self) -> Wayback:
        self.directory.mkdir(parents=True, exist_ok=True)
        unpack = ("--unpack-wacz",) if any(f.name.endswith(".wacz") for f in self.files) else ()
        for args in (("init", self.COLLECTION), ("add", *unpack, self.COLLECTION, *map(str, self.files))):
            done = run_tool("wb-manager", *args, cwd=self.directory)
            if done.returncode:
                raise RuntimeError(f"wb-manager {args[0]} failed: {done.stderr[-2000:]}")
        for _ in range(5):  # a free port may be taken before wayback binds it: try another
            port = free_port()
            self.process = subprocess.Popen([tool("wayback"), "-b", "127.0.0.1", "-p", str(port)], cwd=self.directory,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.base_url = f"http://127.0.0.1:{port}"
            if self._ready():
                return self
            self.stop()
        raise RuntimeError("pywb's wayback did not start")

    def _ready(self, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                urllib.request.urlopen(f"{self.base_url}/{self.COLLECTION}/", timeout=2).close()
                return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        return False

    def raw(self, url: str, timestamp: str) -> tuple[int, dict[str, str], bytes]:
        """pywb's answer for ``url`` at ``timestamp`` in identity mode (``id_``): the archived page, not rewritten."""
        request = urllib.request.Request(f"{self.base_url}/{self.COLLECTION}/{timestamp}id_/{url}",
                                         headers={"Accept-Encoding": "identity"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        stop_process(self.process)
