"""Extraction quality: corpora of hand-checked pages (``corpus``) and how the project scores on them (``quality``).

Used by ``scrapy evaluate``, ``make bench`` and the tests; the crawl never imports it. It stands above
``extraction/`` and ``archive/`` (a corpus may be a WARC file), so neither imports it.
"""
