"""A worker process of :mod:`pipelines.workers.pool`: read a task from its pipe, run it, write the result back.

Messages each way are frames: an 8-byte length, then a pickle. The worker
says it is ready with an empty frame, once its modules are loaded, so that
the pool tells a worker that cannot start from a page that crashed one.
"""

from __future__ import annotations

import importlib
import os
import pickle
import signal
import struct

from pipelines.workers import cpupolicy

# what every worker needs: loaded once in the forkserver, so that each worker is a fork of a warm process
PRELOAD = ["trafilatura", "trafilatura.xml", "pipelines.extraction.page", "pipelines.extraction.metadata", "pipelines.extraction.classify"]

FRAME = struct.Struct("!Q")  # each message: its length, then the pickle; length 0 says "ready"
PIPE_SIZE = 1 << 20  # bytes; Linux's default pipe-max-size: a page of up to 1 MB goes in one write


def serve(tasks: int, results: int, policy: int | None = None) -> None:
    """A worker's life: read a task, run it, write the result, until the task pipe ends.

    ``policy``: the scheduling policy to run under (:mod:`pipelines.workers.cpupolicy`).
    """
    cpupolicy.adopt(policy)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the crawl's to handle: it stops the pool itself
    warm_up()
    try:
        write_all(results, FRAME.pack(0))
        while True:
            message = read_message(tasks)
            if message is None:  # the pool closed the pipe (or the crawl process died)
                return
            write_all(results, framed(run(message)))
    except BrokenPipeError:  # the pool closed while a task ran: nobody waits for its result
        return


def run(message: bytes) -> bytes:
    """The pickled ``(ok, value)`` reply to one pickled ``(function, args)`` task."""
    try:
        function, args = pickle.loads(message)
        reply = (True, function(*args))
    except Exception as exc:
        reply = (False, picklable(exc))
    try:
        return pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        return pickle.dumps((False, RuntimeError(f"the result did not pickle: {type(exc).__name__}: {exc}")))


def framed(data: bytes) -> bytes:
    return FRAME.pack(len(data)) + data


def picklable(exc: Exception) -> Exception:
    """An exception the waiting caller can be given: the same one when it pickles back, else one that can.

    StopIteration becomes RuntimeError too: an asyncio future refuses it
    (trafilatura's code calls ``next()`` bare, so a page can raise one).
    """
    if isinstance(exc, (StopIteration, StopAsyncIteration)):
        return RuntimeError(f"{type(exc).__name__} raised by the task")
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def read_message(fd: int) -> bytes | None:
    header = read_exactly(fd, FRAME.size)
    if header is None:
        return None
    (size,) = FRAME.unpack(header)
    return read_exactly(fd, size)


def read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, PIPE_SIZE))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def warm_up() -> None:
    """Import the heavy modules once per worker, not on its first page (loaded already when preloaded)."""
    for name in PRELOAD:
        importlib.import_module(name)
