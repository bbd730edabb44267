"""Download failures get short, stable names: the keys of the run record's errors and skipped."""

from __future__ import annotations

import pytest
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from twisted.python.failure import Failure

from crawler.errors import error_detail, error_reason


@pytest.mark.parametrize(
    "exception, reason",
    [
        (DownloadTimeoutError("Getting http://a/ took longer than 2.0 seconds."), "timeout"),
        (CannotResolveHostError("DNS lookup failed: no results for hostname lookup: a.invalid."), "dns"),
        (DownloadFailedError("[<Failure ConnectionLost>]"), "connection_lost"),
        (ResponseDataLossError(), "connection_lost"),
        (
            DownloadCancelledError(
                "Expected to receive 62914560 bytes which is larger than download max size (20971520)"
            ),
            "too_large",
        ),
        (DownloadCancelledError(""), "too_large"),  # cancelled while reading a body without Content-Length
        (IgnoreRequest("Forbidden by robots.txt"), "skipped/robots_txt"),
        (
            IgnoreRequest("blocked address (a loopback address: robots.txt.example resolves to 127.0.0.1)"),
            "blocked_address",
        ),
        (IgnoreRequest("redirect loop: http://a/1 -> http://a/2"), "redirect_loop"),
        (IgnoreRequest("max redirections reached"), "too_many_redirects"),
        (
            IgnoreRequest(
                "Ignored response <200 http://a/> because its body (1085440 B compressed, 20971539 B decompressed "
                "so far) exceeded DOWNLOAD_MAXSIZE (20971520 B) during decompression."
            ),
            "too_large_decompressed",
        ),
        (IgnoreRequest("something else"), "ignored"),
        (KeyError("x"), "key_error"),
    ],
)
def test_error_reason(exception, reason):
    assert error_reason(Failure(exception)) == reason


def test_a_connection_failure_is_told_in_one_line_by_its_inner_reasons():
    # the message was the repr of twisted's list of failures: "[<twisted.python.failure.Failure OpenSSL...>]"
    from twisted.web._newclient import ResponseFailed

    inner = Failure(ConnectionError("handshake failed:\n  wrong version number"))
    try:
        try:
            raise ResponseFailed([inner])
        except ResponseFailed as exc:
            raise DownloadFailedError(str(exc)) from exc
    except DownloadFailedError:
        failure = Failure()
    assert error_detail(failure) == "ConnectionError: handshake failed: wrong version number"
    assert error_detail(Failure(DownloadTimeoutError("Getting http://a/ took longer than 2.0 seconds."))) == (
        "Getting http://a/ took longer than 2.0 seconds.")
