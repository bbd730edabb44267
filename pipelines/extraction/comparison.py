"""trafilatura's comparison with readability, left out where it cannot change the extraction.

After its own extractor, trafilatura (unless asked to be ``fast``) runs readability over a
copy of the page and keeps readability's text instead of its own when that is more than twice
as long, or when its own has no paragraph text; for a short or unclean result it asks jusText
too. Readability's text is made of the page's text: it drops script and style and keeps a
subset of the rest, in order, and writes "VIDEO" into a video's iframe (pages with elements whose
text does not survive its round trip, :data:`RAW_TEXT`, are always compared). So it can never be
longer than the page's whole text without its scripts and styles, plus six characters an
iframe (:func:`readable_size`). When that is at most twice the extracted text, and the text is
long and clean enough that jusText is not asked, the comparison gives back what it was given,
and it is not run: the same article, page for page (tested on the bench and kinds pages; none
differs on the dev and fundus-dev pages either), for less CPU.

Measured side by side (``python -m bench.extraction comparison``: extraction and cleaning in one process,
alternating, medians): the 90 bench pages 22.7 against 23.8 ms a page, **4.7% less CPU** (10 pairs;
left out in 42 of their 95 extractions); the 205 dev and fundus-dev pages 31.6 against 33.9 ms,
6.5% less (6 pairs; left out in 104 of 221).
"""

from __future__ import annotations

import functools
import inspect
import logging
from typing import TYPE_CHECKING, Any

from lxml.etree import tostring

if TYPE_CHECKING:
    from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

VIDEO = len(" VIDEO")  # what readability may add in an iframe: the word and a space before it
# Elements whose content libxml2 reads as raw text. Readability's article is written out as XML and parsed
# again as HTML: in these, "&" comes back as "&amp;" and "<" as "&lt;" (after <plaintext>, every closing tag
# that follows too), so readability's text can be longer than the page's. Pages with them are compared.
RAW_TEXT = ("xmp", "plaintext", "noembed", "noframes")
_SIGNATURE = ["cleaned_tree", "raw_tree", "body", "text", "options"]  # trafilatura 2.3's compare_extraction


@functools.cache
def install() -> bool:
    """Put :func:`cannot_change` before trafilatura's comparison in this process; whether it is there.

    trafilatura's extraction calls ``trafilatura.core.compare_extraction`` by name: a wrapper put
    there is called instead. A trafilatura whose comparison takes other arguments keeps its own.
    """
    import trafilatura.core

    original = trafilatura.core.compare_extraction
    if list(inspect.signature(original).parameters) != _SIGNATURE:
        logger.debug("trafilatura's compare_extraction takes other arguments: always run")
        return False

    @functools.wraps(original)
    def compare_extraction(cleaned_tree: Any, raw_tree: Any, body: Any, text: str, options: Any) -> Any:
        if cannot_change(raw_tree, body, text, options):
            return body, text
        return original(cleaned_tree, raw_tree, body, text, options)

    compare_extraction.__wrapped__ = original  # type: ignore[attr-defined]
    trafilatura.core.compare_extraction = compare_extraction
    return True


def cannot_change(raw_tree: HtmlElement, body: Any, text: str, options: Any) -> bool:
    """Whether trafilatura's ``compare_extraction`` would give back ``body`` and ``text`` as they are.

    Its conditions, read in trafilatura 2.3.1's ``external.py``: jusText is asked for a text shorter
    than ``min_extracted_size`` or a body holding a nav, aside, figure, ... (``SANITIZED_XPATH``);
    readability's text replaces the own when it is more than twice as long, or more than twice
    ``min_extracted_size`` while the own has no paragraph text or more tables than paragraphs;
    recall mode has more conditions and is left to trafilatura.
    """
    from trafilatura.external import SANITIZED_XPATH

    if options.focus == "recall":
        return False
    size, least = len(text), options.min_extracted_size
    if size < least or body.xpath(SANITIZED_XPATH):
        return False
    most = readable_size(raw_tree)
    if most is None or most > 2 * size:
        return False
    return most <= 2 * least or (
        bool(body.xpath(".//p//text()")) and len(body.findall(".//table")) <= len(body.findall(".//p"))
    )


def readable_size(tree: HtmlElement) -> int | None:
    """The most characters readability's text of ``tree`` can hold, as trafilatura measures it (spaces collapsed),
    for a tree decoded as :func:`pipelines.extraction.page.decode_page` does (which makes U+000B and U+000C
    spaces: XML writes them as U+FFFD); None for a tree with :data:`RAW_TEXT` elements, which has no such bound.

    The page's text, spaces collapsed, less each script's and style's: taking a run of text out of a
    string removes its characters and the spaces inside it, and never adds one. Readability's text is
    such a string with runs taken out, plus "VIDEO" in an iframe.
    """
    size = len(" ".join(tostring(tree, method="text", encoding="unicode").split()))
    for element in tree.iter("script", "style", "iframe", *RAW_TEXT):
        if element.tag == "iframe":
            size += VIDEO
        elif element.tag in RAW_TEXT:
            return None
        elif element.text:
            size -= len(" ".join(element.text.split()))
    return size
