"""File helpers of the local backends (directory, spool): atomic writes and what killed processes left."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

_UMASK = os.umask(0o022)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK  # what open() would give: the mode of every other file the store writes


def remove_stale_temporaries(directory: Path) -> None:
    """Delete temporary files left by processes that no longer run (a kill -9 mid-write).

    This process's own are writes in progress: each component opens its own store on the same directory,
    and one opened mid-run must not delete another's half-written file.
    """
    for path in directory.glob("*.tmp"):
        pid = path.name.split("-", 1)[0].split(".", 1)[0]
        if pid.isdigit() and (int(pid) == os.getpid() or other_process_alive(int(pid))):
            continue
        unlink(path)


def other_process_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.parent / f"{os.getpid()}-{threading.get_ident()}-{path.name}.tmp"  # threads share the spool
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
