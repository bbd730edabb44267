"""RedirectLoopMiddleware: a redirect back to a URL already on the chain is a loop, said so at once.

Scrapy follows it otherwise, and its duplicate filter then drops the repeated
request without a word: the page would vanish from the run record. Sits just
outside RedirectMiddleware (600) so that it sees the redirect first.
"""

from __future__ import annotations

from urllib.parse import urldefrag, urljoin

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from w3lib.url import safe_url_string

REDIRECT_STATUSES = {301, 302, 303, 307, 308}


def redirect_target(request: Request, response: Response) -> str:
    """Where a redirect response points, resolved as Scrapy resolves it; '' when it points nowhere."""
    header = response.headers.get(b"Location") if response.status in REDIRECT_STATUSES else None
    if header is None:
        return ""
    location = safe_url_string(header.decode("latin-1"))
    if location.startswith("//"):
        location = f"{request.url.split(':', 1)[0]}:{location}"
    return urldefrag(urljoin(request.url, location))[0]


class RedirectLoopMiddleware:
    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("dont_redirect"):
            return response
        target = redirect_target(request, response)
        chain = {urldefrag(url)[0] for url in [*request.meta.get("redirect_urls", []), request.url]}
        if target and target in chain:
            raise IgnoreRequest(f"redirect loop: {request.url} -> {target}")
        return response
