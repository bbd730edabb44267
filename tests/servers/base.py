"""A test server is a subprocess on 127.0.0.1 that binds port 0 and prints its URL on its first line.

Tests use it as a context manager; ``make demo`` runs it too. Nothing is
mocked: the crawler talks HTTP to a real server.
"""

from __future__ import annotations

import os
import random
import select
import socket
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class ServerProcess:
    def __init__(self, module: str, *args: str, startup_timeout: float = 20.0):
        self.command = [sys.executable, "-m", module, *args]
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        self.base_url = ""

    def __enter__(self) -> ServerProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT, env=env, text=True
        )
        assert self.process.stdout is not None
        line = self._first_line()
        if not line.startswith("http"):
            self.process.kill()
            raise RuntimeError(f"{' '.join(self.command)} did not start (said {line!r})")
        self.base_url = line.rstrip("/")
        return self

    def _first_line(self) -> str:
        """The server's first line, or '' if it says nothing within ``startup_timeout`` (never hang the suite)."""
        ready, _, _ = select.select([self.process.stdout], [], [], self.startup_timeout)
        return self.process.stdout.readline().strip() if ready else ""

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen | None) -> None:
    """Terminate a server the tests started, killing it if it does not go within 5 s."""
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    """A port of 127.0.0.1 free now, below the range the kernel gives outgoing connections: a port from there
    could become a client's (another test's crawl, in another test process) before the server binds it, or
    between a stop and a restart of the server on it. Another test may still pick the same, so callers retry."""
    low = _ephemeral_low()
    for _ in range(200):
        port = random.randrange(10000, low) if low > 11000 else 0
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("no free port of 127.0.0.1 below the ephemeral range")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0  # not Linux: the kernel's choice


def serve(handler: type[BaseHTTPRequestHandler], port: int = 0) -> None:
    """The main loop of an HTTP test server: bind 127.0.0.1, print the URL as the first line, serve until stopped."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
