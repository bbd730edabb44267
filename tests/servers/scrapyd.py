"""Scrapyd on 127.0.0.1 for tests: a free port, its own directory for eggs, logs and its database.

Scrapyd reads ``scrapyd.conf`` from its working directory; ours lives in a
temporary directory, so nothing of a user's Scrapyd set-up is read, and the
crawls it starts find the project only in the egg a test uploads.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from tests.servers.base import ServerProcess, free_port

CONFIG = """[scrapyd]
bind_address = 127.0.0.1
http_port = {port}
eggs_dir = {root}/eggs
logs_dir = {root}/logs
dbs_dir = {root}/dbs
items_dir =
jobs_dir =
poll_interval = 0.5
max_proc = 2
"""


class ScrapydServer(ServerProcess):
    def __init__(self, startup_timeout: float = 30.0):
        super().__init__("scrapyd", startup_timeout=startup_timeout)
        self.root = Path(tempfile.mkdtemp(prefix="scrapyd-"))
        self.base_url = f"http://127.0.0.1:{free_port()}"

    def __enter__(self) -> ScrapydServer:
        for attempt in range(3):
            if attempt:  # the free port was taken before Scrapyd bound it: another one
                self.base_url = f"http://127.0.0.1:{free_port()}"
            if self._launch():
                return self
        self._fail("exited")

    def _fail(self, how: str) -> None:
        message = (self.root / "scrapyd.err").read_text()[-2000:]
        self.stop()
        raise RuntimeError(f"scrapyd did not start ({how}): {message}")

    def _launch(self) -> bool:
        """Start Scrapyd and ask it until it answers; False if it exited first (its port taken)."""
        port = self.base_url.rsplit(":", 1)[1]
        (self.root / "scrapyd.conf").write_text(CONFIG.format(port=port, root=self.root))
        env = {key: value for key, value in os.environ.items() if key != "SCRAPY_SETTINGS_MODULE"}
        with open(self.root / "scrapyd.err", "wb") as errors:
            self.process = subprocess.Popen(
                self.command, cwd=self.root, env=env, stdout=subprocess.DEVNULL, stderr=errors
            )
        deadline = time.monotonic() + self.startup_timeout
        while True:  # Scrapyd prints no URL: ask it until it answers
            try:
                if self.get("daemonstatus.json")["status"] == "ok":
                    return True
            except OSError:
                pass
            if self.process.poll() is not None:
                return False
            if time.monotonic() > deadline:
                self._fail(f"no answer within {self.startup_timeout:g} s")
            time.sleep(0.2)

    def get(self, endpoint: str, **params: str) -> dict:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(self.url(f"/{endpoint}{query}"), timeout=10) as response:
            return json.load(response)

    def post(self, endpoint: str, fields: list[tuple[str, str]], files: dict[str, bytes] | None = None) -> dict:
        """A multipart/form-data POST, as ``curl -F`` sends it (Scrapyd's addversion.json needs one for the egg)."""
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                 for name, value in fields]
        for name, data in (files or {}).items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}.egg"\r\n'
                         f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(self.url(f"/{endpoint}"), data=body, method="POST",
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def log(self, project: str, spider: str, job: str) -> str:
        path = self.root / "logs" / project / spider / f"{job}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.root, ignore_errors=True)
