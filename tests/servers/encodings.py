"""Content codings as web servers send them, for the test servers: every coding a news site may use.

    encode(body, "br") -> ("br", compressed bytes)

``CODINGS`` lists the ones the crawler must read back byte for byte, live and
replayed: gzip, x-gzip, deflate as zlib and raw (some Microsoft servers),
br, zstd, two codings stacked, and identity. ``LIAR`` is a server that says
gzip and sends the page as it is. :func:`send` writes a reply with a
Content-Length, or chunked, as servers that stream do.
"""

from __future__ import annotations

import gzip
import sys
import zlib
from functools import lru_cache

import brotli

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

CHUNK = 4096  # bytes per chunk of a chunked reply


def _raw_deflate(body: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    return compressor.compress(body) + compressor.flush()


def _gzip(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=6)  # a usual server setting (nginx's default is 1, zlib's 6)


def _br(body: bytes) -> bytes:
    return brotli.compress(body, quality=5)  # a dynamic-page level (ngx_brotli's default is 6; 11 for static files)


# coding name -> (Content-Encoding header, encoder)
CODINGS = {
    "identity": ("", lambda body: body),
    "gzip": ("gzip", _gzip),
    "x-gzip": ("x-gzip", _gzip),
    "deflate": ("deflate", zlib.compress),
    "deflate-raw": ("deflate", _raw_deflate),
    "br": ("br", _br),
    "zstd": ("zstd", zstd.compress),
    "gzip-br": ("gzip, br", lambda body: _br(_gzip(body))),  # applied in the order listed
}
LIAR = "gzip-liar"  # says gzip, sends the page as it is
ALL = (*CODINGS, LIAR)


def encode(body: bytes, coding: str) -> tuple[str, bytes]:
    """(Content-Encoding header value, body as sent) of a page served in ``coding``."""
    if coding == LIAR:
        return "gzip", body
    header, encoder = CODINGS[coding]
    return header, encoder(body)


# Compressed once per page and coding, as news sites' CDNs do: compressing on every request took a third of
# a core from the crawler that the benchmark measures. For bodies that are the same on every request.
_encode_once = lru_cache(maxsize=2048)(encode)


def send(handler, status: int, headers: list[tuple[str, str]], body: bytes, coding: str = "identity",
         chunked: bool = False, same_body: bool = True) -> None:
    """Reply through a BaseHTTPRequestHandler: the body in ``coding``, with a Content-Length or chunked.
    ``same_body=False`` for a body made anew on each request, which the cache would only fill."""
    header, sent = (_encode_once if same_body else encode)(body, coding)
    handler.send_response(status)
    for name, value in headers:
        handler.send_header(name, value)
    if header:
        handler.send_header("Content-Encoding", header)
    handler.send_header("Vary", "Accept-Encoding")
    if chunked:
        handler.send_header("Transfer-Encoding", "chunked")
    else:
        handler.send_header("Content-Length", str(len(sent)))
    handler.end_headers()
    if handler.command == "HEAD":
        return
    try:
        if not chunked:
            handler.wfile.write(sent)
            return
        for start in range(0, len(sent), CHUNK):
            piece = sent[start:start + CHUNK]
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        handler.wfile.write(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):  # the client went away mid-reply
        pass
