"""Is a page an article, or something else (a video, a gallery, a listing)?"""

from __future__ import annotations

from lxml.html import HtmlElement

from pipelines.extraction.metadata import ARTICLE_TYPES, PageMeta

# schema.org types that mark a page as something other than an article, with the reason logged
NON_ARTICLE_TYPES = {
    "VideoObject": "video", "VideoGallery": "video", "ImageGallery": "gallery", "MediaGallery": "gallery",
    "CollectionPage": "listing", "SearchResultsPage": "listing", "ProfilePage": "listing",
}


def classify(tree: HtmlElement, meta: PageMeta, url: str) -> str:
    """``article``, or what else the page is (video, gallery, listing)."""
    if meta.ld_types & ARTICLE_TYPES or meta.og_type == "article":
        return "article"
    for ld_type, kind in NON_ARTICLE_TYPES.items():
        if ld_type in meta.ld_types:
            return kind
    if meta.og_type.startswith("video"):
        return "video"
    if link_density(tree) > 0.5:
        return "listing"
    return "article"


def link_density(tree: HtmlElement) -> float:
    """Share of the visible body text that sits inside links: high on section fronts and tag pages."""
    visible = "not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)"
    total = sum(len(t.strip()) for t in tree.xpath(f"//body//text()[{visible}]"))
    linked = sum(len(t.strip()) for t in tree.xpath(f"//body//a//text()[{visible}]"))
    return linked / total if total else 0.0
