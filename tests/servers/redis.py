"""A real redis-server on 127.0.0.1 for tests: a free port, its own directory, nothing of the system's.

    python -m tests.servers.redis [--appendonly]     # prints redis://127.0.0.1:<port>/0, serves until Ctrl-C

Tests use :class:`RedisServer` as a context manager. ``stop()`` kills it the
way a crash would and ``start()`` brings it back on the same port and
directory: with ``appendonly=True`` it comes back with its data (an AOF fsynced
on every write), as a production Redis with persistence would.
redis-server comes from Debian's packages (``make system-deps``).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis

from tests.servers.base import free_port

MISSING = ("redis-server is not installed: run `make system-deps` (tests/servers/install-redis) "
           "or apt-get install redis-server")



class RedisServer:
    def __init__(self, directory: Path | None = None, appendonly: bool = False, startup_timeout: float = 10.0):
        self.binary = shutil.which("redis-server")
        if not self.binary:
            raise RuntimeError(MISSING)
        self._tmp = None if directory else tempfile.TemporaryDirectory(prefix="redis-")
        self.directory = Path(directory or self._tmp.name)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.appendonly = appendonly
        self.startup_timeout = startup_timeout
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5)

    def start(self) -> RedisServer:
        """Start (or restart, on the same port) and wait until it answers PING."""
        restart = bool(self.port)
        for _ in range(1 if restart else 5):  # a free port may be taken between the probe and the bind: try another
            port = self.port if restart else free_port()
            command = [
                self.binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                "--save", "", "--daemonize", "no", "--protected-mode", "yes", "--logfile", "redis.log",
                "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", "always",
            ]
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.port = port
            if self._wait_ready():
                return self
            self.stop()
        log = self.directory / "redis.log"
        said = log.read_text()[-2000:] if log.exists() else "(no log)"
        raise RuntimeError(f"redis-server did not start; its log:\n{said}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1, socket_connect_timeout=1)
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    return False
                try:
                    if client.ping():
                        return True
                except redis.RedisError:
                    time.sleep(0.05)
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """Kill the server, as a crash or a lost machine would (no shutdown save)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        if self._tmp:
            self._tmp.cleanup()


class UnansweredProxy:
    """A TCP proxy on 127.0.0.1 to a Redis server that, for one command name, lets Redis run the command and
    then drops the connection before its answer comes back: a server that dies between doing and answering
    (every time, or the first ``times`` times: a line that fails once).

    Used as a context manager; ``url`` is the proxy's Redis URL.
    """

    def __init__(self, upstream_port: int, command: bytes, times: int | None = None):
        self.upstream_port = upstream_port
        self.command = command.upper()
        self.times = times
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.dropped = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> UnansweredProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            server = socket.create_connection(("127.0.0.1", self.upstream_port))
            asked = threading.Event()  # the command was passed on: its answer is not
            threading.Thread(target=self._relay, args=(client, server, asked, True), daemon=True).start()
            threading.Thread(target=self._relay, args=(server, client, asked, False), daemon=True).start()

    def _relay(self, source: socket.socket, target: socket.socket, asked: threading.Event, upstream: bool) -> None:
        try:
            while data := source.recv(65536):
                if not upstream and asked.is_set():  # Redis ran it and answered: the answer never arrives
                    self.dropped += 1
                    break
                # marked before it is passed on: Redis may answer before this thread runs again
                if (upstream and f"${len(self.command)}\r\n".encode() + self.command + b"\r\n" in data.upper()
                        and (self.times is None or self.dropped < self.times)):
                    asked.set()
                target.sendall(data)
        except OSError:
            pass
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a throwaway redis-server on 127.0.0.1")
    parser.add_argument("--appendonly", action="store_true", help="keep the data across a restart (AOF)")
    args = parser.parse_args(argv)
    with RedisServer(appendonly=args.appendonly) as server:
        print(server.url, flush=True)
        try:
            server.process.wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    sys.exit(main())
