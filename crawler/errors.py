"""Errors, named: a user's mistake is one line and the crawl does not start; a download failure gets a short,
stable name (the keys of ``errors`` and ``skipped`` in the run record).

Scrapy 2.19 wraps Twisted's errors in its own (``DownloadTimeoutError``,
``CannotResolveHostError``, ...); older names are kept for other download
handlers. Refusals that Scrapy reports as ``IgnoreRequest`` are told apart
by their message.
"""

from __future__ import annotations

import re

from scrapy.exceptions import IgnoreRequest
from twisted.python.failure import Failure

# exception class name -> reason
BY_TYPE = {
    "DownloadTimeoutError": "timeout",
    "TimeoutError": "timeout",
    "TCPTimedOutError": "timeout",
    "CannotResolveHostError": "dns",
    "DNSLookupError": "dns",
    "DownloadConnectionRefusedError": "connection_refused",
    "ConnectionRefusedError": "connection_refused",
    "ConnectError": "connection_failed",
    "DownloadFailedError": "connection_lost",
    "ResponseFailed": "connection_lost",
    "ResponseNeverReceived": "connection_lost",
    "ConnectionLost": "connection_lost",
    "ConnectionDone": "connection_lost",
    "ResponseDataLossError": "connection_lost",
    "PotentialDataLoss": "connection_lost",
    "_DataLoss": "connection_lost",
    "UnsupportedURLSchemeError": "bad_url",
}
# (pattern in the message of an IgnoreRequest, reason); the first that matches wins
IGNORED = (
    (re.compile(r"^blocked address"), "blocked_address"),  # crawler.netguard; first: a host name may say anything
    (re.compile(r"Forbidden by robots\.txt", re.I), "skipped/robots_txt"),
    (re.compile(r"redirect loop", re.I), "redirect_loop"),
    (re.compile(r"max redirections", re.I), "too_many_redirects"),
    (re.compile(r"DOWNLOAD_MAXSIZE .* during decompression", re.I), "too_large_decompressed"),
    (re.compile(r"not in archive", re.I), "not_in_archive"),
)
TOO_LARGE = re.compile(r"larger than download max size|maxsize|exceeds", re.I)


def error_reason(failure: Failure) -> str:
    """The reason a request failed; a ``skipped/`` prefix marks a refusal that is not an error."""
    message = failure.getErrorMessage()
    if failure.check(IgnoreRequest):
        return next((reason for pattern, reason in IGNORED if pattern.search(message)), "ignored")
    name = type(failure.value).__name__
    if name == "DownloadCancelledError":
        # Scrapy cancels a download for one reason of its own: a body past DOWNLOAD_MAXSIZE
        # (the message says so when Content-Length announced it, and is empty when it did not)
        return "too_large" if TOO_LARGE.search(message) or not message else "cancelled"
    if name in BY_TYPE:
        return BY_TYPE[name]
    if TOO_LARGE.search(message):
        return "too_large"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().strip("_") or "error"


def error_detail(failure: Failure) -> str:
    """What a failure says, in one line: twisted's connection failures carry a list of inner failures, whose
    ``repr`` ("[<twisted.python.failure.Failure OpenSSL.SSL.Error: [...]>]") was the message."""
    value = failure.value  # Scrapy's DownloadFailedError wraps twisted's ResponseFailed, which holds them
    reasons = getattr(value, "reasons", None) or getattr(value.__cause__, "reasons", None)
    if isinstance(reasons, list) and reasons and all(isinstance(r, Failure) for r in reasons):
        message = "; ".join(f"{type(r.value).__name__}: {r.getErrorMessage()}" for r in reasons)
    else:
        message = failure.getErrorMessage() or type(failure.value).__name__
    return " ".join(message.split())[:500]


class ConfigError(Exception):
    """A bad site file, setting or spider argument."""


def reject_unknown_fields(table: dict, known, where: str) -> None:
    """One line naming the fields a data file (site file, schedule) has that it should not."""
    unknown = set(table) - set(known)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
