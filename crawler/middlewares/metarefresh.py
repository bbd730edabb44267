"""MetaRefreshMiddleware: Scrapy's, without decoding every page to look for a refresh most pages lack.

Scrapy 2.19 reads ``response.text[:4096]``, which decodes the whole body
(0.1-0.2 ms for a news page, in the one process that also downloads and
archives), and on a page that declares no encoding first tries to decode
all of it as ASCII and as UTF-8 to guess one. Here a refresh is ruled out on
the raw bytes; only pages that may hold one go on to Scrapy's own check, so
what redirects is unchanged.
"""

from __future__ import annotations

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as ScrapyMetaRefreshMiddleware
from scrapy.http import HtmlResponse
from w3lib.html import get_meta_refresh

# Scrapy scans the first 4,096 characters; no encoding spends more than 4 bytes on one
SCAN_BYTES = 4 * 4096


class MetaRefreshMiddleware(ScrapyMetaRefreshMiddleware):
    def process_response(self, request, response, spider=None):
        if isinstance(response, HtmlResponse) and not may_refresh(response, self._ignore_tags):
            return response
        return super().process_response(request, response)


def may_refresh(response: HtmlResponse, ignore_tags=("script", "noscript")) -> bool:
    """False when the start of the page surely holds no ``<meta http-equiv="refresh">`` that Scrapy would follow.

    Scrapy looks in the first 4,096 characters, at most 16 KB in any
    ASCII-compatible encoding, which spells the word "refresh" in ASCII bytes:
    most pages are ruled out by looking for it there, without knowing their
    encoding. Where it is (in a script, often), w3lib looks for the tag;
    only a page with one, or whose markup is not ASCII bytes (UTF-16 and
    UTF-32, with NUL bytes), goes on to Scrapy's check, which decodes it.
    """
    head = response.body[:SCAN_BYTES]
    if b"\x00" in head:
        return True
    if b"refresh" not in head.lower():
        return False
    # decoding as UTF-8 keeps every ASCII byte whatever the encoding: a tag Scrapy finds, this finds
    _, url = get_meta_refresh(head.decode("utf-8", "replace"), response.url, ignore_tags=ignore_tags)
    return url is not None
